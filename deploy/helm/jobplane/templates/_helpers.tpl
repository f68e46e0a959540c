{{/* Chart name, truncated to the 63 characters a label value allows. */}}
{{- define "jobplane.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release-chart unless the release name already contains the chart name. */}}
{{- define "jobplane.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "jobplane.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Kubernetes recommended labels. */}}
{{- define "jobplane.labels" -}}
helm.sh/chart: {{ include "jobplane.chart" . }}
{{ include "jobplane.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: jobplane
{{- end }}

{{- define "jobplane.selectorLabels" -}}
app.kubernetes.io/name: {{ include "jobplane.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels and selector of one role: call with (dict "root" $ "role" "worker"). */}}
{{- define "jobplane.roleLabels" -}}
{{ include "jobplane.labels" .root }}
app.kubernetes.io/component: {{ .role }}
{{- end }}

{{- define "jobplane.roleSelectorLabels" -}}
{{ include "jobplane.selectorLabels" .root }}
app.kubernetes.io/component: {{ .role }}
{{- end }}

{{- define "jobplane.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "jobplane.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "jobplane.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "jobplane.secretName" -}}
{{- default (include "jobplane.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{/* Fail early when no database is configured: a pod must not start an embedded PostgreSQL. */}}
{{- define "jobplane.checkDatabase" -}}
{{- if not (or .Values.database.url .Values.database.host .Values.secrets.existingSecret) }}
{{- fail "set database.url, database.host or secrets.existingSecret (holding DATABASE_URL): Jobplane needs an external PostgreSQL in Kubernetes" }}
{{- end }}
{{- end }}

{{/* Environment shared by every container (roles and the migration Job). */}}
{{- define "jobplane.envFrom" -}}
- configMapRef:
    name: {{ include "jobplane.fullname" . }}
- secretRef:
    name: {{ include "jobplane.secretName" . }}
{{- end }}

{{- define "jobplane.podSpecCommon" -}}
serviceAccountName: {{ include "jobplane.serviceAccountName" . }}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* Writable /tmp on a read-only root filesystem. */}}
{{- define "jobplane.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: 256Mi
{{- end }}
{{- define "jobplane.tmpMount" -}}
- name: tmp
  mountPath: /tmp
{{- end }}

{{/* An HTTP probe: timings from values (probes.*, overridable per role), path and port fixed by the role. */}}
{{- define "jobplane.probe" -}}
httpGet:
  path: {{ .path }}
  port: {{ .port }}
{{- toYaml .probe | nindent 0 }}
{{- end }}

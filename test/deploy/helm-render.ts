/**
 * Renders a Helm chart the way `helm template` does, without a helm binary: the templates go through
 * helm-engine/ (Go's text/template + sprig v3.2.3 + Helm's include/tpl/required/toYaml, compiled to
 * WebAssembly from helm-engine/main.go), with Helm's .Values/.Release/.Chart/.Capabilities objects.
 * Not covered: subcharts, .Files, `lookup` against a cluster (always empty), values.schema.json,
 * the kubeVersion constraint, and Helm's post-render sorting of resources by kind.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import './helm-engine/wasm-exec.js';

/** The parts of Go's wasm_exec.js runtime and of WebAssembly (not in this project's TypeScript libs) used here. */
interface GoRuntime {
  importObject: object;
  run(instance: object): Promise<void>;
}
interface WebAssemblyApi {
  instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: object }>;
}
type Values = Record<string, unknown>;
/** Rendered YAML, navigated by path in assertions (a wrong path fails the assertion that reads it). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Loose = any;
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Loose;
  data?: Loose;
  stringData?: Loose;
  [key: string]: unknown;
}
export interface Rendered {
  /** Rendered text per template (Helm's name: <chart>/templates/<file>), NOTES.txt included. */
  files: Record<string, string>;
  /** The Kubernetes objects of every template but NOTES.txt, in template-name order. */
  manifests: Manifest[];
  notes: string;
}

let engine: ((files: string, context: string) => string) | null = null;

async function loadEngine(): Promise<(files: string, context: string) => string> {
  if (engine) return engine;
  const GoClass = (globalThis as unknown as { Go: new () => GoRuntime }).Go;
  const go = new GoClass();
  const wasm = gunzipSync(readFileSync(new URL('./helm-engine/helm-engine.wasm.gz', import.meta.url)));
  const { WebAssembly } = globalThis as unknown as { WebAssembly: WebAssemblyApi };
  const { instance } = await WebAssembly.instantiate(wasm, go.importObject);
  void go.run(instance); // runs until the process exits (main blocks on select{})
  engine = (globalThis as unknown as { helmRender: (f: string, c: string) => string }).helmRender;
  return engine;
}

function isObject(v: unknown): v is Values {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Helm's coalescing of user values over the chart's: maps merge, anything else replaces, null deletes. */
export function coalesce(base: Values, override: Values): Values {
  const out: Values = { ...base };
  for (const [key, value] of Object.entries(override)) {
    if (value === null) delete out[key];
    else if (isObject(value) && isObject(out[key])) out[key] = coalesce(out[key], value);
    else out[key] = value;
  }
  return out;
}

/** Chart.yaml keys become the Go struct fields Helm exposes as .Chart (name → Name, apiVersion → APIVersion). */
function chartObject(meta: Values): Values {
  const special: Record<string, string> = { apiVersion: 'APIVersion', appVersion: 'AppVersion', kubeVersion: 'KubeVersion' };
  return Object.fromEntries(Object.entries(meta).map(([k, v]) => [special[k] ?? k[0]!.toUpperCase() + k.slice(1), v]));
}

export async function renderChart(
  chartDir: string,
  options: { values?: Values; releaseName?: string; namespace?: string; upgrade?: boolean; kubeVersion?: string } = {},
): Promise<Rendered> {
  const render = await loadEngine();
  const meta = parseYaml(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as Values;
  const name = String(meta.name);
  const defaults = (parseYaml(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) ?? {}) as Values;
  const files: Record<string, string> = {};
  for (const file of readdirSync(join(chartDir, 'templates'))) {
    files[`${name}/templates/${file}`] = readFileSync(join(chartDir, 'templates', file), 'utf8');
  }
  const kube = options.kubeVersion ?? '1.31.0';
  const [major, minor] = kube.split('.');
  const context = {
    Values: coalesce(defaults, options.values ?? {}),
    Release: {
      Name: options.releaseName ?? 'jobplane',
      Namespace: options.namespace ?? 'default',
      Service: 'Helm',
      Revision: options.upgrade ? 2 : 1,
      IsInstall: !options.upgrade,
      IsUpgrade: Boolean(options.upgrade),
    },
    Chart: chartObject(meta),
    Capabilities: { KubeVersion: { Version: `v${kube}`, Major: major, Minor: minor, GitVersion: `v${kube}` }, APIVersions: [] },
  };
  const result = JSON.parse(render(JSON.stringify(files), JSON.stringify(context))) as { error?: string; manifests?: Record<string, string> };
  if (result.error !== undefined) throw new Error(result.error);
  const out = result.manifests ?? {};
  const manifests: Manifest[] = [];
  let notes = '';
  for (const [file, text] of Object.entries(out).sort(([a], [b]) => a.localeCompare(b))) {
    if (file.endsWith('/NOTES.txt')) {
      notes = text;
      continue;
    }
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
      const value: unknown = doc.toJS();
      if (value == null) continue;
      manifests.push(value as Manifest);
    }
  }
  return { files: out, manifests, notes };
}

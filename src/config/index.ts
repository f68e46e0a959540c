import { parseDuration } from '../core/duration.js';
import { parseCidr } from '../core/ip-ranges.js';
import { AppError } from '../errors/index.js';
import { SETTINGS, type Setting } from './settings.js';

export { SETTINGS, type Setting } from './settings.js';

/** The validated, frozen configuration. */
export interface Config {
  databaseUrl: string | null;
  dbPoolMax: number;
  dataDir: string;
  ephemeral: boolean;
  demo: boolean;
  roles: readonly Role[];
  port: number;
  host: string;
  opsPort: number | null;
  adminPassword: string | null;
  jwtSecret: string | null;
  apiKeyPepper: string | null;
  accessTokenTtlMs: number;
  secretsKeys: readonly string[];
  secretsActiveKey: string | null;
  trustedProxies: readonly string[];
  maxConnectionsPerAddress: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  idleTimeoutMs: number;
  keepAliveTimeoutMs: number;
  sseMaxStreams: number;
  /** Null: half of sseMaxStreams. */
  sseMaxStreamsPerTenant: number | null;
  sseMaxStreamsPerPrincipal: number;
  metricsToken: string | null;
  logLevel: string;
  logFormat: 'auto' | 'json' | 'pretty';
  workerConcurrency: number;
  workerPrefetch: number | 'auto';
  workerQueues: readonly string[];
  workerTasks: readonly string[];
  workerZone: string | null;
  leaseMs: number;
  pollIntervalMs: number;
  shutdownGraceMs: number;
  cancelGraceMs: number;
  leaderTtlMs: number;
  workerMaintenance: boolean;
  healthIntervalMs: number;
  retentionCompletedMs: number;
  retentionFailedMs: number;
  httpAllowPrivate: boolean;
  httpAllowedHosts: readonly string[];
  shellEnabled: boolean;
  shellAllowedCommands: readonly string[];
}

/** A process role. */
export type Role = 'api' | 'scheduler' | 'worker';
const ROLES: readonly Role[] = ['api', 'scheduler', 'worker'];
const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

function parse(setting: Setting, raw: string): { value?: unknown; error?: string } {
  switch (setting.type) {
    case 'string':
      return { value: raw };
    case 'integer':
      return /^\d+$/.test(raw.trim()) ? { value: Number(raw) } : { error: 'must be a whole number' };
    case 'boolean':
      if (/^(1|true|yes|on)$/i.test(raw)) return { value: true };
      if (/^(0|false|no|off|)$/i.test(raw)) return { value: false };
      return { error: 'must be true or false' };
    case 'duration': {
      const ms = parseDuration(raw);
      return ms === null ? { error: 'must be a duration like 500ms, 30s, 5m, 2h or 7d (a bare number is milliseconds)' } : { value: ms };
    }
    case 'list':
      return { value: raw.split(',').map((s) => s.trim()).filter(Boolean) };
  }
}

/**
 * Build the configuration from environment variables and CLI flags (flags win). The only reader
 * of the environment: entry points pass `process.env` in. Every problem is reported at once.
 */
export function loadConfig(env: Record<string, string | undefined>, flags: Record<string, string | boolean | undefined> = {}): Config {
  const values: Record<string, unknown> = {};
  const errors: string[] = [];
  for (const setting of SETTINGS as readonly Setting[]) {
    const flag = setting.flag ? flags[setting.flag.slice(2)] : undefined;
    const raw = flag !== undefined ? String(flag) : env[setting.env];
    if (raw === undefined || (raw === '' && setting.type !== 'boolean')) {
      values[setting.key] = setting.default;
      continue;
    }
    const parsed = parse(setting, raw);
    if (parsed.error) errors.push(`${setting.env}${setting.flag ? ` (${setting.flag})` : ''} ${parsed.error}`);
    else values[setting.key] = parsed.value;
  }
  const roles = values.roles as string[];
  const badRoles = roles.filter((r) => !ROLES.includes(r as Role));
  if (badRoles.length > 0) errors.push(`JOBPLANE_ROLES (--role) has unknown roles: ${badRoles.join(', ')} (known: ${ROLES.join(', ')})`);
  if (!LOG_LEVELS.includes(values.logLevel as string)) errors.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  if (!['auto', 'json', 'pretty'].includes(values.logFormat as string)) errors.push('LOG_FORMAT (--log-format) must be auto, json or pretty');
  if ((values.workerConcurrency as number) < 1) errors.push('JOBPLANE_WORKER_CONCURRENCY must be at least 1');
  const prefetch = String(values.workerPrefetch).trim();
  if (prefetch === 'auto') values.workerPrefetch = 'auto';
  else if (/^\d+$/.test(prefetch)) values.workerPrefetch = Number(prefetch);
  else errors.push('JOBPLANE_WORKER_PREFETCH must be auto or a whole number');
  for (const [key, env] of [['port', 'PORT'], ['opsPort', 'JOBPLANE_OPS_PORT']] as const) {
    const port = values[key] as number | null;
    if (port !== null && (port < 0 || port > 65_535)) errors.push(`${env} must be a port number (0 to 65535)`);
  }
  if (values.opsPort !== null && values.opsPort === values.port && values.opsPort !== 0 && roles.includes('api')) errors.push('JOBPLANE_OPS_PORT must differ from PORT when this process runs the api role');
  if ((values.leaseMs as number) < 1000) errors.push('JOBPLANE_LEASE must be at least 1s');
  errors.push(...secretsKeyProblems(values.secretsKeys as string[], values.secretsActiveKey as string | null));
  const badProxies = (values.trustedProxies as string[]).filter((p) => parseCidr(p) === null);
  if (badProxies.length > 0) errors.push(`JOBPLANE_TRUSTED_PROXIES has entries that are not addresses or CIDRs: ${badProxies.join(', ')}`);
  const token = values.metricsToken as string | null;
  if (token !== null && token.length < 16) errors.push('JOBPLANE_METRICS_TOKEN must be at least 16 characters');
  if ((values.sseMaxStreams as number) < 1) errors.push('SSE_MAX_STREAMS must be at least 1');
  for (const [key, env] of [['sseMaxStreamsPerTenant', 'SSE_MAX_STREAMS_PER_TENANT'], ['sseMaxStreamsPerPrincipal', 'SSE_MAX_STREAMS_PER_USER']] as const) {
    if (values[key] !== null && (values[key] as number) < 1) errors.push(`${env} must be at least 1`);
  }
  for (const [key, env] of [['headersTimeoutMs', 'JOBPLANE_HEADERS_TIMEOUT'], ['requestTimeoutMs', 'JOBPLANE_REQUEST_TIMEOUT'], ['idleTimeoutMs', 'JOBPLANE_IDLE_TIMEOUT'], ['keepAliveTimeoutMs', 'JOBPLANE_KEEP_ALIVE_TIMEOUT']] as const) {
    if ((values[key] as number) < 1000) errors.push(`${env} must be at least 1s`);
  }
  const urlProblem = databaseUrlProblem(values.databaseUrl as string | null);
  if (urlProblem) errors.push(urlProblem);
  // One problem is one line; several are listed one per line.
  if (errors.length === 1) throw new AppError('CONFIG_INVALID', `invalid configuration: ${errors[0]!}`);
  if (errors.length > 0) throw new AppError('CONFIG_INVALID', `invalid configuration:\n  - ${errors.join('\n  - ')}`);
  const databaseUrl = (values.databaseUrl as string | null) ?? urlFromParts(values);
  return Object.freeze({ ...(values as unknown as Config), databaseUrl, roles: roles as Role[] });
}

/**
 * What is wrong with DATABASE_URL, if anything: it must be a postgres:// (or postgresql://) URL.
 * Anything else would be read by the driver as a host name and retried for ever as "not reachable".
 */
function databaseUrlProblem(url: string | null): string | null {
  if (url === null) return null;
  const hint = 'DATABASE_URL (--database-url) must be a PostgreSQL URL like postgres://user:password@host:5432/database';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return hint;
  }
  // No host (postgres:///db) is fine: the driver then uses PGHOST or localhost, as libpq does.
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') return `${hint} (it starts with "${parsed.protocol}")`;
  return null;
}

/** A JOBPLANE_SECRETS_KEYS entry: `id:base64` of exactly 32 bytes. */
const SECRETS_KEY_ENTRY = /^([A-Za-z0-9_-]{1,32}):([A-Za-z0-9+/_-]+={0,2})$/;

/** What is wrong with the secrets keys (never echoing key material). */
function secretsKeyProblems(entries: readonly string[], active: string | null): string[] {
  const problems: string[] = [];
  const ids: string[] = [];
  entries.forEach((entry, i) => {
    const m = SECRETS_KEY_ENTRY.exec(entry);
    if (!m || Buffer.from(m[2]!, 'base64').length !== 32) {
      problems.push(`JOBPLANE_SECRETS_KEYS entry ${i + 1} must be id:base64 of 32 bytes (e.g. k1:$(openssl rand -base64 32))`);
      return;
    }
    if (ids.includes(m[1]!)) problems.push(`JOBPLANE_SECRETS_KEYS names key id "${m[1]!}" twice`);
    ids.push(m[1]!);
  });
  if (active !== null && !ids.includes(active)) problems.push(`JOBPLANE_SECRETS_ACTIVE_KEY "${active}" is not an id in JOBPLANE_SECRETS_KEYS`);
  return problems;
}

function urlFromParts(v: Record<string, unknown>): string | null {
  if (!v.dbHost) return null;
  const url = new URL('postgres://localhost');
  url.hostname = v.dbHost as string;
  url.port = String(v.dbPort);
  url.username = v.dbUser as string;
  if (v.dbPassword) url.password = v.dbPassword as string;
  url.pathname = `/${v.dbName as string}`;
  const ssl = v.sslMode as string | null;
  if (ssl) url.searchParams.set('sslmode', ssl === 'true' ? 'require' : ssl === 'false' ? 'disable' : ssl);
  return url.toString();
}

/** Render the settings table as Markdown (docs/configuration.md). */
export function renderConfigurationDoc(): string {
  const rows = (SETTINGS as readonly Setting[]).map((s) => {
    const def = s.default === null ? '—' : Array.isArray(s.default) ? (s.default.length ? s.default.join(',') : '(empty)') : s.type === 'duration' ? `${String(s.default)} ms` : String(s.default);
    return `| \`${s.env}\` | ${s.flag ? `\`${s.flag}\`` : ''} | ${s.type} | \`${def}\` | ${s.description} |`;
  });
  return [
    '# Configuration',
    '',
    'Generated from `src/config/settings.ts` by `npm run docs:config`; a test fails when this file is stale.',
    'Environment variables are read once at start; a CLI flag wins over its variable. Durations accept',
    '`500ms`, `30s`, `1.5m`, `2h`, `7d`, `1w`, sums such as `1h30m`, or plain milliseconds (`1500`). Invalid values stop the program with every problem listed.',
    '',
    '| variable | flag | type | default | meaning |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

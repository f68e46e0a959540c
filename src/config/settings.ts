/**
 * Every setting Jobplane reads, in one table: environment variable, CLI flag, type, default and
 * meaning. `docs/configuration.md` is generated from this table (`npm run docs:config`) and a
 * test fails when the two drift apart.
 */
import { DEFAULT_CANCEL_GRACE_MS, DEFAULT_LEADER_TTL_MS, DEFAULT_LEASE_MS, DEFAULT_POLL_INTERVAL_MS, DEFAULT_SHUTDOWN_GRACE_MS } from '../core/defaults.js';

/** The type of a setting's value. */
export type SettingType = 'string' | 'integer' | 'boolean' | 'duration' | 'list';

/** One setting. */
export interface Setting {
  key: string;
  env: string;
  flag?: string;
  type: SettingType;
  default: string | number | boolean | readonly string[] | null;
  description: string;
}

/** The settings, grouped by concern. */
export const SETTINGS = [
  { key: 'databaseUrl', env: 'DATABASE_URL', flag: '--database-url', type: 'string', default: null, description: 'PostgreSQL connection URL. When neither it nor DB_HOST is set, an embedded PostgreSQL is started (data in JOBPLANE_DATA_DIR).' },
  { key: 'dbHost', env: 'DB_HOST', type: 'string', default: null, description: 'Alternative to DATABASE_URL: server host.' },
  { key: 'dbPort', env: 'DB_PORT', type: 'integer', default: 5432, description: 'Server port (with DB_HOST).' },
  { key: 'dbUser', env: 'DB_USER', type: 'string', default: 'postgres', description: 'User (with DB_HOST).' },
  { key: 'dbPassword', env: 'DB_PASSWORD', type: 'string', default: null, description: 'Password (with DB_HOST).' },
  { key: 'dbName', env: 'DB_NAME', type: 'string', default: 'jobplane', description: 'Database name (with DB_HOST).' },
  { key: 'sslMode', env: 'SSL_MODE', type: 'string', default: null, description: 'libpq sslmode (disable, require, verify-full; true = require) (with DB_HOST).' },
  { key: 'dbPoolMax', env: 'JOBPLANE_DB_POOL_MAX', type: 'integer', default: 10, description: 'Connections per pool.' },
  { key: 'dataDir', env: 'JOBPLANE_DATA_DIR', flag: '--data-dir', type: 'string', default: './.jobplane', description: 'Where the embedded PostgreSQL keeps its data.' },
  { key: 'ephemeral', env: 'JOBPLANE_EPHEMERAL', flag: '--ephemeral', type: 'boolean', default: false, description: 'Embedded PostgreSQL in a temporary folder, deleted at exit.' },
  { key: 'demo', env: 'JOBPLANE_DEMO', flag: '--demo', type: 'boolean', default: false, description: 'Seed demo schedules and jobs (http to an echo endpoint the api role serves at /demo/echo, fibonacci, one that fails and retries) so the dashboard is alive at once. For trying Jobplane, not for production.' },
  { key: 'roles', env: 'JOBPLANE_ROLES', flag: '--role', type: 'list', default: ['api', 'scheduler', 'worker'], description: 'Roles this process runs: api, scheduler, worker.' },
  { key: 'port', env: 'PORT', flag: '--port', type: 'integer', default: 8080, description: 'HTTP port of the api role.' },
  { key: 'host', env: 'JOBPLANE_HOST', flag: '--host', type: 'string', default: '127.0.0.1', description: 'Address the api role and the operations listener (JOBPLANE_OPS_PORT) listen on (0.0.0.0 in containers).' },
  { key: 'opsPort', env: 'JOBPLANE_OPS_PORT', flag: '--ops-port', type: 'integer', default: null, description: 'Port of a separate listener serving only /healthz, /readyz and /metrics (on JOBPLANE_HOST), unauthenticated: keep it on an internal network, where Prometheus scrapes it. Unset: none (the api role serves /healthz and /readyz on PORT anyway, and /metrics there only with JOBPLANE_METRICS_TOKEN).' },
  { key: 'adminPassword', env: 'JOBPLANE_ADMIN_PASSWORD', type: 'string', default: null, description: 'Password of the first admin, created on the first start with an empty database; generated and printed once when unset.' },
  { key: 'jwtSecret', env: 'JOBPLANE_JWT_SECRET', type: 'string', default: null, description: 'HS256 key for access tokens (≥ 32 bytes); generated once and kept in the database when unset.' },
  { key: 'apiKeyPepper', env: 'JOBPLANE_API_KEY_PEPPER', type: 'string', default: null, description: 'HMAC key for stored API key hashes (≥ 32 bytes); generated once and kept in the database when unset.' },
  { key: 'secretsKeys', env: 'JOBPLANE_SECRETS_KEYS', type: 'list', default: [], description: 'Keys that encrypt tenant secrets at rest (AES-256-GCM), comma-separated `id:base64` pairs of 32 random bytes each (`openssl rand -base64 32`). Every key listed can decrypt; JOBPLANE_SECRETS_ACTIVE_KEY (default: the first) encrypts. Empty: one key is generated and kept in the database, so a database dump alone reveals the secrets; set this in production. See docs/secrets.md for rotation.' },
  { key: 'secretsActiveKey', env: 'JOBPLANE_SECRETS_ACTIVE_KEY', type: 'string', default: null, description: 'Id of the JOBPLANE_SECRETS_KEYS entry that encrypts new and rewrapped secrets (default: the first).' },
  { key: 'trustedProxies', env: 'JOBPLANE_TRUSTED_PROXIES', type: 'list', default: [], description: 'Addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed: the client address (for login throttling, connection caps and the audit log) is then the nearest untrusted hop. Empty: the socket\'s peer address, and X-Forwarded-For is ignored.' },
  { key: 'maxConnectionsPerAddress', env: 'JOBPLANE_MAX_CONNECTIONS_PER_ADDRESS', type: 'integer', default: 64, description: 'Open connections one client address may hold on the api port; more are refused with 503 TOO_MANY_CONNECTIONS. Trusted proxies are exempt. 0 = no cap.' },
  { key: 'headersTimeoutMs', env: 'JOBPLANE_HEADERS_TIMEOUT', type: 'duration', default: 10_000, description: 'Time a client has to send a request\'s headers.' },
  { key: 'requestTimeoutMs', env: 'JOBPLANE_REQUEST_TIMEOUT', type: 'duration', default: 30_000, description: 'Time a client has to send a whole request, body included (responses such as event streams may last longer).' },
  { key: 'idleTimeoutMs', env: 'JOBPLANE_IDLE_TIMEOUT', type: 'duration', default: 75_000, description: 'A connection with no traffic in either direction for this long is closed (event streams send a ping every 15 s; long-polls answer within 30 s).' },
  { key: 'keepAliveTimeoutMs', env: 'JOBPLANE_KEEP_ALIVE_TIMEOUT', type: 'duration', default: 5000, description: 'How long an idle keep-alive connection waits for its next request.' },
  { key: 'sseMaxStreams', env: 'SSE_MAX_STREAMS', type: 'integer', default: 1000, description: 'Live event streams (SSE) one api process serves at once; more get 503 TOO_MANY_STREAMS.' },
  { key: 'sseMaxStreamsPerTenant', env: 'SSE_MAX_STREAMS_PER_TENANT', type: 'integer', default: null, description: 'Streams one tenant may hold on one api process; more get 429 STREAM_QUOTA_EXCEEDED. Unset: half of SSE_MAX_STREAMS (at least 1), so one tenant cannot take them all.' },
  { key: 'sseMaxStreamsPerPrincipal', env: 'SSE_MAX_STREAMS_PER_USER', type: 'integer', default: 10, description: 'Streams one user or API key may hold on one api process; more get 429 STREAM_QUOTA_EXCEEDED.' },
  { key: 'metricsToken', env: 'JOBPLANE_METRICS_TOKEN', type: 'string', default: null, description: 'When set, the api role also serves /metrics on PORT, to requests with `Authorization: Bearer <token>`. Unset: /metrics is served only on the operations listener (JOBPLANE_OPS_PORT), since it names every tenant\'s queues.' },
  { key: 'accessTokenTtlMs', env: 'JOBPLANE_ACCESS_TOKEN_TTL', type: 'duration', default: 900_000, description: 'Lifetime of access tokens.' },
  { key: 'logFormat', env: 'LOG_FORMAT', flag: '--log-format', type: 'string', default: 'auto', description: 'auto (readable lines on a terminal, JSON otherwise), json or pretty.' },
  { key: 'logLevel', env: 'LOG_LEVEL', flag: '--log-level', type: 'string', default: 'info', description: 'trace, debug, info, warn, error or silent.' },
  { key: 'workerConcurrency', env: 'JOBPLANE_WORKER_CONCURRENCY', flag: '--concurrency', type: 'integer', default: 10, description: 'Handlers the worker role runs at once.' },
  { key: 'workerPrefetch', env: 'JOBPLANE_WORKER_PREFETCH', type: 'string', default: 'auto', description: 'Jobs claimed ahead of free slots: `auto` sizes the buffer from the backlog and from handler durations (at most what the slots finish in 50 ms, at most 250 jobs; none for handlers of a second or more); a whole number fixes it (0: claim only for free slots). See docs/performance.md.' },
  { key: 'workerQueues', env: 'JOBPLANE_WORKER_QUEUES', flag: '--queues', type: 'list', default: ['*'], description: 'Queues the worker role serves (* = all).' },
  { key: 'workerTasks', env: 'JOBPLANE_WORKER_TASKS', flag: '--tasks', type: 'list', default: ['http', 'fibonacci', 'sleep', 'noop'], description: 'Built-in tasks the worker role runs (http, fibonacci, sleep, noop, shell).' },
  { key: 'workerZone', env: 'JOBPLANE_WORKER_ZONE', flag: '--zone', type: 'string', default: null, description: 'Zone of the worker role, for placement.' },
  { key: 'leaseMs', env: 'JOBPLANE_LEASE', type: 'duration', default: DEFAULT_LEASE_MS, description: 'Lease length; a crashed worker\'s jobs run again after about this long.' },
  { key: 'pollIntervalMs', env: 'JOBPLANE_POLL_INTERVAL', type: 'duration', default: DEFAULT_POLL_INTERVAL_MS, description: 'Workers\' polling backstop when no notification arrives.' },
  { key: 'shutdownGraceMs', env: 'JOBPLANE_SHUTDOWN_GRACE', type: 'duration', default: DEFAULT_SHUTDOWN_GRACE_MS, description: 'On SIGTERM, how long running jobs may finish before they are released.' },
  { key: 'cancelGraceMs', env: 'JOBPLANE_CANCEL_GRACE', type: 'duration', default: DEFAULT_CANCEL_GRACE_MS, description: 'How long a cancelled running job may take to stop before its lease is revoked.' },
  { key: 'leaderTtlMs', env: 'JOBPLANE_LEADER_TTL', type: 'duration', default: DEFAULT_LEADER_TTL_MS, description: 'Maintenance leader lease (cron fires, rescue, placement, retention); a dead leader is replaced within this.' },
  { key: 'workerMaintenance', env: 'JOBPLANE_WORKER_MAINTENANCE', type: 'boolean', default: true, description: 'A process that runs the worker role but not the scheduler role is a candidate for maintenance leader too, so a deployment of only workers still rescues, fires and cleans. Set false to leave maintenance to scheduler processes.' },
  { key: 'healthIntervalMs', env: 'JOBPLANE_HEALTH_INTERVAL', type: 'duration', default: 2000, description: 'How often each process pings the database; /readyz and jobplane_database_up reflect a lost database within this.' },
  { key: 'retentionCompletedMs', env: 'JOBPLANE_RETENTION_COMPLETED', type: 'duration', default: 7 * 86_400_000, description: 'Keep completed jobs this long.' },
  { key: 'retentionFailedMs', env: 'JOBPLANE_RETENTION_FAILED', type: 'duration', default: 30 * 86_400_000, description: 'Keep failed and cancelled jobs this long.' },
  { key: 'httpAllowPrivate', env: 'JOBPLANE_HTTP_ALLOW_PRIVATE', type: 'boolean', default: false, description: 'Let the http task reach private, loopback and link-local addresses.' },
  { key: 'httpAllowedHosts', env: 'JOBPLANE_HTTP_ALLOWED_HOSTS', type: 'list', default: [], description: 'Hosts or CIDRs the http task may reach even though they are private.' },
  { key: 'shellEnabled', env: 'JOBPLANE_SHELL_ENABLED', type: 'boolean', default: false, description: 'Enable the shell task (argv only, no shell). An installation setting: while it is off, the API refuses shell jobs and schedules with TASK_DISABLED, and no tenant setting can turn it on.' },
  { key: 'shellAllowedCommands', env: 'JOBPLANE_SHELL_ALLOWED_COMMANDS', type: 'list', default: [], description: 'Executables the shell task may run (empty = any).' },
] as const satisfies readonly Setting[];

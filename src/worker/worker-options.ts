import type { AttemptOutcome } from '../core/attempt-outcome.js';
import type { Clock, Logger } from '../core/deps.js';
import type { EventSink } from '../core/live-events.js';
import type { Pool } from '../db/pool.js';
import type { SecretResolver } from '../engine/secrets/index.js';
import type { JobInfo, TaskList } from './types.js';

/** Options for {@link createWorker}. */
export interface WorkerOptions {
  /** Connection string; the worker opens (and closes) its own small pool. Give this or `pool`. */
  databaseUrl?: string;
  /** An existing pool (not closed by the worker). */
  pool?: Pool;
  /** Handlers by task name; the worker claims only these tasks. */
  tasks: TaskList;
  /** Queues to serve. @defaultValue every queue */
  queues?: readonly string[];
  /** Most handlers running at once. @defaultValue 10 */
  concurrency?: number;
  /**
   * Jobs claimed ahead of free slots, so one claim brings back a batch and the slots never wait
   * for a round trip; they hold a lease while they wait. `'auto'` sizes the buffer from the backlog
   * and from handler durations: at most what the slots finish in 50 ms, at most 250 jobs, none for
   * handlers of a second or more (`src/core/claim-sizing.ts`). A number fixes it; 0 claims only for
   * free slots. @defaultValue 'auto'
   */
  prefetch?: number | 'auto';
  /** Serve only this tenant. @defaultValue every tenant */
  tenantId?: string | null;
  /** This worker's zone, for zone placement. */
  zone?: string | null;
  /** Shown in the workers list. @defaultValue `<hostname>:<pid>` */
  name?: string;
  /** Free-form labels. */
  labels?: Record<string, string>;
  /** Lease length; a worker that stops heartbeating loses its jobs after this. @defaultValue 30000 */
  leaseMs?: number;
  /** How often leases are renewed. @defaultValue leaseMs / 3 */
  heartbeatMs?: number;
  /** Polling backstop when no notification arrives. @defaultValue 2000 */
  pollIntervalMs?: number;
  /** On stop, how long running handlers may take to finish before they are released. @defaultValue 30000 */
  shutdownGraceMs?: number;
  /** After a cancel request, how long the handler may take to stop before the job is reported cancelled. @defaultValue 30000 */
  cancelGraceMs?: number;
  /** How often progress and log lines are written. @defaultValue 250 */
  outputFlushMs?: number;
  /** Largest stored result in bytes. @defaultValue 1 MiB */
  maxResultBytes?: number;
  /** Where claims, outcomes and new output are announced (live events). */
  liveEvents?: EventSink;
  /**
   * Resolves `{"$secret": NAME}` references in payloads before the handler runs. @defaultValue the
   * secrets store on this worker's pool, with `secretsKeys` / `secretsActiveKey`
   */
  secrets?: SecretResolver;
  /** Keys that decrypt tenant secrets (JOBPLANE_SECRETS_KEYS, `id:base64`); used when `secrets` is not given. @defaultValue the database-kept key */
  secretsKeys?: readonly string[];
  /** The active key's id (JOBPLANE_SECRETS_ACTIVE_KEY); only encryption uses it. @defaultValue the first key */
  secretsActiveKey?: string | null;
  /**
   * Take part in electing the maintenance leader from this process (docs/decisions.md #11): while leader it
   * rescues jobs whose lease expired, fires cron schedules, places jobs and applies retention, so
   * a deployment of nothing but workers is still safe. Workers on one pool share one candidate.
   * Turn it off only where a scheduler runs in the same process. @defaultValue true
   */
  maintenance?: boolean;
  logger?: Logger;
  clock?: Clock;
  /** Random source for backoff jitter. */
  random?: () => number;
}

/** Events a worker emits (for metrics, tests and logs). */
export interface WorkerEvents {
  'job:start': [JobInfo];
  'job:end': [{ job: JobInfo; outcome: AttemptOutcome['kind']; status: string | null }];
  claimed: [{ count: number; durationMs: number }];
  'lease-lost': [{ jobId: string }];
  failure: [{ during: string; error: unknown }];
  stopped: [];
}

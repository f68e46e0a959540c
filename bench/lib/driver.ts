/**
 * The contract every benchmarked system implements (graphile-worker, pg-boss, jobplane).
 *
 * A system is driven from two places:
 * - the benchmark process itself, through `setup()` and `producer()`;
 * - one or more child worker processes (see `worker-process.ts`), which import
 *   `workerModule` and call its `start()`.
 */
export interface BenchSystem {
  /** 'graphile-worker' | 'pg-boss' | 'jobplane' */
  name: string;
  /** Prepare a fresh database (given an empty database's URL): install schema/migrations. */
  setup(databaseUrl: string): Promise<void>;
  /** Open a producer in this process. */
  producer(databaseUrl: string): Promise<BenchProducer>;
  /**
   * Module + export of a worker entry run in a child process (see worker-process.ts), written
   * `<module>#<export>`: the module is an absolute path or a `file:` URL (use
   * `new URL('./x.js', import.meta.url).href`), the export defaults to `default` when `#` is absent.
   * The export must satisfy `BenchWorkerEntry`.
   */
  workerModule: string;
  /** Optional: a short description of how the system is configured, copied into the results. */
  config?: Record<string, unknown>;
  /** Optional: extra environment variables for its worker processes (used to define configuration variants). */
  workerEnv?: Record<string, string>;
}

export interface BenchProducer {
  /** Insert `count` no-op jobs with payload {} in batches of batchSize using the system's bulk API; resolves when committed. */
  bulkEnqueue(count: number, batchSize: number, runAt?: Date): Promise<void>;
  /** Enqueue one job (the system's normal single-job API, each call its own commit) with payload `{ t }`. */
  enqueueOne(payload: { t: number }): Promise<void>;
  /** Jobs not yet completed (for drain end detection). */
  remaining(): Promise<number>;
  close(): Promise<void>;
}

/** What a child worker process runs: start a worker with the given concurrency; the handler calls onJob(payload) on start. */
export interface BenchWorkerEntry {
  start(opts: {
    databaseUrl: string;
    concurrency: number;
    onJob: (payload: { t?: number }) => void;
  }): Promise<{ stop(): Promise<void> }>;
}

/** Every benchmark job is enqueued under this task / queue name. */
export const BENCH_TASK = 'bench';

/** Split `BenchSystem.workerModule` into a module specifier and an export name. */
export function parseWorkerModule(spec: string): { module: string; exportName: string } {
  const hash = spec.lastIndexOf('#');
  if (hash <= 0) return { module: spec, exportName: 'default' };
  return { module: spec.slice(0, hash), exportName: spec.slice(hash + 1) || 'default' };
}

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes on one machine. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Connection pool size for producers: steady-load keeps up to 32 enqueue calls in flight, plus one
 * for `remaining()`. Every driver should size its producer pool like this so the comparison is fair.
 */
export const PRODUCER_POOL_SIZE = 33;

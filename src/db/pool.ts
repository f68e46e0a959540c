import pg from 'pg';
import type { Logger } from '../core/deps.js';
import { traceQueries } from './query-spans.js';
import { jobplaneTypes } from './timestamps.js';

/** Result rows of a query. */
export interface QueryRows<R> {
  rows: R[];
  rowCount: number | null;
}

/** A prepared-statement query: a name makes pg prepare it once per connection. */
export interface NamedQuery {
  name?: string;
  text: string;
  values?: unknown[];
}

/**
 * The narrow database seam every store function takes: a pg `Pool`, `PoolClient` or `Client`
 * all satisfy it, so callers can pass their own transaction's client (transactional enqueue).
 */
export interface Queryable {
  query<R extends pg.QueryResultRow = Record<string, unknown>>(
    query: string | NamedQuery,
    values?: unknown[],
  ): Promise<QueryRows<R>>;
}

/** A connection pool. */
export type Pool = pg.Pool;
/** A client checked out of a pool (or a standalone client). */
export type PoolClient = pg.PoolClient;

/** Options for {@link createPool}. */
export interface PoolOptions {
  connectionString: string;
  /** Most connections the pool opens. @defaultValue 10 */
  max?: number;
  /** Shown in pg_stat_activity. @defaultValue 'jobplane' */
  applicationName?: string;
  /** Where pool-level errors (a dropped idle connection) are reported. */
  logger?: Logger;
  /** Make a `db.query` span per statement run inside a traced operation (when tracing is on). */
  traced?: boolean;
}

/**
 * Open a pool with the server-side guards of docs/decisions.md #13: a transaction left idle cannot hold
 * row locks for more than a minute, and TCP keepalives detect half-open connections.
 */
export function createPool(options: PoolOptions): Pool {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'jobplane',
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    types: jobplaneTypes,
    // enable_seqscan=off makes a sequential scan the last resort (a cost penalty, not a ban). A queue
    // table swings between empty and hundreds of thousands of rows, and a prepared statement's
    // cached plan made while it was small seq-scans the whole table on every claim later
    // (measured: 0.6 ms -> 5 ms per claim at 5,000 jobs/s). Every hot-path statement has an index;
    // planning each execution instead (plan_cache_mode=force_custom_plan) also fixes it but cost
    // ~20 % of drain throughput.
    // jit=off: the penalty above prices every plan that must scan a small table (workers, leader
    // leases, event interest) above jit_above_cost, so each such statement was JIT-compiled with
    // LLVM, tens of milliseconds of server CPU for a sub-millisecond query (perf during a drain:
    // a tenth of PostgreSQL's CPU in libLLVM). Short OLTP statements never gain from JIT.
    options: '-c idle_in_transaction_session_timeout=60000 -c enable_seqscan=off -c jit=off',
  });
  // Without a listener an idle client's error (server restart) would crash the process.
  pool.on('error', (error) => options.logger?.warn({ err: error.message }, 'idle database connection failed'));
  if (options.traced) traceQueries(pool);
  return pool;
}

/** Whether `db` is a pool (has `connect` returning a releasable client). */
function isPool(db: Queryable): db is pg.Pool {
  return db instanceof pg.Pool;
}

/**
 * Run `fn` in a transaction: COMMIT on success, ROLLBACK on error. Given a pool, checks out a client;
 * given a client, uses it (the caller must not be inside another transaction on it).
 */
export async function withTransaction<T>(db: Queryable, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  if (!isPool(db)) return inTransaction(db, fn, () => undefined);
  const client = await checkOut(db);
  return inTransaction(client, fn, (error) => client.release(error));
}

async function inTransaction<T>(client: Queryable, fn: (tx: Queryable) => Promise<T>, release: (error?: Error) => void): Promise<T> {
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    release();
    return result;
  } catch (error) {
    try {
      await client.query('ROLLBACK');
      release();
    } catch {
      // The connection is broken; destroy it instead of returning it to the pool.
      release(error instanceof Error ? error : new Error(String(error)));
    }
    throw error;
  }
}

/**
 * Check a client out of `pool` with an 'error' listener for as long as it is out. pg-pool removes
 * its own idle listener on checkout, and pg emits 'error' on a client whose backend dies between
 * statements (pg_terminate_backend, a server restart): without a listener that error ends the
 * process. The listener is attached inside pg-pool's callback, not after an `await`: the backend's
 * FATAL message can arrive in the same network read that finished the previous user's statement
 * and handed the client over, before any awaiting code runs. The statement in flight, if any,
 * still rejects, so callers see the failure; `onError` hears about it too. A client whose
 * connection died is destroyed on release, whatever the caller passes.
 */
export function checkOut(pool: Pool, onError?: (error: Error) => void): Promise<PoolClient> {
  return new Promise((resolve, reject) => {
    pool.connect((error, client) => {
      if (error || !client) {
        reject(error ?? new Error('the pool gave no client'));
        return;
      }
      let broken: Error | null = null;
      const listener = (failure: Error): void => {
        broken = failure;
        onError?.(failure);
      };
      client.on('error', listener);
      const release = client.release.bind(client);
      client.release = (failure?: Error | boolean): void => {
        client.removeListener('error', listener);
        client.release = release;
        release(failure ?? broken ?? undefined);
      };
      resolve(client);
    });
  });
}

/** PostgreSQL error fields we branch on. */
export interface PgErrorLike {
  code?: string;
  constraint?: string;
  message: string;
}

/** Whether `error` came from the server with the given SQLSTATE. */
export function isPgError(error: unknown, code?: string): error is PgErrorLike {
  return error instanceof pg.DatabaseError && (code === undefined || error.code === code);
}

/**
 * Whether `error` means the database could not be reached or the connection broke, as opposed to
 * a problem with the statement (those are bugs or bad input and must not be retried blindly).
 */
export function isConnectionError(error: unknown): boolean {
  if (error instanceof pg.DatabaseError) {
    // Class 08: connection exception; 57P01..57P03: admin shutdown / crash shutdown / cannot connect now.
    return (error.code ?? '').startsWith('08') || ['57P01', '57P02', '57P03'].includes(error.code ?? '');
  }
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return (
      ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH'].includes(code ?? '') ||
      /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|not queryable/i.test(
        error.message,
      )
    );
  }
  return false;
}

/** A database fault a caller cannot fix by changing the request: answer 503, never 500. */
export type DatabaseFault = 'unavailable' | 'read-only';

/**
 * Classify `error` as a fault of the database rather than of the statement: unreachable or
 * overloaded (connection errors, 53300 too many connections, 53200 out of memory, 57P04/57P05),
 * or refusing writes (25006 read-only transaction — a hot standby after a failover or
 * default_transaction_read_only — and 53100 disk full). Null for everything else.
 */
export function databaseFault(error: unknown): DatabaseFault | null {
  if (isConnectionError(error)) return 'unavailable';
  if (!(error instanceof pg.DatabaseError)) return null;
  switch (error.code) {
    case '25006':
    case '53100':
      return 'read-only';
    case '53200':
    case '53300':
    case '57P04':
    case '57P05':
      return 'unavailable';
    default:
      return null;
  }
}

import pg from 'pg';
import type { Logger } from '../core/deps.js';
import { traceQueries } from './query-spans.js';

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
 * Open a pool with the server-side guards of RELIABILITY D14: a transaction left idle cannot hold
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
    // enable_seqscan=off makes a sequential scan the last resort (a cost penalty, not a ban). A queue
    // table swings between empty and hundreds of thousands of rows, and a prepared statement's
    // cached plan made while it was small seq-scans the whole table on every claim later
    // (measured: 0.6 ms -> 5 ms per claim at 5,000 jobs/s). Every hot-path statement has an index;
    // planning each execution instead (plan_cache_mode=force_custom_plan) also fixes it but cost
    // ~20 % of drain throughput.
    options: '-c idle_in_transaction_session_timeout=60000 -c enable_seqscan=off',
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
  const checkedOut = isPool(db) ? await db.connect() : null;
  const client: Queryable = checkedOut ?? db;
  const release = (error?: Error) => checkedOut?.release(error);
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
      /Connection terminated|connection timeout|Client has encountered a connection error|not queryable/i.test(
        error.message,
      )
    );
  }
  return false;
}

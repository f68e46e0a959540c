/**
 * Database client spans: `query` of a pool and of every client it opens is wrapped so that each
 * promise-style statement run inside a traced operation (an HTTP request, a job attempt) gets a
 * `db.query` span. Statements outside any span (claim polling, heartbeats) are not traced: they
 * would be root spans by the thousand. Callback-style calls pass through untouched (pg's pool
 * uses them internally for `pool.query`, which is traced once at the pool).
 */
import { SpanKind, SpanStatusCode, trace, context, type Span } from '@opentelemetry/api';
import type pg from 'pg';
import { tracer } from '../telemetry/trace-context.js';

const WRAPPED = Symbol('jobplane.traced');
const MAX_TEXT = 200;

type QueryFn = (...args: unknown[]) => unknown;

/** Wrap `pool.query` and the `query` of each client the pool connects. */
export function traceQueries(pool: pg.Pool): void {
  wrap(pool);
  pool.on('connect', (client: pg.PoolClient) => wrap(client));
}

function wrap(queryable: pg.Pool | pg.PoolClient): void {
  const target = queryable as unknown as { query: QueryFn; [WRAPPED]?: true };
  if (target[WRAPPED]) return;
  target[WRAPPED] = true;
  const original = target.query;
  target.query = function tracedQuery(this: unknown, ...args: unknown[]): unknown {
    const first = args[0] as { text?: unknown; name?: unknown; submit?: unknown } | string | undefined;
    const plain = args.every((a) => typeof a !== 'function') && !(typeof first === 'object' && first !== null && typeof first.submit === 'function');
    if (!plain || !trace.getSpan(context.active())) return original.apply(this, args);
    const text = typeof first === 'string' ? first : typeof first?.text === 'string' ? first.text : '';
    const name = typeof first === 'object' && typeof first?.name === 'string' ? first.name : undefined;
    const span = tracer.startSpan(name ? `db.query ${name}` : `db.query ${operationOf(text)}`, {
      kind: SpanKind.CLIENT,
      attributes: {
        'db.system.name': 'postgresql',
        'db.query.text': text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text,
        ...(name ? { 'db.operation.name': name } : { 'db.operation.name': operationOf(text) }),
      },
    });
    let result: unknown;
    try {
      result = original.apply(this, args);
    } catch (error) {
      end(span, error);
      throw error;
    }
    return (result as Promise<unknown>).then(
      (value) => {
        end(span);
        return value;
      },
      (error: unknown) => {
        end(span, error);
        throw error;
      },
    );
  };
}

/** The statement's first keyword (SELECT, INSERT, WITH, ...). */
function operationOf(text: string): string {
  return /^\s*([A-Za-z]+)/.exec(text)?.[1]?.toUpperCase() ?? 'QUERY';
}

function end(span: Span, error?: unknown): void {
  if (error !== undefined) {
    const failure = error instanceof Error ? error : new Error('query failed');
    span.recordException(failure);
    span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
  }
  span.end();
}

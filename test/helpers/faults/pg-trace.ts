/**
 * Preloaded (`--import`) into the fault battery's children: when a pg client emits 'error' with
 * no listener — which ends the process — first print which client it was (application_name,
 * whether a pool had it checked out) and the last statement sent on it with the stack of the code
 * that sent it. pg's own stack for such an error is all driver frames; this names the owner.
 * It changes no behaviour: the error is still emitted, unhandled, as before.
 */
import pg from 'pg';

interface Traced {
  __faultLastQuery?: { text: string; stack: string; at: string };
}

const proto = pg.Client.prototype as unknown as {
  query: (...args: unknown[]) => unknown;
  emit: (event: string | symbol, ...args: unknown[]) => boolean;
};
const query = proto.query;
proto.query = function tracedQuery(this: pg.Client & Traced, ...args: unknown[]) {
  const first = args[0] as string | { text?: string; name?: string } | undefined;
  const text = typeof first === 'string' ? first : (first?.text ?? first?.name ?? '?');
  this.__faultLastQuery = {
    text: text.replace(/\s+/g, ' ').slice(0, 160),
    stack: (new Error().stack ?? '').split('\n').slice(2, 12).join('\n'),
    at: new Date().toISOString(),
  };
  return query.apply(this, args);
};
const emit = proto.emit;
proto.emit = function tracedEmit(this: pg.Client & Traced, event: string | symbol, ...args: unknown[]) {
  if (event === 'error' && this.listenerCount('error') === 0) {
    const error = args[0] as Error | undefined;
    const last = this.__faultLastQuery;
    const app = (this as unknown as { connectionParameters?: { application_name?: string } }).connectionParameters?.application_name;
    process.stderr.write(
      `[pg-trace] UNHANDLED 'error' on a pg client (application_name=${String(app)}, released=${String((this as unknown as { release?: unknown }).release === undefined ? 'never checked out' : 'has release()')}): ${error?.message ?? String(error)}\n` +
        (last ? `[pg-trace] last statement on it at ${last.at}: ${last.text}\n[pg-trace] sent from:\n${last.stack}\n` : '[pg-trace] no statement was sent on it\n'),
    );
  }
  return emit.call(this, event, ...args);
};

/**
 * The wire format of live events between processes: PostgreSQL NOTIFY payloads on the channel in
 * src/db/queries/event-channel.ts, packed by the EventPublisher (src/engine/event-publisher.ts)
 * and unpacked by each API process's EventHub. Pure; the caller gives the time.
 */
import type { JobStatus } from './job-states.js';
import type { PlaneEvent, QueueAction, ScheduleAction, StreamEvent } from './live-events.js';

/** PostgreSQL refuses NOTIFY payloads of 8,000 bytes or more; stay well below. */
export const MAX_PAYLOAD_BYTES = 7_600;

/**
 * One NOTIFY payload. Compact on purpose: a busy worker announces tens of thousands of changes a
 * second and PostgreSQL copies every byte into its notification queue. Events are arrays, the
 * tenant is an index into `T`, and the time is the payload's (`t`, when it was packed).
 *   job:        ["j", tenant, jobId, status, queue, task, attempt, scheduleId|null]
 *   job-output: ["o", tenant, jobId, attempt]
 *   schedule:   ["s", tenant, scheduleId, action]
 *   queue:      ["q", tenant, queue, action]
 */
interface WireMessage {
  /** Publisher id. */
  p: string;
  /** Sequence number of the first event. */
  s: number;
  /** When the payload was packed. */
  t: string;
  /** Tenant ids referenced by index. */
  T: string[];
  e: unknown[][];
}

function toWire(event: PlaneEvent, tenant: number): unknown[] {
  switch (event.type) {
    case 'job': return ['j', tenant, event.jobId, event.status, event.queue, event.task, event.attempt, event.scheduleId];
    case 'job-output': return ['o', tenant, event.jobId, event.attempt];
    case 'schedule': return ['s', tenant, event.scheduleId, event.action];
    case 'queue': return ['q', tenant, event.queue, event.action];
  }
}

function fromWire(entry: unknown, tenants: readonly string[], at: string): PlaneEvent | null {
  if (!Array.isArray(entry)) return null;
  const tenantId = typeof entry[1] === 'number' ? tenants[entry[1]] : undefined;
  if (typeof tenantId !== 'string') return null;
  const str = (i: number): string | null => (typeof entry[i] === 'string' ? (entry[i]) : null);
  switch (entry[0]) {
    case 'j': {
      const [jobId, status, queue, task] = [str(2), str(3), str(4), str(5)];
      if (!jobId || !status || !queue || !task || typeof entry[6] !== 'number') return null;
      return { type: 'job', tenantId, jobId, status: status as JobStatus, queue, task, attempt: entry[6], scheduleId: str(7), at };
    }
    case 'o': {
      const jobId = str(2);
      return jobId && typeof entry[3] === 'number' ? { type: 'job-output', tenantId, jobId, attempt: entry[3], at } : null;
    }
    case 's': {
      const [scheduleId, action] = [str(2), str(3)];
      return scheduleId && action ? { type: 'schedule', tenantId, scheduleId, action: action as ScheduleAction, at } : null;
    }
    case 'q': {
      const [queue, action] = [str(2), str(3)];
      return queue && action ? { type: 'queue', tenantId, queue, action: action as QueueAction, at } : null;
    }
    default:
      return null;
  }
}

/**
 * Pack events into NOTIFY payloads of at most {@link MAX_PAYLOAD_BYTES}. Event n of the
 * publisher gets the id `${publisher}.${n}`; `firstSeq` is the number of the first event; `at`
 * (an ISO time, the caller's clock) is when the payload was packed. An
 * event too large for a payload on its own is skipped (its number stays unused, which subscribers
 * see as a gap; none of ours comes close: names are at most 128 characters).
 */
export function encodeEvents(publisher: string, firstSeq: number, events: readonly PlaneEvent[], at: string): string[] {
  const payloads: string[] = [];
  // Tenant ids, each up to 36 bytes plus quotes, are budgeted as they are added.
  const fixed = Buffer.byteLength(JSON.stringify({ p: publisher, s: Number.MAX_SAFE_INTEGER, t: at, T: [], e: [] }));
  let tenants = new Map<string, number>();
  let parts: string[] = [];
  let bytes = fixed;
  let batchSeq = firstSeq;
  const flush = (): void => {
    if (parts.length > 0) {
      payloads.push(`{"p":${JSON.stringify(publisher)},"s":${batchSeq},"t":"${at}","T":${JSON.stringify([...tenants.keys()])},"e":[${parts.join(',')}]}`);
    }
    tenants = new Map();
    parts = [];
    bytes = fixed;
  };
  events.forEach((event, i) => {
    const known = tenants.get(event.tenantId);
    const tenantBytes = known === undefined ? Buffer.byteLength(JSON.stringify(event.tenantId)) + 1 : 0;
    const text = JSON.stringify(toWire(event, known ?? tenants.size));
    const size = Buffer.byteLength(text) + 1;
    if (fixed + tenantBytes + size > MAX_PAYLOAD_BYTES) {
      flush();
      return;
    }
    if (bytes + tenantBytes + size > MAX_PAYLOAD_BYTES) {
      flush();
      // The tenant table starts afresh in the next payload.
      const again = JSON.stringify(toWire(event, 0));
      tenants.set(event.tenantId, 0);
      batchSeq = firstSeq + i;
      parts.push(again);
      bytes += Buffer.byteLength(JSON.stringify(event.tenantId)) + 1 + Buffer.byteLength(again) + 1;
      return;
    }
    if (parts.length === 0) batchSeq = firstSeq + i;
    if (known === undefined) tenants.set(event.tenantId, tenants.size);
    parts.push(text);
    bytes += tenantBytes + size;
  });
  flush();
  return payloads;
}

/** One decoded NOTIFY payload. */
export interface DecodedPayload {
  publisher: string;
  /** Sequence number of the first event; the next payload of this publisher starts at `first + count`. */
  first: number;
  /** How many numbers the payload covers (malformed events inside it are skipped but counted). */
  count: number;
  events: StreamEvent[];
}

/** Unpack one NOTIFY payload; a malformed payload yields null. */
export function decodeEvents(payload: string): DecodedPayload | null {
  let message: unknown;
  try {
    message = JSON.parse(payload);
  } catch {
    return null;
  }
  if (typeof message !== 'object' || message === null) return null;
  const { p, s, t, T, e } = message as Partial<WireMessage>;
  if (typeof p !== 'string' || typeof s !== 'number' || !Number.isSafeInteger(s) || typeof t !== 'string' || !Array.isArray(T) || !Array.isArray(e)) return null;
  const events: StreamEvent[] = [];
  e.forEach((entry, i) => {
    const event = fromWire(entry, T, t);
    if (event) events.push({ ...event, id: `${p}.${s + i}` });
  });
  return { publisher: p, first: s, count: e.length, events };
}

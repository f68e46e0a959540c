/**
 * Live events: what changed, for the SSE stream (`GET /api/v1/events`). Pure: the wire format
 * between processes (PostgreSQL NOTIFY payloads), the subscriber filter and the ring buffer that
 * serves `Last-Event-ID` resume.
 *
 * Events are published after the change committed, so a subscriber never hears of a change that
 * was rolled back. They are notifications, not the record: the job row is the truth, and a
 * subscriber that missed events (it was disconnected for too long, or a publisher crashed between
 * its commit and its publish) is told to re-read (`reset`).
 */
import type { JobStatus } from './job-states.js';

/** A job that changed, as the statement that changed it returned it. */
export interface JobChange {
  id: string;
  tenantId: string;
  queue: string;
  task: string;
  status: JobStatus;
  attempt: number;
  scheduleId: string | null;
}

/** What can happen to a schedule. */
export type ScheduleAction = 'created' | 'updated' | 'deleted' | 'paused' | 'resumed' | 'triggered';
/** What can happen to a queue. */
export type QueueAction = 'paused' | 'resumed' | 'limit';

/** An event as published (without the id the stream gives it). */
export type PlaneEvent =
  | { type: 'job'; tenantId: string; jobId: string; status: JobStatus; queue: string; task: string; attempt: number; scheduleId: string | null; at: string }
  | { type: 'job-output'; tenantId: string; jobId: string; attempt: number; at: string }
  | { type: 'schedule'; tenantId: string; scheduleId: string; action: ScheduleAction; at: string }
  | { type: 'queue'; tenantId: string; queue: string; action: QueueAction; at: string };

/** An event with its stream id (opaque, unique, the same in every API process). */
export type StreamEvent = PlaneEvent & { id: string };

/** The event types a subscriber may ask for. */
export const EVENT_TYPES = ['job', 'job-output', 'schedule', 'queue'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Turn a changed job into its event. */
export function jobEvent(change: JobChange, at: string): PlaneEvent {
  return {
    type: 'job',
    tenantId: change.tenantId,
    jobId: change.id,
    status: change.status,
    queue: change.queue,
    task: change.task,
    attempt: change.attempt,
    scheduleId: change.scheduleId,
    at,
  };
}

/** Where events go after commit. Never throws and never blocks the caller. */
export interface EventSink {
  publish(events: readonly PlaneEvent[]): void;
  /** Resolves once every event published so far was sent (or given up on); never rejects. */
  flushed(): Promise<void>;
}

/** A sink that drops everything. */
export const nullEventSink: EventSink = { publish: () => undefined, flushed: () => Promise.resolve() };

// ---- wire format ------------------------------------------------------------------------------

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
 * publisher gets the id `${publisher}.${n}`; `firstSeq` is the number of the first event. An
 * event too large for a payload on its own is skipped (its number stays unused, which subscribers
 * see as a gap; none of ours comes close: names are at most 128 characters).
 */
export function encodeEvents(publisher: string, firstSeq: number, events: readonly PlaneEvent[], at = new Date().toISOString()): string[] {
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

// ---- filters ----------------------------------------------------------------------------------

/** What a subscriber wants to see. Tenant is always set: a stream never crosses tenants. */
export interface EventFilter {
  tenantId: string;
  types: ReadonlySet<EventType> | null;
  statuses: ReadonlySet<JobStatus> | null;
  queues: ReadonlySet<string> | null;
  tasks: ReadonlySet<string> | null;
  jobId: string | null;
  scheduleId: string | null;
}

/** Does `event` pass `filter`? Job filters (status, task, job) do not hide schedule or queue events unless they name one. */
export function matchesFilter(event: PlaneEvent, filter: EventFilter): boolean {
  if (event.tenantId !== filter.tenantId) return false;
  if (filter.types && !filter.types.has(event.type)) return false;
  switch (event.type) {
    case 'job':
      if (filter.statuses && !filter.statuses.has(event.status)) return false;
      if (filter.queues && !filter.queues.has(event.queue)) return false;
      if (filter.tasks && !filter.tasks.has(event.task)) return false;
      if (filter.jobId !== null && event.jobId !== filter.jobId) return false;
      if (filter.scheduleId !== null && event.scheduleId !== filter.scheduleId) return false;
      return true;
    case 'job-output':
      return filter.jobId === null || event.jobId === filter.jobId;
    case 'schedule':
      return filter.jobId === null && (filter.scheduleId === null || event.scheduleId === filter.scheduleId);
    case 'queue':
      return filter.jobId === null && filter.scheduleId === null && (filter.queues === null || filter.queues.has(event.queue));
  }
}

// ---- resume buffer ----------------------------------------------------------------------------

/**
 * The last `capacity` events in the order this process received them. Every API process receives
 * NOTIFY payloads in the same (commit) order, so "the events after id X" means the same thing in
 * every process that was listening when X was published.
 */
export class EventRing {
  private readonly items: Array<StreamEvent | undefined>;
  private readonly index = new Map<string, number>();
  /** Total events ever pushed; the next event's position. */
  private next = 0;

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
    this.items = new Array<StreamEvent | undefined>(capacity);
  }

  push(event: StreamEvent): void {
    const slot = this.next % this.capacity;
    const old = this.items[slot];
    if (old) this.index.delete(old.id);
    this.items[slot] = event;
    this.index.set(event.id, this.next);
    this.next += 1;
  }

  /** Events after `id`, oldest first; null when `id` is not (or no longer) in the buffer. */
  after(id: string): StreamEvent[] | null {
    const position = this.index.get(id);
    if (position === undefined) return null;
    const out: StreamEvent[] = [];
    for (let p = position + 1; p < this.next; p += 1) out.push(this.items[p % this.capacity]!);
    return out;
  }

  /** Forget everything (after a gap in the notification stream, old ids no longer resume). */
  clear(): void {
    this.items.fill(undefined);
    this.index.clear();
  }
}

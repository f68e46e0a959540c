/**
 * Live events: what changed, for the SSE stream (`GET /api/v1/events`). Pure: the event shapes,
 * the subscriber filter and the ring buffer that serves `Last-Event-ID` resume. The wire format
 * between processes (PostgreSQL NOTIFY payloads) is in ./event-wire.ts.
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
  /**
   * False when events published now would be dropped (nobody subscribes), so a caller on the hot
   * path can skip building them. Absent means always wanted.
   */
  wanted?(): boolean;
  /** Resolves once every event published so far was sent (or given up on); never rejects. */
  flushed(): Promise<void>;
}

/** A sink that drops everything. */
export const nullEventSink: EventSink = { publish: () => undefined, flushed: () => Promise.resolve() };

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

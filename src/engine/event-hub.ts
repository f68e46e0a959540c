import type { Logger } from '../core/deps.js';
import { decodeEvents } from '../core/event-wire.js';
import { EventRing, matchesFilter, type EventFilter, type StreamEvent } from '../core/live-events.js';
import { NotificationListener } from '../db/listener.js';
import type { Pool } from '../db/pool.js';
import { randomBytes } from 'node:crypto';
import { dropEventInterest, EVENTS_CHANNEL, renewEventInterest } from '../db/queries/event-channel.js';
import { holdLocalInterest, releaseLocalInterest } from './event-publisher.js';

/** What a subscriber receives: an event, or word that events were missed and state must be re-read. */
export type HubMessage =
  | { kind: 'event'; event: StreamEvent }
  | { kind: 'reset'; reason: 'resume-unavailable' | 'gap' | 'warming'; resumeId: string | null };

/** Options for {@link EventHub}. */
export interface EventHubOptions {
  pool: Pool;
  logger: Logger;
  /** Events kept for `Last-Event-ID` resume. @defaultValue 10000 */
  bufferSize?: number;
  /**
   * Interest lease: publishers everywhere keep publishing this long after the last subscriber
   * left (so a reconnect can resume). Renewed every third of it while anyone subscribes. @defaultValue 30000
   */
  interestTtlMs?: number;
  /** How long publishers in other processes may take to notice new interest (EventPublisher's interestPollMs, doubled). @defaultValue 2000 */
  warmUpMs?: number;
}

interface Subscriber {
  filter: EventFilter;
  deliver: (message: HubMessage) => void;
}

/** Publishers whose numbering is tracked for gap detection (transactional submits each use a fresh one). */
const MAX_TRACKED_PUBLISHERS = 10_000;

/**
 * One per API process: a single LISTEN connection on the events channel, fanned out to every SSE
 * subscriber of the process. Keeps the latest events for `Last-Event-ID` resume. When events may
 * have been missed (the LISTEN connection dropped, or a publisher's numbering jumped), every
 * subscriber gets a `reset` and old ids stop resuming: the honest answer is "re-read", not a
 * stream with a silent hole.
 * Lifecycle: `start()`, `stop()`; `ingest()` is the listener's entry point (and the tests').
 */
export class EventHub {
  private readonly ring: EventRing;
  private readonly subscribers = new Set<Subscriber>();
  private readonly nextSeq = new Map<string, number>();
  private readonly listener: NotificationListener;
  private connectedOnce = false;
  private lastId: string | null = null;
  private readonly hubId = randomBytes(9).toString('base64url');
  /** Publishers may be publishing for us (our interest is current). */
  private warm = false;
  private renewTimer: NodeJS.Timeout | null = null;
  private coolTimer: NodeJS.Timeout | null = null;
  private warmUpTimer: NodeJS.Timeout | null = null;
  private readonly interestTtlMs: number;

  constructor(private readonly options: EventHubOptions) {
    this.ring = new EventRing(options.bufferSize ?? 10_000);
    this.interestTtlMs = options.interestTtlMs ?? 30_000;
    this.listener = new NotificationListener({
      pool: options.pool,
      channels: [EVENTS_CHANNEL],
      logger: options.logger,
      onNotification: (_channel, payload) => this.ingest(payload),
      onConnected: () => {
        if (this.connectedOnce) this.gap('the event connection was lost and restored');
        this.connectedOnce = true;
      },
    });
  }

  async start(): Promise<void> {
    await this.listener.start();
  }

  async stop(): Promise<void> {
    for (const timer of [this.renewTimer, this.coolTimer, this.warmUpTimer]) if (timer) clearTimeout(timer);
    releaseLocalInterest(this);
    if (this.warm) await dropEventInterest(this.options.pool, this.hubId).catch(() => undefined);
    this.warm = false;
    await this.listener.stop();
    this.subscribers.clear();
  }

  /** Live subscribers in this process. */
  get size(): number {
    return this.subscribers.size;
  }

  /**
   * Subscribe. With `lastEventId`, the buffered events after it are returned for replay (or a
   * `reset` when that id is unknown here). Live events are delivered through `deliver`.
   */
  subscribe(filter: EventFilter, lastEventId: string | null, deliver: (message: HubMessage) => void): { replay: HubMessage[]; unsubscribe: () => void } {
    if (this.subscribers.size === 0) this.heat();
    let replay: HubMessage[] = [];
    if (lastEventId !== null) {
      const after = this.ring.after(lastEventId);
      replay = after === null
        ? [{ kind: 'reset', reason: 'resume-unavailable', resumeId: this.lastId }]
        : after.filter((e) => matchesFilter(e, filter)).map((event) => ({ kind: 'event', event }));
    }
    const subscriber: Subscriber = { filter, deliver };
    this.subscribers.add(subscriber);
    return {
      replay,
      unsubscribe: () => {
        if (this.subscribers.delete(subscriber) && this.subscribers.size === 0) this.cool();
      },
    };
  }

  /**
   * The first subscriber arrived. If our interest had lapsed, publishers may have stopped: the
   * buffer cannot resume across that pause, and publishers in other processes take up to
   * `warmUpMs` to notice; after that, subscribers get one `reset` so they re-read what they show.
   */
  private heat(): void {
    if (this.coolTimer) clearTimeout(this.coolTimer);
    this.coolTimer = null;
    holdLocalInterest(this);
    const cold = !this.warm;
    if (cold) {
      this.warm = true;
      this.ring.clear();
      this.lastId = null;
    }
    if (this.renewTimer) return;
    const renew = (): Promise<void> =>
      renewEventInterest(this.options.pool, this.hubId, this.interestTtlMs).catch((error: unknown) =>
        this.options.logger.warn({ err: (error as Error).message }, 'could not renew live-event interest'),
      );
    this.renewTimer = setInterval(() => void renew(), Math.max(100, Math.floor(this.interestTtlMs / 3)));
    this.renewTimer.unref();
    void renew().then(() => {
      if (!cold || this.warmUpTimer) return;
      // Publishers elsewhere see the row within their poll interval; after that, re-read.
      this.warmUpTimer = setTimeout(() => {
        this.warmUpTimer = null;
        for (const subscriber of this.subscribers) subscriber.deliver({ kind: 'reset', reason: 'warming', resumeId: this.lastId });
      }, this.options.warmUpMs ?? 2000);
      this.warmUpTimer.unref();
    });
  }

  /**
   * The last subscriber left: stop renewing, so the interest row lapses within its lease. Until
   * then a reconnect resumes from the buffer; the hub counts itself cold a little before the row
   * can lapse (two thirds of the lease after the last renewal at the latest).
   */
  private cool(): void {
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = null;
    if (this.coolTimer) clearTimeout(this.coolTimer);
    this.coolTimer = setTimeout(() => {
      this.coolTimer = null;
      if (this.subscribers.size > 0) return;
      releaseLocalInterest(this);
      this.warm = false;
    }, Math.floor((this.interestTtlMs * 2) / 3));
    this.coolTimer.unref();
  }

  /** Take in one NOTIFY payload. */
  ingest(payload: string): void {
    const decoded = decodeEvents(payload);
    if (!decoded) {
      this.options.logger.warn({ bytes: payload.length }, 'ignored a malformed event payload');
      return;
    }
    const expected = this.nextSeq.get(decoded.publisher);
    if (expected !== undefined && decoded.first > expected) this.gap('a publisher could not send some events');
    if (this.nextSeq.size >= MAX_TRACKED_PUBLISHERS && expected === undefined) this.nextSeq.clear();
    this.nextSeq.set(decoded.publisher, decoded.first + decoded.count);
    for (const event of decoded.events) {
      this.ring.push(event);
      this.lastId = event.id;
      for (const subscriber of this.subscribers) {
        if (matchesFilter(event, subscriber.filter)) subscriber.deliver({ kind: 'event', event });
      }
    }
  }

  private gap(why: string): void {
    this.options.logger.warn({ subscribers: this.subscribers.size }, `live events may have been missed: ${why}; subscribers are told to re-read`);
    this.ring.clear();
    this.lastId = null;
    for (const subscriber of this.subscribers) subscriber.deliver({ kind: 'reset', reason: 'gap', resumeId: null });
  }
}

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { actorOf } from '../../core/access.js';
import { EVENT_TYPES, type EventFilter, type EventType } from '../../core/live-events.js';
import { isJobStatus, type JobStatus } from '../../core/job-states.js';
import { defaultTenantStreamLimit, StreamQuota, type StreamAdmission } from '../../core/stream-quota.js';
import type { Pool } from '../../db/pool.js';
import type { EventHub, HubMessage } from '../../engine/event-hub.js';
import { readJob } from '../../engine/job-service.js';
import { AppError, invalidField } from '../../errors/index.js';
import { principalOf } from '../plugins/auth.js';
import { IdParams, problemResponses } from '../schemas/common.js';
import type { Clock } from '../../core/deps.js';

/** Options for {@link eventRoutes}. */
export interface EventRouteOptions {
  pool: Pool;
  hub: EventHub;
  /** Stamps the opening snapshot of a job's stream. */
  clock: Clock;
  /** Comment line sent when nothing else was, so proxies keep the connection. @defaultValue 15000 */
  heartbeatMs?: number;
  /** Streams one process serves at once; more get 503 TOO_MANY_STREAMS. @defaultValue 1000 */
  maxStreams?: number;
  /** Streams one tenant holds in this process; more get 429 STREAM_QUOTA_EXCEEDED. Null or absent: half of maxStreams, at least 1. */
  maxStreamsPerTenant?: number | null;
  /** Streams one user or API key holds in this process; more get 429 STREAM_QUOTA_EXCEEDED. @defaultValue 10 */
  maxStreamsPerPrincipal?: number;
}

/**
 * Retry-After of a 429 STREAM_QUOTA_EXCEEDED. A slot frees only when one of the caller's (or its
 * tenant's) streams ends, which a quick retry will not see; a reconnecting client should wait.
 */
export const STREAM_QUOTA_RETRY_AFTER_S = 30;

/** A 429 the problem handler answers with a Retry-After header. */
class StreamQuotaError extends AppError {
  readonly retryAfterS = STREAM_QUOTA_RETRY_AFTER_S;
}

/** A subscriber this far behind (bytes not yet taken by the socket) is cut off; it resumes with Last-Event-ID. */
const MAX_BACKLOG_BYTES = 1_048_576;
const NAME = { maxLength: 1000, description: 'comma list' };
const LAST_EVENT_ID = /^[A-Za-z0-9_-]{1,32}\.[0-9]{1,16}$/;

const EventsQuery = Type.Object({
  types: Type.Optional(Type.String({ ...NAME, description: `comma list of ${EVENT_TYPES.join(', ')} (default: all)` })),
  status: Type.Optional(Type.String({ ...NAME, description: 'job statuses, comma list' })),
  queue: Type.Optional(Type.String(NAME)),
  task: Type.Optional(Type.String(NAME)),
  jobId: Type.Optional(Type.String({ format: 'uuid' })),
  scheduleId: Type.Optional(Type.String({ format: 'uuid' })),
  lastEventId: Type.Optional(Type.String({ maxLength: 64, description: 'resume after this event (same as the Last-Event-ID header)' })),
}, { additionalProperties: false });

const STREAM_DESCRIPTION = [
  'Server-sent events (`text/event-stream`) of the caller\'s tenant, fed by PostgreSQL LISTEN/NOTIFY so every API process sees every change.',
  'Event names: `job` (a job changed status: data has jobId, status, queue, task, attempt, scheduleId, at), `job-output` (new progress or log lines: read them from /jobs/{id}/logs),',
  '`schedule` (created, updated, deleted, paused, resumed, triggered), `queue` (paused, resumed, limit), and `reset`: events may have been missed (resume was not possible, or the stream had a gap) — re-read the state you show.',
  'Reconnect with `Last-Event-ID` (or `?lastEventId=`) to resume; a `: ping` comment comes every 15 s.',
  'Streams per process are capped per user or API key and per tenant (429 `STREAM_QUOTA_EXCEEDED`, with `Retry-After`) and in all (503 `TOO_MANY_STREAMS`).',
].join(' ');

/** `GET /api/v1/events` (tenant-wide, filterable) and `GET /api/v1/jobs/:id/events` (one job). */
export async function eventRoutes(app: FastifyInstance, options: EventRouteOptions): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const maxStreams = options.maxStreams ?? 1000;
  const quota = new StreamQuota({
    total: maxStreams,
    perTenant: options.maxStreamsPerTenant ?? defaultTenantStreamLimit(maxStreams),
    perPrincipal: options.maxStreamsPerPrincipal ?? 10,
  });
  const open = new Set<(closing: boolean) => void>();
  // On shutdown every stream ends and its socket goes with it: clients reconnect (to another
  // process) with Last-Event-ID, and the server's close does not wait on their connections.
  app.addHook('preClose', (done) => {
    for (const end of [...open]) end(true);
    done();
  });

  const streamResponse = { 200: { description: 'an event stream', content: { 'text/event-stream': { schema: Type.String() } } }, ...problemResponses, 429: Type.Ref('Problem'), 503: Type.Ref('Problem') };

  r.get('/api/v1/events', {
    config: { permission: 'jobs:read' },
    schema: { tags: ['events'], summary: 'Live job, schedule and queue changes (SSE)', description: STREAM_DESCRIPTION, querystring: EventsQuery, response: streamResponse },
  }, async (request, reply) => {
    const q = request.query;
    const filter: EventFilter = {
      tenantId: principalOf(request).tenantId,
      types: parseList(q.types, '/types', (v): v is EventType => (EVENT_TYPES as readonly string[]).includes(v)),
      statuses: parseList(q.status, '/status', (v): v is JobStatus => isJobStatus(v)),
      queues: parseList(q.queue, '/queue', (v): v is string => v.length <= 128),
      tasks: parseList(q.task, '/task', (v): v is string => v.length <= 128),
      jobId: q.jobId?.toLowerCase() ?? null,
      scheduleId: q.scheduleId?.toLowerCase() ?? null,
    };
    stream(request, reply, filter, lastEventIdOf(request, q.lastEventId), null);
  });

  r.get('/api/v1/jobs/:id/events', {
    config: { permission: 'jobs:read' },
    schema: {
      tags: ['events'],
      summary: 'Live changes of one job (SSE); starts with its current state',
      description: 'The first event, `job` without an id, is the job\'s state when the stream opened; then as /api/v1/events filtered to this job.',
      params: IdParams,
      querystring: Type.Object({ lastEventId: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: false }),
      response: streamResponse,
    },
  }, async (request, reply) => {
    const principal = principalOf(request);
    const job = await readJob(options.pool, { tenantId: principal.tenantId }, request.params.id);
    const filter: EventFilter = { tenantId: principal.tenantId, types: null, statuses: null, queues: null, tasks: null, jobId: job.id, scheduleId: null };
    // Read again once subscribed, so no change can fall between the snapshot and the stream.
    const snapshot = async (): Promise<JobSnapshot> => {
      const now = await readJob(options.pool, { tenantId: principal.tenantId }, job.id);
      return { type: 'job', jobId: now.id, status: now.status, queue: now.queue, task: now.task, attempt: now.attempt, scheduleId: now.scheduleId, at: new Date(options.clock.nowMs()).toISOString() };
    };
    stream(request, reply, filter, lastEventIdOf(request, request.query.lastEventId), snapshot);
  });

  function stream(request: FastifyRequest, reply: FastifyReply, filter: EventFilter, lastEventId: string | null, snapshot: (() => Promise<JobSnapshot>) | null): void {
    // Released in end(), which every way a stream stops goes through: the client leaves, the app
    // closes, the subscriber falls too far behind, the job's snapshot cannot be read.
    const slot = admit(principalOf(request).tenantId, actorOf(principalOf(request)));
    const res = reply.raw;
    reply.hijack();
    res.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
      'x-request-id': request.id,
      // A stream holds its connection to the end; closing it then keeps a server shutdown from
      // waiting on a keep-alive socket the client never reuses.
      connection: 'close',
    });
    let ended = false;
    const write = (text: string): void => {
      if (ended) return;
      res.write(text);
      if (res.writableLength > MAX_BACKLOG_BYTES) {
        request.log.warn({ backlog: res.writableLength }, 'event stream subscriber too slow; disconnecting (it can resume)');
        end(true);
      }
    };
    // A per-job stream holds live events until its snapshot is out, then skips job events that
    // repeat the state it last sent (a submit's own event arriving after the snapshot).
    let held: HubMessage[] | null = snapshot ? [] : null;
    let last: { status: string; attempt: number } | null = null;
    const deliver = (message: HubMessage): void => {
      if (snapshot && message.kind === 'event' && message.event.type === 'job') {
        if (last && message.event.status === last.status && message.event.attempt === last.attempt) return;
        last = { status: message.event.status, attempt: message.event.attempt };
      }
      write(format(message));
    };
    const send = (message: HubMessage): void => {
      if (held) held.push(message);
      else deliver(message);
    };
    const { replay, unsubscribe } = options.hub.subscribe(filter, lastEventId, send);
    const timer = setInterval(() => write(': ping\n\n'), heartbeatMs);
    timer.unref();
    const end = (closing = false): void => {
      if (ended) return;
      ended = true;
      clearInterval(timer);
      unsubscribe();
      slot.release();
      open.delete(end);
      res.end(() => {
        if (closing) res.socket?.destroy();
      });
    };
    open.add(end);
    res.on('close', () => end());
    res.on('error', () => end());
    // The per-job route awaits a read first: a client gone by now has no 'close' left to send.
    if (res.destroyed || res.socket?.destroyed !== false) {
      end();
      return;
    }
    write('retry: 3000\n: connected\n\n');
    for (const message of replay) send(message);
    if (snapshot) {
      snapshot().then(
        (state) => {
          last = { status: state.status, attempt: state.attempt };
          write(`event: job\ndata: ${JSON.stringify(state)}\n\n`);
          const queued = held ?? [];
          held = null;
          for (const message of queued) deliver(message);
        },
        (error: unknown) => {
          request.log.warn({ err: (error as Error).message }, 'could not read the job for its event stream');
          end(true);
        },
      );
    }
  }

  /** A slot for one more stream of this caller, or the error that says which cap is full. */
  function admit(tenantId: string, principal: string): Extract<StreamAdmission, { admitted: true }> {
    const admission = quota.admit(tenantId, principal);
    if (admission.admitted) return admission;
    switch (admission.scope) {
      case 'process':
        throw new AppError('TOO_MANY_STREAMS', `this process already serves ${admission.limit} event streams; retry later or on another API process`);
      case 'tenant':
        throw new StreamQuotaError('STREAM_QUOTA_EXCEEDED', `your tenant already holds ${admission.limit} event streams on this process (SSE_MAX_STREAMS_PER_TENANT); close one and retry`);
      case 'principal':
        throw new StreamQuotaError('STREAM_QUOTA_EXCEEDED', `this user or key already holds ${admission.limit} event streams on this process (SSE_MAX_STREAMS_PER_USER); close one (another tab?) and retry`);
    }
  }
}

/** The first event of a per-job stream: the job's state when the stream opened. */
interface JobSnapshot {
  type: 'job';
  jobId: string;
  status: string;
  queue: string;
  task: string;
  attempt: number;
  scheduleId: string | null;
  at: string;
}

/** One SSE frame. Job-provided text travels inside JSON, so it cannot break the framing. */
function format(message: HubMessage): string {
  if (message.kind === 'reset') {
    return `${message.resumeId ? `id: ${message.resumeId}\n` : ''}event: reset\ndata: ${JSON.stringify({ type: 'reset', reason: message.reason })}\n\n`;
  }
  const { id, tenantId: _tenant, ...data } = message.event;
  return `id: ${id}\nevent: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
}

function lastEventIdOf(request: FastifyRequest, fromQuery: string | undefined): string | null {
  const header = request.headers['last-event-id'];
  const value = typeof header === 'string' && header.length > 0 ? header : fromQuery;
  if (value === undefined || value === '') return null;
  // An id this process could never have issued cannot resume; answer it like an expired one.
  return LAST_EVENT_ID.test(value) ? value : 'unknown.0';
}

function parseList<T extends string>(value: string | undefined, pointer: string, valid: (v: string) => v is T): ReadonlySet<T> | null {
  if (value === undefined) return null;
  const parts = value.split(',').map((v) => v.trim()).filter(Boolean);
  if (parts.length === 0) return null;
  const bad = parts.filter((p) => !valid(p));
  if (bad.length > 0) throw invalidField(pointer, `unknown value ${bad.map((b) => JSON.stringify(b)).join(', ')}`);
  return new Set(parts as T[]);
}

/**
 * A typed client for the Jobplane REST API (fetch-based, no dependencies). Errors come back as
 * `ApiError` carrying the problem document's stable `code`.
 */
import { SseReader, type ApiEvent } from './sse.js';
import type { JobStatus } from '../core/job-states.js';
import type { Scope } from '../core/access.js';

/** A job as the API returns it. */
export interface ApiJob {
  id: string;
  queue: string;
  task: string;
  status: JobStatus;
  priority: number;
  runAt: string;
  attempt: number;
  maxAttempts: number;
  attemptsLeft: number;
  payload: unknown;
  result: unknown;
  progress: unknown;
  errors: Array<{ attempt: number; kind: string; message: string; name?: string; workerId: string | null; at: string }>;
  labels: Record<string, string>;
  placement: { kind: string; zone: string | null; workerId: string | null; assignedZone: string | null; assignedWorker: string | null };
  timeoutMs: number | null;
  idempotencyKey: string | null;
  workerId: string | null;
  cancelRequestedAt: string | null;
  scheduleId: string | null;
  fireAt: string | null;
  createdBy: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** What can be submitted (see JobSpec in the SDK; dates as RFC 3339 strings). */
export interface ApiJobSubmit {
  task: string;
  payload?: unknown;
  queue?: string;
  priority?: number;
  runAt?: string;
  delayMs?: number;
  maxAttempts?: number;
  backoff?: { type?: 'exponential' | 'fixed'; baseMs?: number; factor?: number; maxMs?: number; jitter?: number };
  timeoutMs?: number;
  idempotencyKey?: string;
  placement?: { zone?: string; workerId?: string; policy?: 'greenest'; deadline?: string };
  labels?: Record<string, string>;
}

/** A schedule as the API returns it. */
export interface ApiSchedule {
  id: string;
  name: string;
  description: string | null;
  cron: string | null;
  intervalMs: number | null;
  timezone: string;
  describe: string;
  task: string;
  queue: string;
  payload: unknown;
  jobOptions: Record<string, unknown>;
  misfirePolicy: string;
  catchUpMax: number;
  misfireGraceMs: number;
  overlapPolicy: string;
  paused: boolean;
  nextFireAt: string | null;
  lastFireAt: string | null;
  createdBy: string | null;
  createdAt: string;
  updatedAt: string;
}

/** One entry of the tamper-evident audit log. */
export interface ApiAuditEntry {
  seq: string;
  at: string;
  actor: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  before: unknown;
  after: unknown;
  requestId: string | null;
  clientIp: string | null;
  prevHash: string | null;
  hash: string;
}

/** A tenant secret as the API shows it: metadata only, never the value. */
export interface ApiSecret {
  name: string;
  description: string | null;
  /** Id of the key the value is encrypted under. */
  keyId: string;
  /** Always true: a value is stored (it is never returned). */
  set: true;
  createdAt: string;
  updatedAt: string;
  createdBy: string | null;
  updatedBy: string | null;
}

/** An RFC 9457 problem returned by the API. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly problem: Record<string, unknown>;
  constructor(status: number, problem: Record<string, unknown>) {
    super(typeof problem.detail === 'string' ? problem.detail : `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = typeof problem.code === 'string' ? problem.code : 'HTTP_ERROR';
    this.problem = problem;
  }
}

/** Options for {@link JobplaneClient}. */
export interface ClientOptions {
  /** e.g. http://127.0.0.1:8080 */
  baseUrl: string;
  /** An access token or API key (sent as `Authorization: Bearer`). */
  token?: string;
  /** Replace the global fetch (tests, proxies). */
  fetch?: typeof fetch;
}

type Query = Record<string, string | number | undefined>;

/** The REST API as typed methods. */
/** A tenant as the API lists it. */
export interface TenantInfo {
  id: string;
  slug: string;
  name: string;
  users: number;
  createdAt: string;
}

export class JobplaneClient {
  private token: string | undefined;
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = options.token;
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** Log in with a username and password; later calls use the access token. */
  async login(username: string, password: string): Promise<{ accessToken: string; refreshToken: string; expiresIn: number }> {
    const session = await this.request<{ accessToken: string; refreshToken: string; expiresIn: number }>('POST', '/api/v1/auth/login', { body: { username, password } });
    this.token = session.accessToken;
    return session;
  }

  /** Rotate a refresh token; later calls use the new access token. */
  async refresh(refreshToken: string): Promise<{ accessToken: string; refreshToken: string; expiresIn: number }> {
    const session = await this.request<{ accessToken: string; refreshToken: string; expiresIn: number }>('POST', '/api/v1/auth/refresh', { body: { refreshToken } });
    this.token = session.accessToken;
    return session;
  }

  readonly jobs = {
    submit: (job: ApiJobSubmit, options: { idempotencyKey?: string } = {}) =>
      this.request<ApiJob>('POST', '/api/v1/jobs', { body: job, headers: options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {} }),
    submitBatch: (jobs: ApiJobSubmit[]) => this.request<{ jobs: Array<{ id: string; status: string; created: boolean }> }>('POST', '/api/v1/jobs/batch', { body: { jobs } }),
    list: (query: { status?: string; queue?: string; task?: string; scheduleId?: string; since?: string; until?: string; q?: string; cursor?: string; limit?: number } = {}) =>
      this.request<{ jobs: ApiJob[]; nextCursor: string | null }>('GET', '/api/v1/jobs', { query }),
    get: (id: string) => this.request<ApiJob>('GET', `/api/v1/jobs/${encodeURIComponent(id)}`),
    cancel: (id: string) => this.request<ApiJob>('POST', `/api/v1/jobs/${encodeURIComponent(id)}/cancel`),
    retry: (id: string, body: { runAt?: string } = {}) => this.request<ApiJob>('POST', `/api/v1/jobs/${encodeURIComponent(id)}/retry`, { body }),
    reschedule: (id: string, body: { runAt?: string; priority?: number }) => this.request<ApiJob>('POST', `/api/v1/jobs/${encodeURIComponent(id)}/reschedule`, { body }),
    logs: (id: string, query: { after?: string; limit?: number } = {}) =>
      this.request<{ lines: Array<{ id: string; attempt: number; level: string; message: string; fields: unknown; at: string }> }>('GET', `/api/v1/jobs/${encodeURIComponent(id)}/logs`, { query }),
  };

  readonly schedules = {
    create: (spec: Record<string, unknown>) => this.request<ApiSchedule>('POST', '/api/v1/schedules', { body: spec }),
    list: (query: { after?: string; limit?: number } = {}) => this.request<{ schedules: ApiSchedule[]; nextCursor: string | null }>('GET', '/api/v1/schedules', { query }),
    get: (id: string) => this.request<ApiSchedule>('GET', `/api/v1/schedules/${encodeURIComponent(id)}`),
    update: (id: string, patch: Record<string, unknown>) => this.request<ApiSchedule>('PATCH', `/api/v1/schedules/${encodeURIComponent(id)}`, { body: patch }),
    remove: (id: string) => this.request<null>('DELETE', `/api/v1/schedules/${encodeURIComponent(id)}`),
    pause: (id: string) => this.request<ApiSchedule>('POST', `/api/v1/schedules/${encodeURIComponent(id)}/pause`),
    resume: (id: string) => this.request<ApiSchedule>('POST', `/api/v1/schedules/${encodeURIComponent(id)}/resume`),
    trigger: (id: string) => this.request<{ jobId: string; fireAt: string }>('POST', `/api/v1/schedules/${encodeURIComponent(id)}/trigger`),
    preview: (id: string, count = 10) => this.request<{ fireTimes: string[] }>('GET', `/api/v1/schedules/${encodeURIComponent(id)}/preview`, { query: { count } }),
    previewSpec: (spec: Record<string, unknown>, count = 10) => this.request<{ fireTimes: string[] }>('POST', '/api/v1/schedules/preview', { body: spec, query: { count } }),
    runs: (id: string, query: { before?: string; limit?: number } = {}) =>
      this.request<{ runs: Array<{ fireAt: string; outcome: string; reason: string; jobId: string | null; jobStatus: string | null; createdAt: string }> }>('GET', `/api/v1/schedules/${encodeURIComponent(id)}/runs`, { query }),
  };

  readonly queues = {
    list: () => this.request<{ queues: Array<{ name: string; paused: boolean; concurrencyLimit: number | null; counts: Record<string, number>; completedLast5m: number; failedLast5m: number }> }>('GET', '/api/v1/queues'),
    pause: (name: string) => this.request<Record<string, unknown>>('POST', `/api/v1/queues/${encodeURIComponent(name)}/pause`),
    resume: (name: string) => this.request<Record<string, unknown>>('POST', `/api/v1/queues/${encodeURIComponent(name)}/resume`),
    setConcurrency: (name: string, limit: number | null) => this.request<Record<string, unknown>>('PUT', `/api/v1/queues/${encodeURIComponent(name)}/concurrency`, { body: { limit } }),
  };

  readonly workers = {
    list: () => this.request<{ workers: Array<Record<string, unknown> & { id: string; zone: string | null; tasks: string[]; running: number }> }>('GET', '/api/v1/workers'),
  };

  readonly users = {
    list: () => this.request<{ users: Array<Record<string, unknown> & { id: string; username: string; role: string }> }>('GET', '/api/v1/users'),
    create: (user: { username: string; password: string; role: 'viewer' | 'manager' | 'admin' }) => this.request<Record<string, unknown> & { id: string }>('POST', '/api/v1/users', { body: user }),
    /** `currentPassword` is needed when setting your own password; `superadmin` only by a superadmin. */
    update: (id: string, change: { role?: 'viewer' | 'manager' | 'admin'; disabled?: boolean; password?: string; currentPassword?: string; superadmin?: boolean }) =>
      this.request<Record<string, unknown>>('PATCH', `/api/v1/users/${encodeURIComponent(id)}`, { body: change }),
    remove: (id: string) => this.request<null>('DELETE', `/api/v1/users/${encodeURIComponent(id)}`),
  };

  /** Tenants (superadmins only). */
  readonly tenants = {
    list: () => this.request<{ tenants: TenantInfo[] }>('GET', '/api/v1/tenants'),
    /** A tenant and its first admin, created together. */
    create: (tenant: { slug: string; name: string; admin: { username: string; password: string } }) =>
      this.request<{ tenant: TenantInfo; admin: Record<string, unknown> & { id: string; username: string; tenantId: string } }>('POST', '/api/v1/tenants', { body: tenant }),
  };

  readonly keys = {
    list: () => this.request<{ keys: Array<Record<string, unknown> & { id: string; prefix: string; scopes: Scope[] }> }>('GET', '/api/v1/keys'),
    create: (key: { name: string; scopes: Scope[]; expiresAt?: string }) => this.request<{ id: string; key: string; prefix: string; scopes: Scope[] }>('POST', '/api/v1/keys', { body: key }),
    revoke: (id: string) => this.request<Record<string, unknown>>('POST', `/api/v1/keys/${encodeURIComponent(id)}/revoke`),
  };

  /** Tenant secrets: list (managers, admins), set and delete (admins). Values go in, never come out. */
  readonly secrets = {
    list: () => this.request<{ secrets: ApiSecret[] }>('GET', '/api/v1/secrets'),
    /** Create or replace; `description` omitted keeps the stored one, "" clears it. */
    set: (name: string, value: string, options: { description?: string } = {}) =>
      this.request<ApiSecret>('PUT', `/api/v1/secrets/${encodeURIComponent(name)}`, { body: { value, ...(options.description !== undefined ? { description: options.description } : {}) } }),
    delete: (name: string) => this.request<null>('DELETE', `/api/v1/secrets/${encodeURIComponent(name)}`),
  };

  readonly audit = {
    /** Audit entries, newest first (admin). */
    list: (query: { action?: string; actor?: string; targetId?: string; since?: string; until?: string; cursor?: string; limit?: number } = {}) =>
      this.request<{ entries: ApiAuditEntry[]; nextCursor: string | null }>('GET', '/api/v1/audit', { query }),
  };

  /** End the session of a refresh token (it and its rotations stop working). */
  logout(refreshToken: string): Promise<null> {
    return this.request<null>('POST', '/api/v1/auth/logout', { body: { refreshToken } });
  }

  /** Who the current credential belongs to. */
  /** Set your own password (the current one is required); every session of yours ends. */
  async changePassword(currentPassword: string, newPassword: string): Promise<void> {
    await this.request<null>('POST', '/api/v1/me/password', { body: { currentPassword, newPassword } });
  }

  me(): Promise<{ kind: string; id: string; tenantId: string; username?: string; role?: string; scopes?: string[] }> {
    return this.request('GET', '/api/v1/me');
  }

  /**
   * Live events (SSE): yields each event until `signal` aborts or the server ends the stream.
   * `jobId` streams one job (first its current state). Pass the last id seen as `lastEventId` to
   * resume; an event of type `reset` means events were missed and state should be re-read.
   */
  async *events(options: { jobId?: string; types?: string; status?: string; queue?: string; task?: string; scheduleId?: string; lastEventId?: string; signal?: AbortSignal } = {}): AsyncGenerator<ApiEvent> {
    const { jobId, lastEventId, signal, ...filters } = options;
    const url = new URL(this.baseUrl + (jobId ? `/api/v1/jobs/${encodeURIComponent(jobId)}/events` : '/api/v1/events'));
    if (!jobId) for (const [key, value] of Object.entries(filters)) if (value !== undefined) url.searchParams.set(key, value);
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (lastEventId) headers['last-event-id'] = lastEventId;
    const response = await this.fetchImpl(url, { headers, ...(signal ? { signal } : {}) });
    if (!response.ok || !response.body) {
      const text = await response.text();
      throw new ApiError(response.status, (text ? JSON.parse(text) : {}) as Record<string, unknown>);
    }
    const decoder = new TextDecoder();
    const reader = new SseReader();
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        for (const event of reader.push(decoder.decode(chunk, { stream: true }))) yield event;
      }
    } catch (error) {
      if (signal?.aborted) return;
      throw error;
    }
  }

  private async request<T>(method: string, path: string, options: { body?: unknown; query?: Query; headers?: Record<string, string> } = {}): Promise<T> {
    const url = new URL(this.baseUrl + path);
    for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    const headers: Record<string, string> = { accept: 'application/json', ...(options.headers ?? {}) };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await this.fetchImpl(url, { method, headers, ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}) });
    if (response.status === 204) return null as T;
    const text = await response.text();
    const data: unknown = text.length > 0 ? JSON.parse(text) : null;
    if (!response.ok) throw new ApiError(response.status, (data ?? {}) as Record<string, unknown>);
    return data as T;
  }
}

export type { ApiEvent } from './sse.js';

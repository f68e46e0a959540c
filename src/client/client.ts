/**
 * A typed client for the Jobplane REST API (fetch-based, no dependencies). Errors come back as
 * `ApiError` carrying the problem document's stable `code`. Every request and answer shape is the
 * one generated from the OpenAPI document (api-types.ts, named in api-shapes.ts).
 */
import { SseReader, type ApiEvent } from './sse.js';
import type { ApiJob, ApiJobSubmit, ApiSchedule, ApiScheduleCreate, ApiSchedulePatch, ApiSecret, BodyOf, QueryOf, ResponseOf } from './api-shapes.js';

export type { ApiAuditEntry, ApiJob, ApiJobSubmit, ApiSchedule, ApiSecret, TenantInfo } from './api-shapes.js';

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

type Session = ResponseOf<'/api/v1/auth/login', 'post'>;

/** The REST API as typed methods. */
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
  async login(username: string, password: string): Promise<Session> {
    const session = await this.request<Session>('POST', '/api/v1/auth/login', { body: { username, password } });
    this.token = session.accessToken;
    return session;
  }

  /** Rotate a refresh token; later calls use the new access token. */
  async refresh(refreshToken: string): Promise<Session> {
    const session = await this.request<Session>('POST', '/api/v1/auth/refresh', { body: { refreshToken } });
    this.token = session.accessToken;
    return session;
  }

  readonly jobs = {
    submit: (job: ApiJobSubmit, options: { idempotencyKey?: string } = {}) =>
      this.request<ApiJob>('POST', '/api/v1/jobs', { body: job, headers: options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {} }),
    submitBatch: (jobs: ApiJobSubmit[]) => this.request<ResponseOf<'/api/v1/jobs/batch', 'post', 201>>('POST', '/api/v1/jobs/batch', { body: { jobs } }),
    list: (query: QueryOf<'/api/v1/jobs', 'get'> = {}) => this.request<ResponseOf<'/api/v1/jobs', 'get'>>('GET', '/api/v1/jobs', { query }),
    get: (id: string) => this.request<ApiJob>('GET', `/api/v1/jobs/${encodeURIComponent(id)}`),
    cancel: (id: string) => this.request<ApiJob>('POST', `/api/v1/jobs/${encodeURIComponent(id)}/cancel`),
    retry: (id: string, body: { runAt?: string } = {}) => this.request<ApiJob>('POST', `/api/v1/jobs/${encodeURIComponent(id)}/retry`, { body }),
    reschedule: (id: string, body: BodyOf<'/api/v1/jobs/{id}/reschedule', 'post'>) => this.request<ApiJob>('POST', `/api/v1/jobs/${encodeURIComponent(id)}/reschedule`, { body }),
    logs: (id: string, query: QueryOf<'/api/v1/jobs/{id}/logs', 'get'> = {}) =>
      this.request<ResponseOf<'/api/v1/jobs/{id}/logs', 'get'>>('GET', `/api/v1/jobs/${encodeURIComponent(id)}/logs`, { query }),
  };

  readonly schedules = {
    create: (spec: ApiScheduleCreate) => this.request<ApiSchedule>('POST', '/api/v1/schedules', { body: spec }),
    list: (query: QueryOf<'/api/v1/schedules', 'get'> = {}) => this.request<ResponseOf<'/api/v1/schedules', 'get'>>('GET', '/api/v1/schedules', { query }),
    get: (id: string) => this.request<ApiSchedule>('GET', `/api/v1/schedules/${encodeURIComponent(id)}`),
    update: (id: string, patch: ApiSchedulePatch) => this.request<ApiSchedule>('PATCH', `/api/v1/schedules/${encodeURIComponent(id)}`, { body: patch }),
    remove: (id: string) => this.request<null>('DELETE', `/api/v1/schedules/${encodeURIComponent(id)}`),
    pause: (id: string) => this.request<ApiSchedule>('POST', `/api/v1/schedules/${encodeURIComponent(id)}/pause`),
    resume: (id: string) => this.request<ApiSchedule>('POST', `/api/v1/schedules/${encodeURIComponent(id)}/resume`),
    trigger: (id: string) => this.request<ResponseOf<'/api/v1/schedules/{id}/trigger', 'post', 201>>('POST', `/api/v1/schedules/${encodeURIComponent(id)}/trigger`),
    preview: (id: string, count = 10) => this.request<ResponseOf<'/api/v1/schedules/{id}/preview', 'get'>>('GET', `/api/v1/schedules/${encodeURIComponent(id)}/preview`, { query: { count } }),
    previewSpec: (spec: ApiScheduleCreate, count = 10) => this.request<ResponseOf<'/api/v1/schedules/preview', 'post'>>('POST', '/api/v1/schedules/preview', { body: spec, query: { count } }),
    runs: (id: string, query: QueryOf<'/api/v1/schedules/{id}/runs', 'get'> = {}) =>
      this.request<ResponseOf<'/api/v1/schedules/{id}/runs', 'get'>>('GET', `/api/v1/schedules/${encodeURIComponent(id)}/runs`, { query }),
  };

  readonly queues = {
    list: () => this.request<ResponseOf<'/api/v1/queues', 'get'>>('GET', '/api/v1/queues'),
    pause: (name: string) => this.request<ResponseOf<'/api/v1/queues/{name}/pause', 'post'>>('POST', `/api/v1/queues/${encodeURIComponent(name)}/pause`),
    resume: (name: string) => this.request<ResponseOf<'/api/v1/queues/{name}/resume', 'post'>>('POST', `/api/v1/queues/${encodeURIComponent(name)}/resume`),
    setConcurrency: (name: string, limit: number | null) => this.request<ResponseOf<'/api/v1/queues/{name}/concurrency', 'put'>>('PUT', `/api/v1/queues/${encodeURIComponent(name)}/concurrency`, { body: { limit } }),
  };

  readonly workers = {
    list: () => this.request<ResponseOf<'/api/v1/workers', 'get'>>('GET', '/api/v1/workers'),
  };

  readonly users = {
    list: () => this.request<ResponseOf<'/api/v1/users', 'get'>>('GET', '/api/v1/users'),
    create: (user: BodyOf<'/api/v1/users', 'post'>) => this.request<ResponseOf<'/api/v1/users', 'post', 201>>('POST', '/api/v1/users', { body: user }),
    /** `currentPassword` is needed when setting your own password; `superadmin` only by a superadmin. */
    update: (id: string, change: BodyOf<'/api/v1/users/{id}', 'patch'>) =>
      this.request<ResponseOf<'/api/v1/users/{id}', 'patch'>>('PATCH', `/api/v1/users/${encodeURIComponent(id)}`, { body: change }),
    remove: (id: string) => this.request<null>('DELETE', `/api/v1/users/${encodeURIComponent(id)}`),
  };

  /** Tenants (superadmins only). */
  readonly tenants = {
    list: () => this.request<ResponseOf<'/api/v1/tenants', 'get'>>('GET', '/api/v1/tenants'),
    /** A tenant and its first admin, created together. */
    create: (tenant: BodyOf<'/api/v1/tenants', 'post'>) =>
      this.request<ResponseOf<'/api/v1/tenants', 'post', 201>>('POST', '/api/v1/tenants', { body: tenant }),
  };

  readonly keys = {
    list: () => this.request<ResponseOf<'/api/v1/keys', 'get'>>('GET', '/api/v1/keys'),
    create: (key: BodyOf<'/api/v1/keys', 'post'>) => this.request<ResponseOf<'/api/v1/keys', 'post', 201>>('POST', '/api/v1/keys', { body: key }),
    revoke: (id: string) => this.request<ResponseOf<'/api/v1/keys/{id}/revoke', 'post'>>('POST', `/api/v1/keys/${encodeURIComponent(id)}/revoke`),
  };

  /** Tenant secrets: list (managers, admins), set and delete (admins). Values go in, never come out. */
  readonly secrets = {
    list: () => this.request<ResponseOf<'/api/v1/secrets', 'get'>>('GET', '/api/v1/secrets'),
    /** Create or replace; `description` omitted keeps the stored one, "" clears it. */
    set: (name: string, value: string, options: { description?: string } = {}) =>
      this.request<ApiSecret>('PUT', `/api/v1/secrets/${encodeURIComponent(name)}`, { body: { value, ...(options.description !== undefined ? { description: options.description } : {}) } }),
    delete: (name: string) => this.request<null>('DELETE', `/api/v1/secrets/${encodeURIComponent(name)}`),
  };

  readonly audit = {
    /** Audit entries, newest first (admin). */
    list: (query: QueryOf<'/api/v1/audit', 'get'> = {}) => this.request<ResponseOf<'/api/v1/audit', 'get'>>('GET', '/api/v1/audit', { query }),
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

  me(): Promise<ResponseOf<'/api/v1/me', 'get'>> {
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

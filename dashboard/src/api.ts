/**
 * The dashboard's only way to the server: the public REST API (no private routes). Keeps the
 * session (access token in memory, refresh token in localStorage so a reload keeps you logged in),
 * refreshes once on an expired token and retries, and turns problem JSON into ApiError.
 */
import type { ApiJob, ApiJobList, ApiLogLine, ApiProblem } from '../../src/client/api-shapes.js';

/** A problem document as the API sends it; `code` is all a body from elsewhere (a proxy) is sure to have. */
export type Problem = Partial<ApiProblem> & { code: string };

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
    this.name = 'ApiError';
  }
  get code(): string {
    return this.problem.code;
  }
}

/** The problem's error for a form field (at its pointer or below it), or null. */
export function problemField(error: unknown, pointer: string): { pointer: string; message: string } | null {
  if (!(error instanceof ApiError)) return null;
  return (error.problem.errors ?? []).find((e) => e.pointer === pointer || e.pointer.startsWith(`${pointer}/`)) ?? null;
}

/** What to show under a form field: the problem's error for it, or the problem itself when its code is about that field. */
export function fieldError(error: unknown, pointer: string, codes: readonly string[] = []): string | null {
  const hit = problemField(error, pointer);
  if (hit) return hit.message;
  return error instanceof ApiError && codes.includes(error.code) ? error.message : null;
}

export type Role = 'viewer' | 'manager' | 'admin';

export interface Me {
  kind: 'user' | 'key';
  id: string;
  tenantId: string;
  username?: string;
  role?: Role;
  superadmin?: boolean;
  scopes?: string[];
}

interface Session {
  accessToken: string;
  refreshToken: string;
}

const REFRESH_KEY = 'jobplane.refreshToken';

let session: Session | null = null;
let refreshing: Promise<boolean> | null = null;
const listeners = new Set<() => void>();

/** Called when the session starts or ends (the app shows the login page). */
export function onSessionChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function setSession(next: Session | null): void {
  session = next;
  if (next) localStorage.setItem(REFRESH_KEY, next.refreshToken);
  else localStorage.removeItem(REFRESH_KEY);
  for (const listener of listeners) listener();
}

export function hasSession(): boolean {
  return session !== null;
}

export function accessToken(): string | null {
  return session?.accessToken ?? null;
}

async function parse(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return { code: 'INTERNAL', detail: text.slice(0, 200) };
  }
}

export async function login(username: string, password: string): Promise<void> {
  const response = await fetch('/api/v1/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const body = await parse(response);
  if (!response.ok) throw new ApiError(response.status, body as Problem);
  const { accessToken: a, refreshToken: r } = body as Session;
  setSession({ accessToken: a, refreshToken: r });
}

/** Use the stored refresh token (after a reload, or when the access token expired). */
export function refresh(): Promise<boolean> {
  refreshing ??= (async () => {
    const token = session?.refreshToken ?? localStorage.getItem(REFRESH_KEY);
    if (!token) return false;
    try {
      const response = await fetch('/api/v1/auth/refresh', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refreshToken: token }),
      });
      if (!response.ok) {
        // Another tab may have rotated the token meanwhile: it is in localStorage now.
        const latest = localStorage.getItem(REFRESH_KEY);
        if (response.status === 401 && latest && latest !== token) {
          refreshing = null;
          return refresh();
        }
        setSession(null);
        return false;
      }
      const body = (await response.json()) as Session;
      setSession({ accessToken: body.accessToken, refreshToken: body.refreshToken });
      return true;
    } catch {
      return false;
    }
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

export async function logout(): Promise<void> {
  const token = session?.refreshToken;
  setSession(null);
  if (token) {
    await fetch('/api/v1/auth/logout', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken: token }) }).catch(() => undefined);
  }
}

type Query = Record<string, string | number | undefined | null>;

/** Call the API; on an expired access token, refresh once and retry. */
export async function api<T>(method: string, path: string, options: { body?: unknown; query?: Query; headers?: Record<string, string> } = {}): Promise<T> {
  const url = new URL(path, window.location.origin);
  for (const [key, value] of Object.entries(options.query ?? {})) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(key, String(value));
  }
  const attempt = async (): Promise<Response> => {
    const headers: Record<string, string> = { accept: 'application/json', ...(options.headers ?? {}) };
    if (session) headers.authorization = `Bearer ${session.accessToken}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    return fetch(url, { method, headers, ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}) });
  };
  let response = await attempt();
  if (response.status === 401 && (await refresh())) response = await attempt();
  if (response.status === 204) return null as T;
  const body = await parse(response);
  if (!response.ok) throw new ApiError(response.status, (body ?? { code: 'INTERNAL' }) as Problem);
  return body as T;
}

// ---- shapes of the API's answers: generated from the OpenAPI document (src/client/api-types.ts) --

export type JobStatus = ApiJob['status'];
export { JOB_STATUSES } from '../../src/core/job-states.js';

/** One attempt's recorded failure (the job page shows its stack; lists leave stacks out). */
export type AttemptError = ApiJob['errors'][number];

export type Job = Omit<ApiJob, 'errors'> & { errors: AttemptError[] };

export type JobList = Omit<ApiJobList, 'jobs'> & { jobs: Job[] };

export type LogLine = ApiLogLine;

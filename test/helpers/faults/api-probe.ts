/**
 * Polls an api process during a fault: GET /readyz and POST /api/v1/jobs in two loops, each
 * request with a client timeout. During a database fault the only acceptable answers are 2xx and
 * 503 (problem JSON with a code that is not INTERNAL); a 500, another status, a timeout or a
 * refused connection is a violation. Every 201's job id is kept: it must exist afterwards.
 */
import { setTimeout as delay } from 'node:timers/promises';

/** One answer (or the lack of one). */
export interface ProbeSample {
  at: number;
  route: 'readyz' | 'submit';
  /** HTTP status, or 'timeout' / 'error' (connection refused or reset). */
  status: number | 'timeout' | 'error';
  ms: number;
  contentType: string | null;
  /** Problem code or readiness status. */
  code: string | null;
  detail: string | null;
}

/** Options for {@link ApiProbe}. */
export interface ApiProbeOptions {
  url: string;
  /** Bearer token of a user who may submit. */
  token: string;
  /** Gap between requests of each loop. @defaultValue 100 */
  intervalMs?: number;
  /** Client timeout per request. @defaultValue 5000 */
  timeoutMs?: number;
  /** Job submitted by POST. @defaultValue a noop in queue 'probe' */
  job?: Record<string, unknown>;
}

/** Two polling loops against one api process. */
export class ApiProbe {
  readonly samples: ProbeSample[] = [];
  /** Ids of jobs the API answered 201 for. */
  readonly accepted: string[] = [];
  private running = false;
  private loops: Promise<void>[] = [];

  constructor(private readonly options: ApiProbeOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loops = [this.loop('readyz'), this.loop('submit')];
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** Samples that break the contract: not 2xx/503, 503 without a proper problem body on submit, no answer. */
  violations(): ProbeSample[] {
    return this.samples.filter((s) => {
      if (typeof s.status !== 'number') return true;
      if (s.status >= 200 && s.status < 300) return false;
      if (s.status !== 503) return true;
      return s.route === 'submit' && (!s.contentType?.startsWith('application/problem+json') || !s.code || s.code === 'INTERNAL');
    });
  }

  /** Counts by route and status, e.g. `{ 'submit 201': 40, 'submit 503 DATABASE_UNAVAILABLE': 7 }`. */
  tally(from = 0, to = Infinity): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.samples.filter((x) => x.at >= from && x.at <= to)) {
      const key = `${s.route} ${String(s.status)}${s.code && s.status !== 201 ? ` ${s.code}` : ''}`;
      out[key] = (out[key] ?? 0) + 1;
    }
    return out;
  }

  /** Violations as text for a failure message. */
  describeViolations(limit = 20): string {
    return this.violations()
      .slice(0, limit)
      .map((s) => `  ${new Date(s.at).toISOString().slice(11, 23)} ${s.route} → ${String(s.status)} in ${s.ms} ms ${s.contentType ?? ''} ${s.code ?? ''} ${s.detail ?? ''}`)
      .join('\n');
  }

  private async loop(route: 'readyz' | 'submit'): Promise<void> {
    while (this.running) {
      await this.once(route);
      await delay(this.options.intervalMs ?? 100);
    }
  }

  /** One request; the sample is recorded and returned. */
  async once(route: 'readyz' | 'submit'): Promise<ProbeSample> {
    const started = Date.now();
    const sample: ProbeSample = { at: started, route, status: 'error', ms: 0, contentType: null, code: null, detail: null };
    try {
      const response = await fetch(route === 'readyz' ? `${this.options.url}/readyz` : `${this.options.url}/api/v1/jobs`, {
        method: route === 'readyz' ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${this.options.token}`, 'content-type': 'application/json' },
        ...(route === 'submit' ? { body: JSON.stringify(this.options.job ?? { task: 'noop', queue: 'probe' }) } : {}),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
      });
      sample.status = response.status;
      sample.contentType = response.headers.get('content-type');
      const text = await response.text();
      try {
        const body = JSON.parse(text) as { id?: string; code?: string; status?: unknown; detail?: string; reason?: string };
        sample.code = typeof body.code === 'string' ? body.code : route === 'readyz' && typeof body.status === 'string' ? body.status : null;
        sample.detail = body.detail ?? body.reason ?? null;
        if (route === 'submit' && response.status === 201 && body.id) this.accepted.push(body.id);
      } catch {
        sample.detail = text.slice(0, 200);
      }
    } catch (error) {
      const e = error as Error & { cause?: { code?: string } };
      sample.status = e.name === 'TimeoutError' || e.name === 'AbortError' ? 'timeout' : 'error';
      sample.detail = `${e.message}${e.cause?.code ? ` (${e.cause.code})` : ''}`;
    }
    sample.ms = Date.now() - started;
    this.samples.push(sample);
    return sample;
  }
}

/** Log in as `username` and return the access token. */
export async function login(url: string, username: string, password: string): Promise<string> {
  const response = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
    signal: AbortSignal.timeout(10_000),
  });
  if (response.status !== 200) throw new Error(`login failed: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { accessToken: string }).accessToken;
}

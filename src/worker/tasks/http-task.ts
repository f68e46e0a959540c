/**
 * The `http` built-in: one outgoing HTTP(S) request with SSRF protection (docs/decisions.md #20), manual
 * redirects that are re-validated hop by hop, a capped body and retry semantics taken from
 * the status code.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { validateHttpUrl, type BuiltinPayloadPolicy, type HttpTaskPayload } from '../../core/builtin-payloads.js';
import { AppError, PermanentError, RetryAfterError } from '../../errors/index.js';
import type { JobContext } from '../types.js';
import { exchange, type ExchangeResponse } from './http-exchange.js';
import { resolveTarget } from './http-target.js';
import type { AsyncTaskHandler, HttpTaskOptions } from './options.js';
import { checkedPayload } from './payload.js';
import { systemClock } from '../../engine/clock.js';

/** Result of a successful `http` job. */
export interface HttpTaskResult {
  /** Final status code. */
  status: number;
  /** An allow-listed subset of the response headers (content-type, content-length, location, retry-after, etag, date). */
  headers: Record<string, string>;
  /** The body as UTF-8 text, at most `maxResponseBytes` bytes of it. */
  body: string;
  /** Whether the body was cut. */
  truncated: boolean;
  /** The URL of the final response (after redirects). */
  url: string;
  /** Redirects followed. */
  redirects: number;
  /** Wall time of the whole exchange, in ms. */
  durationMs: number;
}

const KEPT_HEADERS = ['content-type', 'content-length', 'location', 'retry-after', 'etag', 'date'] as const;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
// Credentials meant for one origin must not follow a redirect to another (as fetch does).
const ORIGIN_BOUND_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];
const BODY_HEADERS = ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location'];
const MAX_RETRY_AFTER_MS = 3_600_000;
const ERROR_SNIPPET_CHARS = 200;

/** The request as it stands on the current hop. */
interface Hop {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: Buffer | null;
}

function firstHop(payload: HttpTaskPayload, options: HttpTaskOptions, traceParent: string | undefined): Hop {
  const headers: Record<string, string> = { 'user-agent': options.userAgent };
  for (const [name, value] of Object.entries(payload.headers ?? {})) headers[name.toLowerCase()] = value;
  // The attempt's span continues in the called service, unless the payload names its own parent.
  if (traceParent !== undefined) headers.traceparent ??= traceParent;
  let body: Buffer | null = null;
  if (payload.body !== undefined) {
    const isText = typeof payload.body === 'string';
    body = Buffer.from(isText ? (payload.body as string) : JSON.stringify(payload.body), 'utf8');
    headers['content-type'] ??= isText ? 'text/plain; charset=utf-8' : 'application/json';
  }
  if (body !== null) headers['content-length'] = String(body.length);
  return { url: new URL(payload.url), method: (payload.method ?? 'GET').toUpperCase(), headers, body };
}

/** The next hop after a redirect, or a PermanentError when the target may not be followed. */
function nextHop(hop: Hop, status: number, location: string, policy: BuiltinPayloadPolicy): Hop {
  let target: URL;
  try {
    target = new URL(location, hop.url);
  } catch {
    throw new PermanentError(`redirect from ${hop.url.origin} has an invalid Location`);
  }
  const problems = validateHttpUrl(target.href, policy, '/location');
  if (problems.length > 0) {
    const detail = `redirect to ${target.origin} refused: ${problems.map((problem) => problem.message).join('; ')}`;
    throw new PermanentError(detail, { cause: new AppError('URL_NOT_ALLOWED', detail) });
  }
  const headers = { ...hop.headers };
  if (target.origin !== hop.url.origin) for (const name of ORIGIN_BOUND_HEADERS) delete headers[name];
  // 303 always, and 301/302 after a POST, turn into a body-less GET (RFC 9110 §15.4, as browsers do).
  const toGet = status === 303 ? hop.method !== 'HEAD' : (status === 301 || status === 302) && hop.method === 'POST';
  if (!toGet) return { url: target, method: hop.method, headers, body: hop.body };
  for (const name of BODY_HEADERS) delete headers[name];
  return { url: target, method: 'GET', headers, body: null };
}

function keptHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of KEPT_HEADERS) {
    const value = headers[name];
    if (typeof value === 'string') kept[name] = value;
  }
  return kept;
}

/** Retry-After (delta-seconds or HTTP-date) in ms, capped at an hour; null when absent or unreadable. */
export function retryAfterMs(value: string | undefined, nowMs: number): number | null {
  if (value === undefined) return null;
  const text = value.trim();
  let ms: number;
  if (/^[0-9]+$/.test(text)) ms = Number(text) * 1000;
  else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return null;
    ms = Math.max(0, at - nowMs);
  }
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}

/** A printable, short preview of a body for error messages (never more than the capped body). */
function snippet(body: Buffer): string {
  const text = body.subarray(0, ERROR_SNIPPET_CHARS * 4).toString('utf8').replace(/[\p{Cc}\p{Cf}]+/gu, ' ').trim();
  return text.length > ERROR_SNIPPET_CHARS ? `${text.slice(0, ERROR_SNIPPET_CHARS)}…` : text;
}

/** Turn a non-success status into the error that steers the job. */
function statusError(response: ExchangeResponse, url: URL, nowMs: number): Error {
  const { status } = response;
  const preview = snippet(response.body);
  const message = `HTTP ${status}${response.statusText === '' ? '' : ` ${response.statusText}`} from ${url.origin}${url.pathname}${preview === '' ? '' : `: ${preview}`}`;
  if (status === 429 || status === 503) {
    const header = response.headers['retry-after'];
    const delay = retryAfterMs(typeof header === 'string' ? header : undefined, nowMs);
    if (delay !== null) return new RetryAfterError(delay, `${message} (retry after ${delay} ms)`);
  }
  // 408 and 429 say "try again later" although they are 4xx; everything else 4xx will not improve.
  if (status >= 500 || status === 408 || status === 429) return new Error(message);
  return new PermanentError(message);
}

/** Follow the exchange through redirects and return the final response and hop. */
async function run(payload: HttpTaskPayload, options: HttpTaskOptions, signal: AbortSignal, traceParent: string | undefined): Promise<HttpTaskResult> {
  const started = performance.now();
  const policy: BuiltinPayloadPolicy = { allowPrivateNetworks: options.allowPrivateNetworks, allowedHosts: options.allowedHosts };
  const accepted = new Set(payload.expectStatus ?? []);
  let hop = firstHop(payload, options, traceParent);
  for (let redirects = 0; ; redirects += 1) {
    const addresses = await resolveTarget(hop.url, options, signal);
    const response = await exchange({ ...hop, addresses, signal, maxResponseBytes: options.maxResponseBytes });
    const location = response.headers.location;
    if (REDIRECTS.has(response.status) && !accepted.has(response.status) && typeof location === 'string') {
      if (redirects >= options.maxRedirects) throw new PermanentError(`more than ${options.maxRedirects} redirects`);
      hop = nextHop(hop, response.status, location, policy);
      continue;
    }
    if ((response.status < 200 || response.status > 299) && !accepted.has(response.status)) throw statusError(response, hop.url, (options.clock ?? systemClock).nowMs());
    return {
      status: response.status,
      headers: keptHeaders(response.headers),
      body: response.body.toString('utf8'),
      truncated: response.truncated,
      url: hop.url.href,
      redirects,
      durationMs: Math.round(performance.now() - started),
    };
  }
}

/** Marks the abort that our own timer caused, to tell it apart from the job's signal. */
class HttpTimeout extends Error {}

/** The `http` task handler. */
export function httpTask(options: HttpTaskOptions): AsyncTaskHandler<HttpTaskResult> {
  return async (raw: unknown, ctx: JobContext): Promise<HttpTaskResult> => {
    const policy = { allowPrivateNetworks: options.allowPrivateNetworks, allowedHosts: options.allowedHosts };
    const payload = checkedPayload<HttpTaskPayload>('http', raw, policy);
    ctx.signal.throwIfAborted();
    const timeoutMs = payload.timeoutMs ?? options.defaultTimeoutMs;
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(ctx.signal.reason);
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => controller.abort(new HttpTimeout()), timeoutMs);
    try {
      return await run(payload, options, controller.signal, ctx.traceParent);
    } catch (error) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      if (controller.signal.reason instanceof HttpTimeout) throw new Error(`HTTP request timed out after ${timeoutMs} ms`, { cause: error });
      throw error;
    } finally {
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onAbort);
    }
  };
}

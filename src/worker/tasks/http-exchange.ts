/**
 * One HTTP request/response over `node:http(s)`, connected only to pre-checked addresses.
 * Redirects, SSRF checks and outcome rules live in `http-task.ts`; this module only talks.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { normalizeHost } from '../../core/ip-ranges.js';
import type { LookupAddress } from './options.js';
import { pinnedLookup } from './http-target.js';

/** What to send. */
export interface ExchangeRequest {
  /** Target (already validated). */
  url: URL;
  /** Upper-case method. */
  method: string;
  /** Lower-case header names to values. */
  headers: Record<string, string>;
  /** Request body, or null for none. */
  body: Buffer | null;
  /** The checked addresses the connection may use. */
  addresses: readonly LookupAddress[];
  /** Aborts the request (timeout or job cancellation). */
  signal: AbortSignal;
  /** Body bytes kept; the connection is dropped once more arrive. */
  maxResponseBytes: number;
}

/** What came back. */
export interface ExchangeResponse {
  /** HTTP status code. */
  status: number;
  /** Reason phrase, if the server sent one. */
  statusText: string;
  /** Response headers as Node parsed them (lower-case names). */
  headers: http.IncomingHttpHeaders;
  /** The first `maxResponseBytes` bytes of the body. */
  body: Buffer;
  /** Whether the body was longer than what is kept. */
  truncated: boolean;
}

/** Read at most `max` body bytes, then drop the connection rather than download the rest. */
function collectBody(response: http.IncomingMessage, max: number): Promise<{ body: Buffer; truncated: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (truncated: boolean): void => {
      if (done) return;
      done = true;
      resolve({ body: Buffer.concat(chunks, size), truncated });
    };
    response.on('data', (chunk: Buffer) => {
      if (done) return;
      const room = max - size;
      if (chunk.length > room) {
        if (room > 0) chunks.push(chunk.subarray(0, room));
        size += Math.max(0, room);
        finish(true);
        response.destroy();
        return;
      }
      chunks.push(chunk);
      size += chunk.length;
    });
    response.on('end', () => finish(false));
    response.on('error', (error) => {
      if (!done) { done = true; reject(error); }
    });
    response.on('close', () => {
      if (!done) { done = true; reject(new Error('connection closed before the response body was complete')); }
    });
  });
}

function requestOptions(request: ExchangeRequest): https.RequestOptions {
  const { url } = request;
  const hostname = normalizeHost(url.hostname);
  return {
    protocol: url.protocol,
    hostname,
    port: url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port),
    path: `${url.pathname}${url.search}`,
    method: request.method,
    // `host` names the original host (not the pinned address) so virtual hosting works; TLS SNI likewise.
    headers: { ...request.headers, host: url.host },
    ...(isIP(hostname) === 0 ? { servername: hostname } : {}),
    lookup: pinnedLookup(request.addresses),
    // A private agent: no pooled socket from another job (or another resolution) is ever reused,
    // and no proxy from the environment is consulted.
    agent: false,
    signal: request.signal,
  };
}

/** Send `request` and read the (capped) response. Rejects on network errors and aborts. */
export function exchange(request: ExchangeRequest): Promise<ExchangeResponse> {
  const transport = request.url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (error: Error): void => {
      if (!settled) { settled = true; reject(error); }
    };
    const outgoing = transport.request(requestOptions(request), (response) => {
      collectBody(response, request.maxResponseBytes).then(
        ({ body, truncated }) => {
          if (settled) return;
          settled = true;
          resolve({ status: response.statusCode ?? 0, statusText: response.statusMessage ?? '', headers: response.headers, body, truncated });
        },
        fail,
      );
    });
    outgoing.on('error', fail);
    outgoing.end(request.body ?? undefined);
  });
}

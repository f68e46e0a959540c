import { STATUS_CODES, type Server, type ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../../core/deps.js';
import { formatIp, mappedIPv4, matchesCidr, parseCidr, parseIp, type Cidr } from '../../core/ip-ranges.js';
import { AppError } from '../../errors/index.js';
import fp from 'fastify-plugin';

/** How long the api's HTTP server waits on a client, in milliseconds. */
export interface HttpTimeouts {
  /** To receive a request's headers, from its first byte (or from the connection's start). */
  headersMs: number;
  /** To receive a whole request, body included. Responses (event streams, long-polls) may last longer. */
  requestMs: number;
  /** With no traffic in either direction, a connection is closed, even in the middle of a request. */
  idleMs: number;
  /** For the next request on a kept-alive connection. */
  keepAliveMs: number;
}

/** The defaults of JOBPLANE_HEADERS_TIMEOUT, _REQUEST_TIMEOUT, _IDLE_TIMEOUT and _KEEP_ALIVE_TIMEOUT. */
export const DEFAULT_HTTP_TIMEOUTS: Readonly<HttpTimeouts> = Object.freeze({ headersMs: 10_000, requestMs: 30_000, idleMs: 75_000, keepAliveMs: 5000 });

/** The Fastify factory options that put {@link HttpTimeouts} on its Node HTTP server. */
export interface TimeoutServerOptions {
  connectionTimeout: number;
  keepAliveTimeout: number;
  requestTimeout: number;
  http: ServerOptions;
}

/**
 * Fastify options for `timeouts`. Node checks the header and request deadlines on a timer
 * (`connectionsCheckingInterval`, 30 s by default), so a 10 s deadline could hold a stalled
 * client for 40 s; the timer here runs a quarter of the shortest deadline, at most every second.
 * Node refuses a header deadline longer than the request deadline, and it could never be reached
 * anyway, so it is capped at the request deadline.
 */
export function timeoutServerOptions(timeouts: HttpTimeouts): TimeoutServerOptions {
  const headersTimeout = Math.min(timeouts.headersMs, timeouts.requestMs);
  return {
    // Fastify's connectionTimeout is Node's server.timeout: the socket inactivity timeout.
    connectionTimeout: timeouts.idleMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    requestTimeout: timeouts.requestMs,
    // Node validates headersTimeout against the requestTimeout given here, at createServer.
    http: { headersTimeout, requestTimeout: timeouts.requestMs, connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(headersTimeout / 4))) },
  };
}

/** Parse trusted-proxy entries; a bad one is a configuration error, not a proxy silently ignored. */
function parseNetworks(entries: readonly string[]): Cidr[] {
  return entries.map((entry) => {
    const network = parseCidr(entry.trim());
    if (network === null) throw new AppError('CONFIG_INVALID', `trusted proxy ${JSON.stringify(entry)} is not an address or CIDR`);
    return network;
  });
}

/**
 * Fastify's `trustProxy` for a list of proxy addresses or CIDRs: false when empty, so
 * X-Forwarded-For is ignored and `request.ip` is the socket's peer; otherwise the list in
 * canonical form (`10.0.0.0/8`), so `request.ip` is the nearest hop that is not a trusted proxy.
 */
export function trustProxyOption(trustedProxies: readonly string[]): false | string[] {
  const networks = parseNetworks(trustedProxies);
  return networks.length === 0 ? false : networks.map((n) => `${formatIp(n.ip)}/${n.prefix}`);
}

/**
 * The key connections are counted under: the canonical address, with an IPv4-mapped IPv6 address
 * (`::ffff:127.0.0.1`, what a dual-stack listener reports for IPv4 clients) as its IPv4 address,
 * so one client is one key however it arrives.
 */
export function clientAddressKey(address: string): string {
  const ip = parseIp(address);
  return ip === null ? address : formatIp(mappedIPv4(ip) ?? ip);
}

/** Options for {@link limitConnectionsPerAddress}. */
export interface ConnectionCapOptions {
  /** Open connections one address may hold; 0 = no cap. */
  maxPerAddress: number;
  /** Addresses or CIDRs exempt from the cap (reverse proxies carry many clients' connections). */
  trustedProxies: readonly string[];
  logger: Logger;
}

/** {@link limitConnectionsPerAddress} on the app's server, as a plugin. Register before `listen`. */
export const connectionCapPlugin = fp<ConnectionCapOptions>(async (app, options) => {
  limitConnectionsPerAddress(app.server, options);
}, { name: 'jobplane-connection-cap' });

/** A refused connection that neither closes nor reads is cut after this long. */
const REFUSED_LINGER_MS = 1000;

/**
 * Cap the connections one client address holds open on `server`. A connection over the cap is
 * answered with a minimal `503` problem (`TOO_MANY_CONNECTIONS`, `Connection: close`) and closed;
 * it never reaches the HTTP parser, so it costs no request handling. Call before `listen`.
 */
export function limitConnectionsPerAddress(server: Server, options: ConnectionCapOptions): void {
  const max = options.maxPerAddress;
  if (max <= 0) return;
  const trusted = parseNetworks(options.trustedProxies);
  const open = new Map<string, number>();
  // One warning per address while it stays at the cap, not one per refused connection (a flood
  // of those must not become a flood of log lines).
  const warned = new Set<string>();
  const refusal = refusalResponse(max);
  // Node's HTTP server handles a new socket in its own 'connection' listener. Put the cap in
  // front of it instead of beside it: a refused socket is never parsed, so a request it already
  // sent cannot run.
  const downstream = server.listeners('connection') as Array<(socket: Socket) => void>;
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    const peer = socket.remoteAddress;
    // No peer address: the socket closed before it was handed over; nothing to count or answer.
    if (peer === undefined) return void socket.destroy();
    const address = clientAddressKey(peer);
    if (!trusted.some((network) => matchesCidr(address, network))) {
      const count = open.get(address) ?? 0;
      if (count >= max) {
        if (!warned.has(address)) {
          warned.add(address);
          options.logger.warn({ clientIp: address, limit: max }, 'client address holds the maximum of open connections; refusing more (503 TOO_MANY_CONNECTIONS)');
        }
        refuse(socket, refusal);
        return;
      }
      open.set(address, count + 1);
      socket.once('close', () => {
        const left = (open.get(address) ?? 1) - 1;
        if (left > 0) open.set(address, left);
        else open.delete(address);
        if (left < max) warned.delete(address);
      });
    }
    for (const listener of downstream) listener.call(server, socket);
  });
}

function refusalResponse(max: number): string {
  return rawProblemResponse(new AppError('TOO_MANY_CONNECTIONS', `this address already holds ${max} open connections to this server; close some and retry`));
}

/**
 * Answer and close. The client's own bytes are read and dropped until it closes: closing a socket
 * with unread input sends a reset, which can make the client lose the answer. A client that keeps
 * the connection open anyway is cut after a second.
 */
function refuse(socket: Socket, response: string): void {
  // Nobody else listens on this socket: an unhandled 'error' (a reset by the peer) would crash the process.
  socket.on('error', () => socket.destroy());
  socket.on('end', () => socket.destroy());
  socket.setTimeout(REFUSED_LINGER_MS, () => socket.destroy());
  socket.end(response);
  socket.resume();
}

/** The answer to an error of the HTTP parser or a deadline, by Node's error code. */
function clientErrorProblem(code: string | undefined): AppError {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return new AppError('HEADERS_TOO_LARGE', 'the request line and headers are larger than the server accepts (16 KiB); send fewer or shorter headers');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new AppError('REQUEST_TIMEOUT', 'the request did not arrive within the time this server allows; the connection is closed');
    default:
      return new AppError('MALFORMED_REQUEST', 'the request is not valid HTTP/1.1; the connection is closed');
  }
}

/** A complete HTTP/1.1 answer carrying `error` as problem JSON, closing the connection. */
export function rawProblemResponse(error: AppError): string {
  const body = JSON.stringify(error.toProblem());
  const reason = STATUS_CODES[error.status] ?? 'Error';
  return [
    `HTTP/1.1 ${error.status} ${reason}`,
    'Content-Type: application/problem+json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/**
 * Fastify's `clientErrorHandler`: what Node's HTTP server answers itself, before any route runs —
 * headers over the size limit (431), a header or request deadline passed (408), bytes that are not
 * HTTP (400) — as problem JSON with a stable code, like every other error, instead of Fastify's
 * plain JSON. Like Node's own handler, it writes nothing once a response has begun on the socket
 * (that would corrupt it) and nothing after a reset by the peer.
 */
export function problemClientErrorHandler(logger: Logger): (error: Error & { code?: string }, socket: Socket) => void {
  return (error, socket) => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const problem = clientErrorProblem(error.code);
    logger.debug({ err: error.message, code: error.code, status: problem.status }, 'client error before routing');
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (socket.writable && inFlight?.headersSent !== true) socket.end(rawProblemResponse(problem));
    socket.destroy();
  };
}

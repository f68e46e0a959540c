/**
 * Payload shapes of the built-in tasks and their validation. Pure, so the API and the SDK can
 * reject a bad payload at submit time with field errors, and the worker can run the very same
 * checks again before it acts (the payload may have been submitted by an older version, or
 * straight into the database). The SSRF checks here are only the early, friendly part: the
 * HTTP task re-checks every resolved address when it connects.
 */
import type { FieldError } from '../errors/index.js';
import { blockedHostnameReason, blockedRange, hostAllowed, parseIPv4, parseIPv6 } from './ip-ranges.js';
import { isSecretRef } from './secret-refs.js';

/** Any JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** HTTP methods the `http` task sends. */
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** One of {@link HTTP_METHODS}. */
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** Payload of the `http` task. */
export interface HttpTaskPayload {
  /** Absolute `http:` or `https:` URL, without credentials. */
  url: string;
  /** Request method (any case). @defaultValue 'GET' */
  method?: string;
  /** Request headers; names are HTTP tokens, values contain no control characters. */
  headers?: Record<string, string>;
  /** A string is sent as is; any other JSON value is sent as `application/json`. */
  body?: JsonValue;
  /** Time limit for the whole exchange, redirects included, in ms. */
  timeoutMs?: number;
  /** Statuses accepted as success in addition to 2xx. */
  expectStatus?: number[];
}

/** Payload of the `shell` task. */
export interface ShellTaskPayload {
  /** argv: `command[0]` is the executable (a bare name looked up in the fixed PATH, or an absolute path). */
  command: string[];
  /** Absolute working directory. @defaultValue a fresh empty temporary directory */
  cwd?: string;
  /** Extra environment variables; the worker's own environment is never passed on. */
  env?: Record<string, string>;
  /** Time limit in ms; the whole process group is killed when it passes. */
  timeoutMs?: number;
  /** Text written to the process's standard input. */
  stdin?: string;
}

/** Payload of the `fibonacci` task. */
export interface FibonacciPayload {
  /** Index of the Fibonacci number to compute (F(0) = 0, F(1) = 1). */
  n: number;
}

/** Payload of the `sleep` task. */
export interface SleepPayload {
  /** How long to sleep, in ms. */
  ms: number;
}

/** Installation settings the validation depends on. */
export interface BuiltinPayloadPolicy {
  /** Let HTTP jobs reach private, loopback and other non-public addresses. @defaultValue false */
  allowPrivateNetworks?: boolean;
  /** Host names, `*.domain` patterns, addresses or CIDRs that bypass the private-address block. @defaultValue [] */
  allowedHosts?: readonly string[];
  /** Largest `n` the `fibonacci` task accepts. @defaultValue 100000 */
  fibonacciMaxN?: number;
}

/** Bounds enforced on built-in payloads. */
export const BUILTIN_PAYLOAD_LIMITS = Object.freeze({
  urlMaxLength: 8192,
  headerCount: 100,
  headerValueMaxLength: 8192,
  expectStatusCount: 100,
  httpTimeoutMaxMs: 3_600_000,
  shellArgCount: 1024,
  shellArgvMaxBytes: 131_072,
  shellEnvCount: 100,
  shellEnvValueMaxLength: 32_768,
  shellStdinMaxLength: 1_048_576,
  shellTimeoutMaxMs: 86_400_000,
  sleepMaxMs: 86_400_000,
  fibonacciMaxN: 100_000,
});

/**
 * Headers a job may not set: the client computes framing and connection headers itself, and a
 * caller-chosen `Host` would let a job talk to a different virtual host than the one validated.
 */
const FORBIDDEN_HEADERS = new Set([
  'host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te',
  'trailer', 'expect', 'proxy-authorization', 'proxy-connection',
]);
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// RFC 9110 field values: visible characters, space, tab and obs-text; CR/LF/NUL would split the request.
const BAD_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Loader variables turn any allowed executable into arbitrary code, so they are refused outright.
const FORBIDDEN_ENV = /^(LD_|DYLD_)|^(BASH_ENV|ENV|NODE_OPTIONS)$/;

/** Escape one JSON-pointer segment (RFC 6901). */
function segment(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Report fields not in `known` (typos like `header` would otherwise be silently ignored). */
function unknownFields(payload: Record<string, unknown>, known: readonly string[]): FieldError[] {
  return Object.keys(payload)
    .filter((key) => !known.includes(key))
    .map((key) => ({ pointer: `/${segment(key)}`, message: 'is not a known field' }));
}

function checkInteger(value: unknown, pointer: string, min: number, max: number): FieldError[] {
  if (typeof value !== 'number' || !Number.isInteger(value)) return [{ pointer, message: 'must be an integer' }];
  if (value < min || value > max) return [{ pointer, message: `must be between ${min} and ${max}` }];
  return [];
}

function isJsonValue(value: unknown, depth: number): boolean {
  if (depth > 64) return false;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((item) => isJsonValue(item, depth + 1));
  if (!isPlainObject(value)) return false;
  return Object.values(value).every((item) => isJsonValue(item, depth + 1));
}

function hasSpaceOrControl(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code <= 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** The literal IP in a URL host (already normalised by the URL parser), or null for a name. */
function literalIp(hostname: string): string | null {
  if (hostname.startsWith('[')) return parseIPv6(hostname) === null ? null : hostname.slice(1, -1);
  return parseIPv4(hostname) === null ? null : hostname;
}

/** Whether the host part of a parsed URL may be contacted under `policy` (early check). */
function hostProblem(url: URL, policy: BuiltinPayloadPolicy): string | null {
  if (url.hostname === '') return 'must have a host';
  if (url.port === '0') return 'must not use port 0';
  if (policy.allowPrivateNetworks === true) return null;
  const allowed = policy.allowedHosts ?? [];
  const ip = literalIp(url.hostname);
  if (hostAllowed(url.hostname, ip, allowed)) return null;
  if (ip !== null) {
    const reason = blockedRange(ip);
    return reason === null ? null : `targets ${ip}, which is not a public address: ${reason}`;
  }
  const nameReason = blockedHostnameReason(url.hostname);
  return nameReason === null ? null : `targets ${nameReason}`;
}

/**
 * Check an HTTP(S) URL: syntax, length, scheme, no credentials, and (unless allowed) no
 * private literal address or local host name. Used for the payload URL and for every
 * redirect target.
 */
export function validateHttpUrl(url: unknown, policy: BuiltinPayloadPolicy = {}, pointer = '/url'): FieldError[] {
  const fail = (message: string): FieldError[] => [{ pointer, message }];
  if (typeof url !== 'string' || url === '') return fail('must be a non-empty string');
  if (url.length > BUILTIN_PAYLOAD_LIMITS.urlMaxLength) return fail(`must be at most ${BUILTIN_PAYLOAD_LIMITS.urlMaxLength} characters`);
  // The URL parser would silently drop tabs and newlines; refuse them so what we check is what was sent.
  if (hasSpaceOrControl(url)) return fail('must not contain spaces or control characters (percent-encode them)');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return fail('must be an absolute URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return fail(`scheme "${parsed.protocol.replace(/:$/, '')}" is not allowed (use http or https)`);
  }
  if (parsed.username !== '' || parsed.password !== '') return fail('must not contain credentials (send an Authorization header instead)');
  const problem = hostProblem(parsed, policy);
  return problem === null ? [] : fail(problem);
}

function validateHeaders(headers: unknown): FieldError[] {
  if (!isPlainObject(headers)) return [{ pointer: '/headers', message: 'must be an object of header names to string values' }];
  const entries = Object.entries(headers);
  if (entries.length > BUILTIN_PAYLOAD_LIMITS.headerCount) {
    return [{ pointer: '/headers', message: `must have at most ${BUILTIN_PAYLOAD_LIMITS.headerCount} headers` }];
  }
  const errors: FieldError[] = [];
  for (const [name, value] of entries) {
    const pointer = `/headers/${segment(name)}`;
    if (!HEADER_NAME.test(name)) errors.push({ pointer, message: 'is not a valid header name' });
    else if (FORBIDDEN_HEADERS.has(name.toLowerCase())) errors.push({ pointer, message: 'is set by the client and may not be given' });
    // A secret reference is resolved by the worker, which checks the payload again with the value in place.
    if (isSecretRef(value)) continue;
    if (typeof value !== 'string') errors.push({ pointer, message: 'must be a string or a secret reference {"$secret": NAME}' });
    else if (value.length > BUILTIN_PAYLOAD_LIMITS.headerValueMaxLength) errors.push({ pointer, message: 'is too long' });
    else if (BAD_HEADER_VALUE.test(value)) errors.push({ pointer, message: 'must not contain CR, LF, NUL, other control characters or non-Latin-1 characters' });
  }
  return errors;
}

function validateHttp(payload: Record<string, unknown>, policy: BuiltinPayloadPolicy): FieldError[] {
  const errors = [...unknownFields(payload, ['url', 'method', 'headers', 'body', 'timeoutMs', 'expectStatus'])];
  errors.push(...validateHttpUrl(payload.url, policy));
  const method = payload.method;
  if (method !== undefined && (typeof method !== 'string' || !(HTTP_METHODS as readonly string[]).includes(method.toUpperCase()))) {
    errors.push({ pointer: '/method', message: `must be one of ${HTTP_METHODS.join(', ')}` });
  }
  if (payload.headers !== undefined) errors.push(...validateHeaders(payload.headers));
  if (payload.body !== undefined) {
    if (!isJsonValue(payload.body, 0)) errors.push({ pointer: '/body', message: 'must be a string or a JSON value' });
    const upper = typeof method === 'string' ? method.toUpperCase() : 'GET';
    if (upper === 'GET' || upper === 'HEAD') errors.push({ pointer: '/body', message: `is not allowed with ${upper}` });
  }
  if (payload.timeoutMs !== undefined) errors.push(...checkInteger(payload.timeoutMs, '/timeoutMs', 1, BUILTIN_PAYLOAD_LIMITS.httpTimeoutMaxMs));
  const expect = payload.expectStatus;
  if (expect !== undefined) {
    if (!Array.isArray(expect) || expect.length > BUILTIN_PAYLOAD_LIMITS.expectStatusCount) {
      errors.push({ pointer: '/expectStatus', message: `must be an array of at most ${BUILTIN_PAYLOAD_LIMITS.expectStatusCount} status codes` });
    } else {
      expect.forEach((status, index) => errors.push(...checkInteger(status, `/expectStatus/${index}`, 100, 599)));
    }
  }
  return errors;
}

function validateCommand(command: unknown): FieldError[] {
  const limits = BUILTIN_PAYLOAD_LIMITS;
  if (!Array.isArray(command) || command.length === 0 || command.length > limits.shellArgCount) {
    return [{ pointer: '/command', message: `must be an array of 1 to ${limits.shellArgCount} strings (argv)` }];
  }
  const errors: FieldError[] = [];
  let bytes = 0;
  command.forEach((arg: unknown, index) => {
    if (typeof arg !== 'string') errors.push({ pointer: `/command/${index}`, message: 'must be a string' });
    else if (arg.includes('\0')) errors.push({ pointer: `/command/${index}`, message: 'must not contain NUL' });
    else bytes += arg.length;
  });
  if (bytes > limits.shellArgvMaxBytes) errors.push({ pointer: '/command', message: `must total at most ${limits.shellArgvMaxBytes} characters` });
  const executable: unknown = command[0];
  if (typeof executable === 'string' && errors.length === 0) {
    const bare = executable !== '' && !executable.includes('/');
    const absolute = executable.startsWith('/') && !/(^|\/)\.\.?(\/|$)/.test(executable) && !executable.includes('//');
    if (!bare && !absolute) errors.push({ pointer: '/command/0', message: 'must be a program name or a normalised absolute path' });
  }
  return errors;
}

function validateEnv(env: unknown): FieldError[] {
  const limits = BUILTIN_PAYLOAD_LIMITS;
  if (!isPlainObject(env)) return [{ pointer: '/env', message: 'must be an object of variable names to string values' }];
  const entries = Object.entries(env);
  if (entries.length > limits.shellEnvCount) return [{ pointer: '/env', message: `must have at most ${limits.shellEnvCount} variables` }];
  const errors: FieldError[] = [];
  for (const [name, value] of entries) {
    const pointer = `/env/${segment(name)}`;
    if (!ENV_NAME.test(name)) errors.push({ pointer, message: 'is not a valid variable name' });
    else if (FORBIDDEN_ENV.test(name)) errors.push({ pointer, message: 'may not be set (it changes how programs are loaded)' });
    if (isSecretRef(value)) continue;
    if (typeof value !== 'string') errors.push({ pointer, message: 'must be a string or a secret reference {"$secret": NAME}' });
    else if (value.includes('\0')) errors.push({ pointer, message: 'must not contain NUL' });
    else if (value.length > limits.shellEnvValueMaxLength) errors.push({ pointer, message: 'is too long' });
  }
  return errors;
}

function validateShell(payload: Record<string, unknown>): FieldError[] {
  const limits = BUILTIN_PAYLOAD_LIMITS;
  const errors = [...unknownFields(payload, ['command', 'cwd', 'env', 'timeoutMs', 'stdin'])];
  errors.push(...validateCommand(payload.command));
  const cwd = payload.cwd;
  if (cwd !== undefined && (typeof cwd !== 'string' || !cwd.startsWith('/') || cwd.includes('\0'))) {
    errors.push({ pointer: '/cwd', message: 'must be an absolute path' });
  }
  if (payload.env !== undefined) errors.push(...validateEnv(payload.env));
  if (payload.timeoutMs !== undefined) errors.push(...checkInteger(payload.timeoutMs, '/timeoutMs', 1, limits.shellTimeoutMaxMs));
  const stdin = payload.stdin;
  if (stdin !== undefined && (typeof stdin !== 'string' || stdin.length > limits.shellStdinMaxLength)) {
    errors.push({ pointer: '/stdin', message: `must be a string of at most ${limits.shellStdinMaxLength} characters` });
  }
  return errors;
}

/**
 * Validate the payload of a built-in task. Returns field errors (JSON pointers into the
 * payload); an empty array means the payload is acceptable. Task names that are not
 * built-ins (and `noop`, which takes anything) always pass.
 */
export function validateBuiltinPayload(task: string, payload: unknown, policy: BuiltinPayloadPolicy = {}): FieldError[] {
  if (task !== 'http' && task !== 'shell' && task !== 'fibonacci' && task !== 'sleep') return [];
  if (!isPlainObject(payload)) return [{ pointer: '', message: 'must be an object' }];
  switch (task) {
    case 'http':
      return validateHttp(payload, policy);
    case 'shell':
      return validateShell(payload);
    case 'fibonacci': {
      const maxN = policy.fibonacciMaxN ?? BUILTIN_PAYLOAD_LIMITS.fibonacciMaxN;
      return [...unknownFields(payload, ['n']), ...checkInteger(payload.n, '/n', 0, maxN)];
    }
    case 'sleep':
      return [...unknownFields(payload, ['ms']), ...checkInteger(payload.ms, '/ms', 0, BUILTIN_PAYLOAD_LIMITS.sleepMaxMs)];
  }
}

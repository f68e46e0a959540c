/**
 * Payload shapes of the built-in tasks and their validation. Pure, so the API and the SDK can
 * reject a bad payload at submit time with field errors, and the worker can run the very same
 * checks again before it acts (the payload may have been submitted by an older version, or
 * straight into the database). The SSRF checks here are only the early, friendly part: the
 * HTTP task re-checks every resolved address when it connects. Each payload's shape and bounds
 * are one TypeBox schema (its type derived from it); what a schema cannot say (where a URL may
 * point, which headers and variables a job may set, a program's path) is code next to it.
 */
import { Type, type Static } from 'typebox';
import type { FieldError } from '../errors/index.js';
import { compileSchema, describePattern, type CompiledSchema } from './schema-errors.js';
import { blockedHostnameReason, blockedRange, hostAllowed, parseIPv4, parseIPv6 } from './ip-ranges.js';
import { isSecretRef } from './secret-refs.js';

/** Any JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** HTTP methods the `http` task sends. */
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** One of {@link HTTP_METHODS}. */
export type HttpMethod = (typeof HTTP_METHODS)[number];

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

/** Installation settings the validation depends on. */
export interface BuiltinPayloadPolicy {
  /** Let HTTP jobs reach private, loopback and other non-public addresses. @defaultValue false */
  allowPrivateNetworks?: boolean;
  /** Host names, `*.domain` patterns, addresses or CIDRs that bypass the private-address block. @defaultValue [] */
  allowedHosts?: readonly string[];
  /** Largest `n` the `fibonacci` task accepts. @defaultValue 100000 */
  fibonacciMaxN?: number;
}

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

const L = BUILTIN_PAYLOAD_LIMITS;
/** Name → value maps whose values may also be secret references (checked one by one below). */
const stringMap = (maxProperties: number, description: string) =>
  Type.Unsafe<Record<string, string>>(Type.Record(Type.String(), Type.Unknown(), { maxProperties, description }));

/** Payload of the `http` task. */
export const HttpTaskPayloadSchema = Type.Object(
  {
    url: Type.String({ description: 'absolute http: or https: URL, without credentials' }),
    method: Type.Optional(Type.String({ description: `request method (any case), one of ${HTTP_METHODS.join(', ')}; default GET` })),
    headers: Type.Optional(stringMap(L.headerCount, 'header names are HTTP tokens; values contain no control characters')),
    body: Type.Optional(Type.Unsafe<JsonValue>(Type.Unknown({ description: 'a string is sent as is; any other JSON value as application/json' }))),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: L.httpTimeoutMaxMs, description: 'limit for the whole exchange, redirects included' })),
    expectStatus: Type.Optional(Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), { maxItems: L.expectStatusCount, description: 'statuses accepted as success in addition to 2xx' })),
  },
  { additionalProperties: false },
);

/** Payload of the `shell` task. */
export const ShellTaskPayloadSchema = Type.Object(
  {
    command: Type.Array(Type.String(), { minItems: 1, maxItems: L.shellArgCount, description: 'argv: command[0] is a bare name looked up in the fixed PATH, or an absolute path' }),
    cwd: Type.Optional(Type.String({ pattern: describePattern('^/[^\\u0000]*$', 'must be an absolute path'), description: 'default: a fresh empty temporary directory' })),
    env: Type.Optional(stringMap(L.shellEnvCount, "extra environment variables; the worker's own environment is never passed on")),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: L.shellTimeoutMaxMs, description: 'the whole process group is killed when it passes' })),
    stdin: Type.Optional(Type.String({ maxLength: L.shellStdinMaxLength, description: "text written to the process's standard input" })),
  },
  { additionalProperties: false },
);

/** Payload of the `fibonacci` task (the largest `n` is an installation setting, checked below). */
export const FibonacciPayloadSchema = Type.Object({ n: Type.Integer({ minimum: 0, description: 'F(0) = 0, F(1) = 1' }) }, { additionalProperties: false });

/** Payload of the `sleep` task. */
export const SleepPayloadSchema = Type.Object({ ms: Type.Integer({ minimum: 0, maximum: L.sleepMaxMs }) }, { additionalProperties: false });

/** Payload of the `http` task. */
export type HttpTaskPayload = Static<typeof HttpTaskPayloadSchema>;
/** Payload of the `shell` task. */
export type ShellTaskPayload = Static<typeof ShellTaskPayloadSchema>;
/** Payload of the `fibonacci` task. */
export type FibonacciPayload = Static<typeof FibonacciPayloadSchema>;
/** Payload of the `sleep` task. */
export type SleepPayload = Static<typeof SleepPayloadSchema>;

const SCHEMAS: Record<'http' | 'shell' | 'fibonacci' | 'sleep', CompiledSchema<unknown>> = {
  http: compileSchema(HttpTaskPayloadSchema),
  shell: compileSchema(ShellTaskPayloadSchema),
  fibonacci: compileSchema(FibonacciPayloadSchema),
  sleep: compileSchema(SleepPayloadSchema),
};

/** Escape one JSON-pointer segment (RFC 6901). */
function segment(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
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

/** Each header: a token name the client does not set itself, a clean value or a secret reference. */
function validateHeaders(headers: Record<string, unknown>): FieldError[] {
  const errors: FieldError[] = [];
  for (const [name, value] of Object.entries(headers)) {
    const pointer = `/headers/${segment(name)}`;
    if (!HEADER_NAME.test(name)) errors.push({ pointer, message: 'is not a valid header name' });
    else if (FORBIDDEN_HEADERS.has(name.toLowerCase())) errors.push({ pointer, message: 'is set by the client and may not be given' });
    // A secret reference is resolved by the worker, which checks the payload again with the value in place.
    if (isSecretRef(value)) continue;
    if (typeof value !== 'string') errors.push({ pointer, message: 'must be a string or a secret reference {"$secret": NAME}' });
    else if (value.length > BUILTIN_PAYLOAD_LIMITS.headerValueMaxLength) errors.push({ pointer, message: `must be at most ${BUILTIN_PAYLOAD_LIMITS.headerValueMaxLength} characters` });
    else if (BAD_HEADER_VALUE.test(value)) errors.push({ pointer, message: 'must not contain CR, LF, NUL, other control characters or non-Latin-1 characters' });
  }
  return errors;
}

/** The http rules the schema cannot say: where the URL points, which method, which headers, a body only with a method that has one. */
function httpRules(payload: Record<string, unknown>, policy: BuiltinPayloadPolicy): FieldError[] {
  const errors = [...validateHttpUrl(payload.url, policy)];
  const method = payload.method;
  if (typeof method === 'string' && !(HTTP_METHODS as readonly string[]).includes(method.toUpperCase())) {
    errors.push({ pointer: '/method', message: `must be one of: ${HTTP_METHODS.join(', ')}` });
  }
  if (isPlainObject(payload.headers)) errors.push(...validateHeaders(payload.headers));
  if (payload.body !== undefined) {
    if (!isJsonValue(payload.body, 0)) errors.push({ pointer: '/body', message: 'must be a string or a JSON value' });
    const upper = typeof method === 'string' ? method.toUpperCase() : 'GET';
    if (upper === 'GET' || upper === 'HEAD') errors.push({ pointer: '/body', message: `is not allowed with ${upper}` });
  }
  return errors;
}

/** argv: no NUL, bounded in total, and a program that is a bare name or a normalised absolute path. */
function commandRules(command: unknown): FieldError[] {
  if (!Array.isArray(command)) return [];
  const errors: FieldError[] = [];
  let bytes = 0;
  command.forEach((arg: unknown, index) => {
    if (typeof arg !== 'string') return;
    if (arg.includes('\0')) errors.push({ pointer: `/command/${index}`, message: 'must not contain NUL' });
    else bytes += arg.length;
  });
  if (bytes > L.shellArgvMaxBytes) errors.push({ pointer: '/command', message: `must total at most ${L.shellArgvMaxBytes} characters` });
  const executable: unknown = command[0];
  if (typeof executable === 'string' && errors.length === 0) {
    const bare = executable !== '' && !executable.includes('/');
    const absolute = executable.startsWith('/') && !/(^|\/)\.\.?(\/|$)/.test(executable) && !executable.includes('//');
    if (!bare && !absolute) errors.push({ pointer: '/command/0', message: 'must be a program name or a normalised absolute path' });
  }
  return errors;
}

/** Each variable: a valid name that does not change how programs load, a NUL-free value or a secret reference. */
function envRules(env: unknown): FieldError[] {
  if (!isPlainObject(env)) return [];
  const errors: FieldError[] = [];
  for (const [name, value] of Object.entries(env)) {
    const pointer = `/env/${segment(name)}`;
    if (!ENV_NAME.test(name)) errors.push({ pointer, message: 'is not a valid variable name' });
    else if (FORBIDDEN_ENV.test(name)) errors.push({ pointer, message: 'may not be set (it changes how programs are loaded)' });
    if (isSecretRef(value)) continue;
    if (typeof value !== 'string') errors.push({ pointer, message: 'must be a string or a secret reference {"$secret": NAME}' });
    else if (value.includes('\0')) errors.push({ pointer, message: 'must not contain NUL' });
    else if (value.length > L.shellEnvValueMaxLength) errors.push({ pointer, message: `must be at most ${L.shellEnvValueMaxLength} characters` });
  }
  return errors;
}

/** The rules next to each schema (the fibonacci bound is the installation's). */
function rulesOf(task: 'http' | 'shell' | 'fibonacci' | 'sleep', payload: Record<string, unknown>, policy: BuiltinPayloadPolicy): FieldError[] {
  switch (task) {
    case 'http':
      return httpRules(payload, policy);
    case 'shell':
      return [...commandRules(payload.command), ...envRules(payload.env)];
    case 'fibonacci': {
      const maxN = policy.fibonacciMaxN ?? L.fibonacciMaxN;
      return typeof payload.n === 'number' && payload.n > maxN ? [{ pointer: '/n', message: `must be at most ${maxN}` }] : [];
    }
    case 'sleep':
      return [];
  }
}

/**
 * Validate the payload of a built-in task against its schema and the rules next to it. Returns
 * field errors (JSON pointers into the payload, `''` for the payload itself); an empty array
 * means the payload is acceptable. Task names that are not built-ins (and `noop`, which takes
 * anything) always pass.
 */
export function validateBuiltinPayload(task: string, payload: unknown, policy: BuiltinPayloadPolicy = {}): FieldError[] {
  if (task !== 'http' && task !== 'shell' && task !== 'fibonacci' && task !== 'sleep') return [];
  if (!isPlainObject(payload)) return [{ pointer: '', message: 'must be an object' }];
  const schema = SCHEMAS[task];
  const errors = schema.check(payload) ? [] : schema.errors(payload, '', '');
  const rules = rulesOf(task, payload, policy);
  return [...errors, ...rules.filter((e) => !errors.some((known) => known.pointer === e.pointer))];
}

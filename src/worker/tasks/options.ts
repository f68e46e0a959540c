/**
 * Configuration of the built-in tasks. The defaults are the safe ones: HTTP jobs reach only
 * public addresses, and the shell task is off.
 */

import type { JobContext } from '../types.js';
import type { Clock } from '../../core/deps.js';

/**
 * The shape of the asynchronous built-in handlers: untrusted payload in (validated inside),
 * promise out. Assignable to `TaskHandler`.
 */
export type AsyncTaskHandler<Result> = (payload: unknown, context: JobContext) => Promise<Result>;

/** One resolved address. */
export interface LookupAddress {
  /** IPv4 or IPv6 address text. */
  address: string;
  /** 4 or 6. */
  family: number;
}

/**
 * Resolves a host name to every address it has (like `dns.lookup(host, { all: true })`).
 * Injectable so tests never touch real DNS.
 */
export type LookupFn = (hostname: string) => Promise<readonly LookupAddress[]>;

/** Settings of the `http` task. */
export interface HttpTaskOptions {
  /** Let jobs reach private, loopback, link-local and other non-public addresses. */
  allowPrivateNetworks: boolean;
  /** Host names, `*.domain` patterns, addresses or CIDRs that bypass the private-address block, e.g. `['127.0.0.1/32', 'localhost']`. */
  allowedHosts: string[];
  /** Response bodies are cut after this many bytes (the result says `truncated: true`). */
  maxResponseBytes: number;
  /** Time limit of one job's whole exchange (redirects included) when the payload sets none, in ms. */
  defaultTimeoutMs: number;
  /** Redirects followed at most; every hop is validated again. */
  maxRedirects: number;
  /** `user-agent` sent unless the payload sets one. */
  userAgent: string;
  /** DNS resolver; defaults to `dns.lookup(host, { all: true })`. */
  lookup?: LookupFn;
  /** The clock an HTTP-date `Retry-After` is read against. @defaultValue the wall clock */
  clock?: Clock;
}

/** Settings of the `shell` task. */
export interface ShellTaskOptions {
  /** The task exists only when this is true. */
  enabled: boolean;
  /** Executables allowed as `command[0]`: names (looked up in the fixed PATH) or absolute paths. Empty = any. */
  allowedCommands: string[];
  /** Time limit when the payload sets none, in ms. */
  defaultTimeoutMs: number;
  /** Captured bytes per stream (stdout, stderr); the rest is discarded. */
  maxOutputBytes: number;
  /** Time between SIGTERM and SIGKILL of the process group, in ms. */
  killGraceMs: number;
}

/** Settings of the `fibonacci` task. */
export interface FibonacciTaskOptions {
  /** Largest `n` accepted. */
  maxN: number;
}

/** Settings of every built-in task. */
export interface BuiltinTaskOptions {
  /** The `http` task. */
  http: HttpTaskOptions;
  /** The `shell` task. */
  shell: ShellTaskOptions;
  /** The `fibonacci` task. */
  fibonacci: FibonacciTaskOptions;
}

/** Overrides for {@link BuiltinTaskOptions}: any field of any section may be left out. */
export interface BuiltinTaskOverrides {
  /** Overrides of the `http` settings. */
  http?: Partial<HttpTaskOptions>;
  /** Overrides of the `shell` settings. */
  shell?: Partial<ShellTaskOptions>;
  /** Overrides of the `fibonacci` settings. */
  fibonacci?: Partial<FibonacciTaskOptions>;
}

const noHosts: string[] = [];
const noCommands: string[] = [];
Object.freeze(noHosts);
Object.freeze(noCommands);

/** Defaults: public addresses only, 64 KiB bodies, 30 s, 5 redirects; shell off; n ≤ 100000. */
export const DEFAULT_BUILTIN_TASK_OPTIONS: BuiltinTaskOptions = Object.freeze({
  http: Object.freeze({
    allowPrivateNetworks: false,
    allowedHosts: noHosts,
    maxResponseBytes: 65_536,
    defaultTimeoutMs: 30_000,
    maxRedirects: 5,
    userAgent: 'jobplane-http-task/1',
  }),
  shell: Object.freeze({
    enabled: false,
    allowedCommands: noCommands,
    defaultTimeoutMs: 60_000,
    maxOutputBytes: 65_536,
    killGraceMs: 5_000,
  }),
  fibonacci: Object.freeze({ maxN: 100_000 }),
});

/** Defaults with `overrides` laid over them, section by section; arrays are copied. */
export function resolveBuiltinTaskOptions(overrides: BuiltinTaskOverrides = {}): BuiltinTaskOptions {
  const defaults = DEFAULT_BUILTIN_TASK_OPTIONS;
  const http = { ...defaults.http, ...overrides.http };
  const shell = { ...defaults.shell, ...overrides.shell };
  return {
    http: { ...http, allowedHosts: [...http.allowedHosts] },
    shell: { ...shell, allowedCommands: [...shell.allowedCommands] },
    fibonacci: { ...defaults.fibonacci, ...overrides.fibonacci },
  };
}

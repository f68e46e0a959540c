/**
 * Connect-time SSRF enforcement for the `http` task (docs/decisions.md #20):
 * resolve the host ourselves, refuse if any address is not public (unless the operator allowed
 * it), and hand the socket a `lookup` that can only return the addresses we checked. Without
 * the pin, Node would resolve the name again when connecting and a DNS-rebinding server could
 * answer differently the second time.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupFunction } from 'node:net';
import { blockedRange, hostAllowed, normalizeHost, parseIp } from '../../core/ip-ranges.js';
import { AppError, PermanentError } from '../../errors/index.js';
import type { HttpTaskOptions, LookupAddress, LookupFn } from './options.js';

/** The system resolver: every address, in the order the OS gives them. */
export const systemLookup: LookupFn = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/** Reject with the signal's reason as soon as it fires, otherwise settle like `promise`. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => { signal.removeEventListener('abort', onAbort); resolve(value); },
      (error: unknown) => { signal.removeEventListener('abort', onAbort); reject(error instanceof Error ? error : new Error(String(error))); },
    );
  });
}

/** Addresses `url`'s host resolves to: the literal itself for an IP host, else a DNS lookup. */
async function addressesOf(url: URL, lookup: LookupFn, signal: AbortSignal): Promise<LookupAddress[]> {
  const host = normalizeHost(url.hostname);
  const literal = parseIp(host);
  // The URL parser has already rewritten every IPv4 spelling to a dotted quad, so `host` is what will be dialled.
  if (literal !== null) return [{ address: host, family: literal.family }];
  let found: readonly LookupAddress[];
  try {
    found = await untilAborted(lookup(host), signal);
  } catch (error) {
    if (signal.aborted) throw error;
    const code = (error as { code?: unknown }).code;
    throw new Error(`DNS lookup of ${host} failed${typeof code === 'string' ? ` (${code})` : ''}`, { cause: error });
  }
  if (found.length === 0) throw new Error(`DNS lookup of ${host} returned no address`);
  return found.map(({ address, family }) => ({ address, family }));
}

/**
 * Resolve `url`'s host and check every address. Throws a `PermanentError` (cause: AppError
 * `URL_NOT_ALLOWED`) naming the address and the range it falls in when any address is not
 * public and neither `allowPrivateNetworks` nor `allowedHosts` lets it through. Returns the
 * checked addresses, to be pinned with {@link pinnedLookup}.
 */
export async function resolveTarget(url: URL, options: HttpTaskOptions, signal: AbortSignal): Promise<LookupAddress[]> {
  const addresses = await addressesOf(url, options.lookup ?? systemLookup, signal);
  if (options.allowPrivateNetworks) return addresses;
  for (const { address } of addresses) {
    if (hostAllowed(url.hostname, address, options.allowedHosts)) continue;
    const reason = blockedRange(address);
    if (reason === null) continue;
    const detail = `refusing to connect to ${url.hostname}: it resolves to ${address}, which is not a public address (${reason})`;
    throw new PermanentError(detail, { cause: new AppError('URL_NOT_ALLOWED', detail) });
  }
  return addresses;
}

function wantedFamily(family: unknown): 4 | 6 | null {
  if (family === 4 || family === 'IPv4') return 4;
  if (family === 6 || family === 'IPv6') return 6;
  return null;
}

/**
 * A `lookup` for `http.request` that answers only with `addresses`, whatever name it is asked
 * about. Node calls it with `{ all: true }` when it races address families (autoSelectFamily,
 * the default since Node 20) and without it otherwise; both callback shapes are served.
 */
export function pinnedLookup(addresses: readonly LookupAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const family = wantedFamily(options.family);
    const usable = family === null ? addresses : addresses.filter((entry) => entry.family === family);
    // Node's own resolver calls back asynchronously; callers rely on that ordering.
    process.nextTick(() => {
      const first = usable[0];
      if (first === undefined) {
        const error: NodeJS.ErrnoException = new Error('no checked address of the requested family');
        error.code = 'ENOTFOUND';
        callback(error, '', 0);
      } else if (options.all === true) {
        callback(null, usable.map((entry) => ({ address: entry.address, family: entry.family })));
      } else {
        callback(null, first.address, first.family);
      }
    });
  };
}

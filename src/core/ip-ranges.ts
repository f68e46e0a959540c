/**
 * IP address parsing and the "is this address public?" rule behind SSRF protection
 * (RELIABILITY-SECURITY §5e point 4). Pure: the HTTP task resolves names itself and asks
 * this module about every address before it connects; the payload validator asks it about
 * literal IP hosts at submit time.
 *
 * IPv4 text is parsed the way `inet_aton` and the WHATWG URL parser do (`2130706433`,
 * `0x7f.1`, `0177.0.0.1` all mean 127.0.0.1), because that is how the address would be
 * understood on the wire; a stricter parser would let those spellings slip past the block.
 */

/** A parsed address: 4 bytes for IPv4, 16 for IPv6, most significant first. */
export interface IpAddress {
  /** 4 or 6. */
  family: 4 | 6;
  /** Network-order bytes (length 4 or 16). */
  bytes: readonly number[];
}

const IPV4_MAX = 0xffffffff;

/** Parse one inet_aton part: decimal, `0x` hex or leading-zero octal. */
function parseIPv4Part(part: string): number | null {
  if (/^0[xX][0-9a-fA-F]*$/.test(part)) return part.length === 2 ? 0 : parseInt(part.slice(2), 16);
  if (/^0[0-7]+$/.test(part)) return parseInt(part.slice(1), 8);
  if (/^(0|[1-9][0-9]*)$/.test(part)) return Number(part);
  return null;
}

/**
 * Parse IPv4 in any form `inet_aton`/WHATWG URL accept: 1–4 dot-separated parts, each decimal,
 * hex (`0x`) or octal (leading `0`), the last part filling the remaining bytes.
 * Returns the address as an unsigned 32-bit number, or null when `text` is not IPv4.
 */
export function parseIPv4(text: string): number | null {
  const parts = text.split('.');
  // WHATWG URL ignores one trailing dot ("127.0.0.1." is 127.0.0.1).
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  if (parts.length < 1 || parts.length > 4) return null;
  const values: number[] = [];
  for (const part of parts) {
    const value = parseIPv4Part(part);
    if (value === null || !Number.isFinite(value)) return null;
    values.push(value);
  }
  const last = values.pop() ?? 0;
  let result = 0;
  for (const [index, value] of values.entries()) {
    if (value > 255) return null;
    result += value * 2 ** (8 * (3 - index));
  }
  const room = 2 ** (8 * (4 - values.length)) - 1;
  if (last > room) return null;
  result += last;
  return result <= IPV4_MAX ? result : null;
}

/** Parse a strict dotted quad (used inside IPv6 text, where no other IPv4 form is allowed). */
function parseDottedQuad(text: string): number[] | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const bytes: number[] = [];
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return null;
    const value = Number(part);
    if (value > 255) return null;
    bytes.push(value);
  }
  return bytes;
}

/** Split colon-separated hex groups; an embedded dotted quad at the end counts as two groups. */
function parseIPv6Groups(text: string): number[] | null {
  if (text === '') return [];
  const groups: number[] = [];
  const parts = text.split(':');
  for (const [index, part] of parts.entries()) {
    if (index === parts.length - 1 && part.includes('.')) {
      const quad = parseDottedQuad(part);
      if (quad === null) return null;
      groups.push(((quad[0] ?? 0) << 8) | (quad[1] ?? 0), ((quad[2] ?? 0) << 8) | (quad[3] ?? 0));
    } else {
      if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return null;
      groups.push(parseInt(part, 16));
    }
  }
  return groups;
}

/**
 * Parse IPv6 text (optionally in `[brackets]`, optionally with a `%zone`, with `::` and an
 * embedded dotted quad allowed). Returns 16 bytes or null.
 */
export function parseIPv6(text: string): number[] | null {
  let body = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const zone = body.indexOf('%');
  if (zone >= 0) body = body.slice(0, zone);
  if (!body.includes(':')) return null;
  const halves = body.split('::');
  if (halves.length > 2) return null;
  const head = parseIPv6Groups(halves[0] ?? '');
  const tail = halves.length === 2 ? parseIPv6Groups(halves[1] ?? '') : [];
  if (head === null || tail === null) return null;
  let groups: number[];
  if (halves.length === 2) {
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return null;
    groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    groups = head;
  }
  if (groups.length !== 8) return null;
  return groups.flatMap((group) => [group >> 8, group & 0xff]);
}

/** Parse IPv4 (any inet_aton form) or IPv6 text. Returns null when `text` is not an IP address. */
export function parseIp(text: string): IpAddress | null {
  const v4 = parseIPv4(text);
  if (v4 !== null) return { family: 4, bytes: [v4 >>> 24, (v4 >>> 16) & 0xff, (v4 >>> 8) & 0xff, v4 & 0xff] };
  const v6 = parseIPv6(text);
  return v6 === null ? null : { family: 6, bytes: v6 };
}

/** Canonical text: dotted quad for IPv4, RFC 5952 (lower case, longest zero run as `::`) for IPv6. */
export function formatIp(ip: IpAddress): string {
  if (ip.family === 4) return ip.bytes.join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((ip.bytes[i] ?? 0) << 8) | (ip.bytes[i + 1] ?? 0));
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8; start += 1) {
    let length = 0;
    while (start + length < 8 && groups[start + length] === 0) length += 1;
    if (length > bestLength) [bestStart, bestLength] = [start, length];
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** Canonical text of an address given in any accepted form, or null when it is not an IP address. */
export function normalizeIp(text: string): string | null {
  const ip = parseIp(text);
  return ip === null ? null : formatIp(ip);
}

/** Whether the first `prefix` bits of `a` and `b` agree (both of the same family). */
function prefixMatches(a: readonly number[], b: readonly number[], prefix: number): boolean {
  for (let bit = 0; bit < prefix; bit += 8) {
    const take = Math.min(8, prefix - bit);
    const mask = (0xff << (8 - take)) & 0xff;
    if (((a[bit / 8] ?? 0) & mask) !== ((b[bit / 8] ?? 0) & mask)) return false;
  }
  return true;
}

/** A network: address plus prefix length. */
export interface Cidr {
  /** Network address. */
  ip: IpAddress;
  /** Prefix length in bits (0–32 or 0–128). */
  prefix: number;
}

/** Parse `addr/prefix` (or a bare address, meaning a single host). Returns null when invalid. */
export function parseCidr(text: string): Cidr | null {
  const slash = text.lastIndexOf('/');
  const ip = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (ip === null) return null;
  const max = ip.family === 4 ? 32 : 128;
  if (slash < 0) return { ip, prefix: max };
  const prefixText = text.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  return prefix <= max ? { ip, prefix } : null;
}

/** The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`), else null. */
export function mappedIPv4(ip: IpAddress): IpAddress | null {
  if (ip.family !== 6 || !prefixMatches(ip.bytes, MAPPED.ip.bytes, MAPPED.prefix)) return null;
  return { family: 4, bytes: ip.bytes.slice(12) };
}

/** Whether `ip` lies in `cidr`. An IPv4-mapped IPv6 address matches IPv4 networks by its embedded address. */
export function matchesCidr(ip: string | IpAddress, cidr: string | Cidr): boolean {
  const address = typeof ip === 'string' ? parseIp(ip) : ip;
  const network = typeof cidr === 'string' ? parseCidr(cidr) : cidr;
  if (address === null || network === null) return false;
  const candidate = address.family === network.ip.family ? address : mappedIPv4(address);
  return candidate !== null && candidate.family === network.ip.family && prefixMatches(candidate.bytes, network.ip.bytes, network.prefix);
}

function cidr(text: string): Cidr {
  const parsed = parseCidr(text);
  if (parsed === null) throw new Error(`bad built-in CIDR ${text}`);
  return parsed;
}

const MAPPED = cidr('::ffff:0:0/96');
const SIX_TO_FOUR = cidr('2002::/16');
const GLOBAL_UNICAST_V6 = cidr('2000::/3');

/** Non-public IPv4 networks (IANA special-purpose registry) with the reason shown in errors. */
const BLOCKED_V4: readonly (readonly [Cidr, string])[] = [
  ['0.0.0.0/8', 'this network'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'carrier-grade NAT'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local, incl. cloud metadata'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'IETF protocol assignments'],
  ['192.0.2.0/24', 'documentation'],
  ['192.88.99.0/24', '6to4 relay anycast'],
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'benchmarking'],
  ['198.51.100.0/24', 'documentation'],
  ['203.0.113.0/24', 'documentation'],
  ['224.0.0.0/4', 'multicast'],
  ['255.255.255.255/32', 'broadcast'],
  ['240.0.0.0/4', 'reserved'],
].map(([text, reason]) => [cidr(text ?? ''), reason ?? ''] as const);

/** Non-public IPv6 networks checked before the "must be global unicast" rule, for clearer errors. */
const BLOCKED_V6: readonly (readonly [Cidr, string])[] = [
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['::/96', 'IPv4-compatible (deprecated)'],
  ['::ffff:0:0:0/96', 'IPv4-translated'],
  ['64:ff9b::/96', 'NAT64'],
  ['64:ff9b:1::/48', 'local-use NAT64'],
  ['100::/64', 'discard-only'],
  ['2001::/32', 'Teredo'],
  ['2001:10::/28', 'ORCHID'],
  ['2001:db8::/32', 'documentation'],
  ['3fff::/20', 'documentation'],
  ['fc00::/7', 'unique local'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'site-local (deprecated)'],
  ['ff00::/8', 'multicast'],
].map(([text, reason]) => [cidr(text ?? ''), reason ?? ''] as const);

function describe(network: Cidr, reason: string): string {
  return `${formatIp(network.ip)}/${network.prefix} (${reason})`;
}

/**
 * Why `ip` is not a public address — e.g. `127.0.0.0/8 (loopback)` — or null when it is public.
 * Text that is not an IP address is "not public" (fail closed). IPv4-mapped and 6to4 IPv6
 * addresses are judged by the IPv4 address they carry.
 */
export function blockedRange(ip: string | IpAddress): string | null {
  const address = typeof ip === 'string' ? parseIp(ip) : ip;
  if (address === null) return 'not an IP address';
  if (address.family === 4) {
    const hit = BLOCKED_V4.find(([network]) => prefixMatches(address.bytes, network.ip.bytes, network.prefix));
    return hit === undefined ? null : describe(hit[0], hit[1]);
  }
  const mapped = mappedIPv4(address);
  if (mapped !== null) {
    const inner = blockedRange(mapped);
    return inner === null ? null : `IPv4-mapped ${formatIp(mapped)} in ${inner}`;
  }
  if (prefixMatches(address.bytes, SIX_TO_FOUR.ip.bytes, SIX_TO_FOUR.prefix)) {
    const inner = blockedRange({ family: 4, bytes: address.bytes.slice(2, 6) });
    return inner === null ? null : `6to4 for ${formatIp({ family: 4, bytes: address.bytes.slice(2, 6) })} in ${inner}`;
  }
  const hit = BLOCKED_V6.find(([network]) => prefixMatches(address.bytes, network.ip.bytes, network.prefix));
  if (hit !== undefined) return describe(hit[0], hit[1]);
  if (!prefixMatches(address.bytes, GLOBAL_UNICAST_V6.ip.bytes, GLOBAL_UNICAST_V6.prefix)) {
    return 'outside 2000::/3 (not global unicast)';
  }
  return null;
}

/** Whether `ip` is a publicly routable address (false for anything in §5e's block list, and for non-addresses). */
export function isPublicAddress(ip: string | IpAddress): boolean {
  return blockedRange(ip) === null;
}

/** Lower-case a host name, drop `[]` around IPv6 and trailing dots, so comparisons are exact. */
export function normalizeHost(host: string): string {
  const unbracketed = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return unbracketed.toLowerCase().replace(/\.+$/, '');
}

/** Names that point inside the installation whatever DNS says about them today. */
const BLOCKED_NAMES = new Set(['localhost', 'localhost.localdomain', 'ip6-localhost', 'ip6-loopback', 'metadata', 'metadata.google.internal', 'instance-data']);
const BLOCKED_SUFFIXES = ['.localhost', '.internal', '.local', '.home.arpa'];

/**
 * Why a host *name* is refused before any DNS lookup (`localhost`, `*.internal`, cloud
 * metadata names...), or null. Only an early, friendly check: addresses are still checked
 * after resolution, which is what actually stops a name that resolves inward.
 */
export function blockedHostnameReason(host: string): string | null {
  const name = normalizeHost(host);
  if (BLOCKED_NAMES.has(name)) return `"${name}" is a local or metadata host name`;
  const suffix = BLOCKED_SUFFIXES.find((end) => name.endsWith(end));
  return suffix === undefined ? null : `"${name}" is in the non-public domain "${suffix.slice(1)}"`;
}

/**
 * Whether an operator's allow-list lets `host` (as written in the URL) at `ip` (what it
 * resolved to, or null before resolution) past the private-address block. Entries are
 * addresses or CIDRs (`127.0.0.1/32`, `fd00::/8`), exact host names (`localhost`), or
 * `*.example.com` for any sub-domain of example.com.
 */
export function hostAllowed(host: string, ip: string | null, allowedHosts: readonly string[]): boolean {
  const name = normalizeHost(host);
  const address = parseIp(ip ?? name);
  for (const entry of allowedHosts) {
    const trimmed = entry.trim();
    if (trimmed === '') continue;
    const network = parseCidr(normalizeHost(trimmed));
    if (network !== null) {
      if (address !== null && matchesCidr(address, network)) return true;
      continue;
    }
    const pattern = normalizeHost(trimmed);
    if (pattern.startsWith('*.') ? name.endsWith(pattern.slice(1)) : name === pattern) return true;
  }
  return false;
}

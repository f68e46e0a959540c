/**
 * IP address parsing and the "is this address public?" rule behind SSRF protection
 * (docs/decisions.md #20). Pure: the HTTP task resolves names itself and asks
 * this module about every address before it connects; the payload validator asks it about
 * literal IP hosts at submit time.
 *
 * Parsing is the WHATWG URL parser's (`new URL()`), checked by `node:net`'s `isIP`; ranges are
 * `node:net` `BlockList`s (pure computation, no I/O). IPv4 text is read the way `inet_aton` and
 * the URL parser do (`2130706433`, `0x7f.1`, `0177.0.0.1` all mean 127.0.0.1), because that is
 * how the address would be understood on the wire; a stricter parser would let those spellings
 * slip past the block.
 */
import { BlockList, isIP } from 'node:net';

/** A parsed address. */
export interface IpAddress {
  /** 4 or 6. */
  family: 4 | 6;
  /** Canonical text: a dotted quad, or RFC 5952 IPv6 (lower case, longest zero run as `::`, no brackets). */
  text: string;
}

/** What an IPv4 spelling may contain: digits, hex digits, `x` and dots (nothing the URL parser would decode or trim). */
const IPV4_SPELLING = /^[0-9a-fA-FxX.]+$/;

/** The dotted quad `text` means in any `inet_aton`/WHATWG form, or null when it is not IPv4. */
function canonicalIPv4(text: string): string | null {
  if (!IPV4_SPELLING.test(text)) return null;
  let host: string;
  try {
    host = new URL(`http://${text}/`).hostname;
  } catch {
    return null; // ends in a number, so the URL parser read it as IPv4, and it is not one
  }
  return isIP(host) === 4 ? host : null;
}

/**
 * Parse IPv4 in any form `inet_aton`/WHATWG URL accept: 1–4 dot-separated parts, each decimal,
 * hex (`0x`) or octal (leading `0`), the last part filling the remaining bytes; one trailing dot
 * is ignored. Returns the address as an unsigned 32-bit number, or null when `text` is not IPv4.
 */
export function parseIPv4(text: string): number | null {
  const quad = canonicalIPv4(text);
  return quad === null ? null : quad.split('.').reduce((sum, part) => sum * 256 + Number(part), 0);
}

/**
 * Parse IPv6 text (optionally in `[brackets]`, optionally with a `%zone`, with `::` and an
 * embedded dotted quad allowed). Returns its canonical text (see {@link IpAddress}) or null.
 */
export function parseIPv6(text: string): string | null {
  let body = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const zone = body.indexOf('%');
  if (zone >= 0) body = body.slice(0, zone);
  if (isIP(body) !== 6) return null;
  try {
    return new URL(`http://[${body}]/`).hostname.slice(1, -1);
  } catch {
    return null;
  }
}

/** Parse IPv4 (any inet_aton form) or IPv6 text. Returns null when `text` is not an IP address. */
export function parseIp(text: string): IpAddress | null {
  const v4 = canonicalIPv4(text);
  if (v4 !== null) return { family: 4, text: v4 };
  const v6 = parseIPv6(text);
  return v6 === null ? null : { family: 6, text: v6 };
}

/** Canonical text: dotted quad for IPv4, RFC 5952 (lower case, longest zero run as `::`) for IPv6. */
export function formatIp(ip: IpAddress): string {
  return ip.text;
}

/** Canonical text of an address given in any accepted form, or null when it is not an IP address. */
export function normalizeIp(text: string): string | null {
  return parseIp(text)?.text ?? null;
}

/** The eight 16-bit groups of a canonical IPv6 text (no embedded dotted quad, at most one `::`). */
function groupsOf(canonical: string): number[] {
  const [head = '', tail] = canonical.split('::');
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const front = parse(head);
  const back = tail === undefined ? [] : parse(tail);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}

/** The IPv4 address in groups `at` and `at + 1` of an IPv6 address. */
function embeddedIPv4(ip: IpAddress, at: number): IpAddress {
  const groups = groupsOf(ip.text);
  const [high = 0, low = 0] = [groups[at], groups[at + 1]];
  return { family: 4, text: [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.') };
}

/** A network: address plus prefix length. */
export interface Cidr {
  /** Network address. */
  ip: IpAddress;
  /** Prefix length in bits (0–32 or 0–128). */
  prefix: number;
  /** The network as a `node:net` BlockList, for membership checks. */
  readonly members: BlockList;
}

const familyName = (ip: IpAddress): 'ipv4' | 'ipv6' => (ip.family === 4 ? 'ipv4' : 'ipv6');

/** Parse `addr/prefix` (or a bare address, meaning a single host). Returns null when invalid. */
export function parseCidr(text: string): Cidr | null {
  const slash = text.lastIndexOf('/');
  const ip = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (ip === null) return null;
  const max = ip.family === 4 ? 32 : 128;
  const prefixText = slash < 0 ? String(max) : text.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  if (prefix > max) return null;
  const members = new BlockList();
  members.addSubnet(ip.text, prefix, familyName(ip));
  return { ip, prefix, members };
}

/** Whether `ip` lies in `network`, both of the same family (a BlockList alone would also match across families). */
function inNetwork(ip: IpAddress, network: Cidr): boolean {
  return ip.family === network.ip.family && network.members.check(ip.text, familyName(ip));
}

/** The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`), else null. */
export function mappedIPv4(ip: IpAddress): IpAddress | null {
  return inNetwork(ip, MAPPED) ? embeddedIPv4(ip, 6) : null;
}

/** Whether `ip` lies in `cidr`. An IPv4-mapped IPv6 address matches IPv4 networks by its embedded address. */
export function matchesCidr(ip: string | IpAddress, cidr: string | Cidr): boolean {
  const address = typeof ip === 'string' ? parseIp(ip) : ip;
  const network = typeof cidr === 'string' ? parseCidr(cidr) : cidr;
  if (address === null || network === null) return false;
  const candidate = address.family === network.ip.family ? address : mappedIPv4(address);
  return candidate !== null && inNetwork(candidate, network);
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
  return `${network.ip.text}/${network.prefix} (${reason})`;
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
    const hit = BLOCKED_V4.find(([network]) => inNetwork(address, network));
    return hit === undefined ? null : describe(hit[0], hit[1]);
  }
  const mapped = mappedIPv4(address);
  if (mapped !== null) {
    const inner = blockedRange(mapped);
    return inner === null ? null : `IPv4-mapped ${mapped.text} in ${inner}`;
  }
  if (inNetwork(address, SIX_TO_FOUR)) {
    const carried = embeddedIPv4(address, 1);
    const inner = blockedRange(carried);
    return inner === null ? null : `6to4 for ${carried.text} in ${inner}`;
  }
  const hit = BLOCKED_V6.find(([network]) => inNetwork(address, network));
  if (hit !== undefined) return describe(hit[0], hit[1]);
  if (!inNetwork(address, GLOBAL_UNICAST_V6)) {
    return 'outside 2000::/3 (not global unicast)';
  }
  return null;
}

/** Whether `ip` is a publicly routable address (false for anything in the block lists above, and for non-addresses). */
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

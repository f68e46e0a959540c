import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  blockedHostnameReason,
  blockedRange,
  hostAllowed,
  isPublicAddress,
  matchesCidr,
  normalizeIp,
  parseCidr,
  parseIPv4,
} from '../../src/core/ip-ranges.js';

test('IPv4 in decimal, hex, octal and short forms all parse to the same address', () => {
  for (const text of ['127.0.0.1', '2130706433', '0x7f000001', '0x7f.1', '0177.0.0.1', '127.1', '127.0.1', '0x7F.0.0.0x1', '127.0.0.1.']) {
    assert.equal(normalizeIp(text), '127.0.0.1', text);
  }
  assert.equal(normalizeIp('0'), '0.0.0.0');
  assert.equal(normalizeIp('0x'), '0.0.0.0');
});

test('text that is not IPv4 is refused by the IPv4 parser', () => {
  for (const text of ['', 'example.com', '256.0.0.1', '1.2.3.4.5', '08.0.0.1', '4294967296', '1.2.3.256', '0x1g', '1..2', ' 1.2.3.4', '1e3']) {
    assert.equal(parseIPv4(text), null, text);
  }
  assert.equal(parseIPv4('4294967295'), 0xffffffff);
});

test('IPv6 text is normalised, with brackets, zones, :: and embedded IPv4 understood', () => {
  assert.equal(normalizeIp('[::1]'), '::1');
  assert.equal(normalizeIp('0:0:0:0:0:0:0:1'), '::1');
  assert.equal(normalizeIp('::ffff:127.0.0.1'), '::ffff:7f00:1');
  assert.equal(normalizeIp('FE80::1%eth0'), 'fe80::1');
  assert.equal(normalizeIp('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
  assert.equal(normalizeIp('2001:db8::0:1'), '2001:db8::1');
  assert.equal(normalizeIp('1:2:3:4:5:6:7:8'), '1:2:3:4:5:6:7:8');
  for (const bad of [':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', '::ffff:1.2.3', 'g::1', '1:2:3:4:5:6:7::8']) {
    assert.equal(normalizeIp(bad), null, bad);
  }
});

test('every special-purpose IPv4 range is not public and names its range', () => {
  const blocked: [string, string][] = [
    ['0.0.0.0', '0.0.0.0/8'], ['0.1.2.3', '0.0.0.0/8'], ['10.0.0.1', '10.0.0.0/8'], ['100.64.0.1', '100.64.0.0/10'],
    ['100.127.255.255', '100.64.0.0/10'], ['127.0.0.1', '127.0.0.0/8'], ['127.255.255.254', '127.0.0.0/8'],
    ['169.254.169.254', '169.254.0.0/16'], ['172.16.0.1', '172.16.0.0/12'], ['172.31.255.255', '172.16.0.0/12'],
    ['192.0.0.8', '192.0.0.0/24'], ['192.0.2.1', '192.0.2.0/24'], ['192.168.1.1', '192.168.0.0/16'],
    ['198.18.0.1', '198.18.0.0/15'], ['198.19.255.255', '198.18.0.0/15'], ['198.51.100.7', '198.51.100.0/24'],
    ['203.0.113.9', '203.0.113.0/24'], ['224.0.0.1', '224.0.0.0/4'], ['239.255.255.250', '224.0.0.0/4'],
    ['240.0.0.1', '240.0.0.0/4'], ['255.255.255.255', '255.255.255.255/32'],
  ];
  for (const [ip, range] of blocked) {
    assert.equal(isPublicAddress(ip), false, ip);
    assert.match(blockedRange(ip) ?? '', new RegExp(`^${range.replace(/\./g, '\\.')} `), ip);
  }
});

test('ordinary public IPv4 addresses, including neighbours of blocked ranges, are public', () => {
  for (const ip of ['93.184.216.34', '8.8.8.8', '1.1.1.1', '100.63.255.255', '100.128.0.0', '172.15.255.255', '172.32.0.0', '192.0.1.1', '192.169.0.1', '198.17.255.255', '198.20.0.0', '223.255.255.255', '11.0.0.0', '126.255.255.255', '128.0.0.0']) {
    assert.equal(isPublicAddress(ip), true, ip);
  }
});

test('non-public IPv6 ranges are blocked, and mapped or 6to4 addresses are judged by their IPv4', () => {
  for (const ip of ['::', '::1', 'fc00::1', 'fd00::1', 'fe80::1', 'febf::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '::ffff:169.254.169.254', '64:ff9b::808:808', '2001:db8::1', '100::1', '2001::1', '2002:7f00:1::', '::127.0.0.1', 'fec0::1', '4000::1']) {
    assert.equal(isPublicAddress(ip), false, ip);
  }
  assert.match(blockedRange('::ffff:127.0.0.1') ?? '', /IPv4-mapped 127\.0\.0\.1 in 127\.0\.0\.0\/8/);
  for (const ip of ['2606:4700:4700::1111', '2a00:1450:4001:80b::200e', '::ffff:93.184.216.34', '2002:5db8:d822::1']) {
    assert.equal(isPublicAddress(ip), true, ip);
  }
});

test('text that is not an address is never public', () => {
  assert.equal(isPublicAddress('localhost'), false);
  assert.equal(blockedRange('nope'), 'not an IP address');
});

test('CIDRs match their members, including IPv4-mapped IPv6 against IPv4 networks', () => {
  assert.ok(matchesCidr('127.0.0.1', '127.0.0.1/32'));
  assert.ok(matchesCidr('127.9.9.9', '127.0.0.0/8'));
  assert.ok(!matchesCidr('128.0.0.1', '127.0.0.0/8'));
  assert.ok(matchesCidr('::ffff:127.0.0.1', '127.0.0.1/32'));
  assert.ok(matchesCidr('fd12::1', 'fc00::/7'));
  assert.ok(!matchesCidr('fe80::1', 'fc00::/7'));
  assert.ok(matchesCidr('10.1.2.3', '0.0.0.0/0'));
  assert.ok(matchesCidr('::1', '::1'));
  assert.ok(!matchesCidr('127.0.0.1', '::1/128'));
  assert.equal(parseCidr('10.0.0.0/33'), null);
  assert.equal(parseCidr('10.0.0.0/x'), null);
});

test('the allow-list admits exact names, wildcard sub-domains and addresses in listed CIDRs', () => {
  const allowed = ['127.0.0.1/32', 'localhost', '*.internal.example', '::1'];
  assert.ok(hostAllowed('127.0.0.1', '127.0.0.1', allowed));
  assert.ok(hostAllowed('public.test', '127.0.0.1', allowed));
  assert.ok(hostAllowed('LOCALHOST.', '10.0.0.1', allowed));
  assert.ok(hostAllowed('api.internal.example', '10.0.0.1', allowed));
  assert.ok(!hostAllowed('internal.example', '10.0.0.1', allowed));
  assert.ok(hostAllowed('[::1]', null, allowed));
  assert.ok(!hostAllowed('127.0.0.2', '127.0.0.2', allowed));
  assert.ok(!hostAllowed('evil.test', '192.168.0.1', allowed));
  assert.ok(!hostAllowed('localhost.evil.test', '127.0.0.2', allowed));
});

test('local and metadata host names are refused before any lookup', () => {
  for (const name of ['localhost', 'LocalHost.', 'foo.localhost', 'metadata.google.internal', 'db.internal', 'printer.local']) {
    assert.notEqual(blockedHostnameReason(name), null, name);
  }
  assert.equal(blockedHostnameReason('example.com'), null);
});

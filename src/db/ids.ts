import { randomFillSync } from 'node:crypto';

// Random bytes are drawn 4 KiB at a time: one system call per ~400 ids instead of one per id.
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;
let lastMs = 0;
let seq = 0;

/**
 * A UUID v7 (RFC 9562): 48-bit Unix ms timestamp, then random bits, with a 12-bit counter in
 * `rand_a` so ids made in the same millisecond by this process still sort in creation order
 * (RFC 9562 §6.2, method 1). Time-ordered ids keep primary-key inserts at the right edge of the index.
 */
export function uuidv7(nowMs: number = Date.now()): string {
  if (nowMs <= lastMs) {
    seq += 1;
    if (seq > 0xfff) {
      // Counter exhausted within one ms: borrow the next millisecond rather than break ordering.
      lastMs += 1;
      seq = 0;
    }
  } else {
    lastMs = nowMs;
    seq = 0;
  }
  if (poolOffset + 8 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const random = pool.subarray(poolOffset, poolOffset + 8);
  poolOffset += 8;
  const ms = lastMs;
  const hex = ms.toString(16).padStart(12, '0');
  const randA = (0x7000 | seq).toString(16);
  const b8 = ((random[0]! & 0x3f) | 0x80).toString(16).padStart(2, '0');
  const rest = random.subarray(1, 8).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${randA}-${b8}${rest.slice(0, 2)}-${rest.slice(2, 14)}`;
}

/**
 * The smallest UUID v7 of millisecond `ms`: every id made at or after `ms` sorts at or above it,
 * every id made before sorts below. Turns a creation-time range into a primary-key range.
 */
export function uuidv7Floor(ms: number): string {
  const hex = Math.max(0, Math.min(ms, 2 ** 48 - 1)).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-000000000000`;
}

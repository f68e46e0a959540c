/**
 * Password hashing (docs/decisions.md #16): argon2id with the OWASP minimum parameters,
 * at most two hashes at a time so a login flood cannot take every core and ~19 MiB per hash.
 */
import { randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';

/** Argon2id cost parameters. */
export interface Argon2Params {
  /** Memory in KiB. */
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/** OWASP Password Storage Cheat Sheet: m = 19 MiB, t = 2, p = 1. */
export const PASSWORD_PARAMS: Readonly<Argon2Params> = Object.freeze({ memoryCost: 19_456, timeCost: 2, parallelism: 1 });

/** Most hashes or verifies running at once in this process (the target box has 2 cores). */
export const MAX_CONCURRENT_HASHES = 2;

let running = 0;
const waiting: Array<() => void> = [];
const stats = { hashes: 0, verifies: 0, maxConcurrent: 0 };

/** Run `fn` when a hashing slot is free. */
async function withSlot<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT_HASHES) await new Promise<void>((resolve) => waiting.push(resolve));
  else running += 1;
  // Whoever released the slot handed it over without decrementing, so `running` already counts us.
  stats.maxConcurrent = Math.max(stats.maxConcurrent, running);
  try {
    return await fn();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running -= 1;
  }
}

/** Counters for tests and metrics: hashes and verifies done, and the most that ran at once. */
export function hashingStats(): Readonly<{ hashes: number; verifies: number; maxConcurrent: number }> {
  return { ...stats };
}

/** Hash a password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`). */
export function hashPassword(password: string): Promise<string> {
  return withSlot(async () => {
    stats.hashes += 1;
    // algorithm defaults to Argon2id in @node-rs/argon2 (its const enum cannot be imported here).
    return hash(password, { ...PASSWORD_PARAMS, outputLen: 32 });
  });
}

/** Whether `password` matches `phc`. A malformed hash counts as a mismatch, never a throw. */
export function verifyPassword(phc: string, password: string): Promise<boolean> {
  return withSlot(async () => {
    stats.verifies += 1;
    try {
      return await verify(phc, password);
    } catch {
      return false;
    }
  });
}

/** The parameters in a PHC string, or null when it is not an argon2id hash. */
export function parsePhc(phc: string): Argon2Params | null {
  const match = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(phc);
  if (!match) return null;
  return { memoryCost: Number(match[1]), timeCost: Number(match[2]), parallelism: Number(match[3]) };
}

/** Whether a stored hash was made with other parameters (or another algorithm) and should be redone. */
export function needsRehash(phc: string): boolean {
  const params = parsePhc(phc);
  return (
    params === null ||
    params.memoryCost !== PASSWORD_PARAMS.memoryCost ||
    params.timeCost !== PASSWORD_PARAMS.timeCost ||
    params.parallelism !== PASSWORD_PARAMS.parallelism
  );
}

let dummy: Promise<string> | null = null;

/**
 * A hash of a random password with the current parameters. Logins for unknown users verify against
 * it, so they cost the same argon2 work as a wrong password and cannot be told apart by timing.
 */
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword(randomBytes(24).toString('base64url'));
  return dummy;
}

/**
 * Credential formats, pure (no database): access JWTs (RFC 8725), opaque refresh tokens and API keys
 * (docs/decisions.md #17), and the login-throttle delay (#18).
 */
import { createHash, createHmac, randomBytes, randomInt } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { ROLES, type Role } from '../../core/access.js';
import { AppError } from '../../errors/app-error.js';
import { uuidv7 } from '../../db/ids.js';

/** `iss` of every access token. */
export const JWT_ISSUER = 'jobplane';
/** `aud` of every access token. */
export const JWT_AUDIENCE = 'jobplane-api';
/** Explicit type (RFC 8725 §3.11) so no other JWT we might issue can pass as an access token. */
export const ACCESS_TOKEN_TYP = 'at+jwt';
/** Leeway for `exp`/`nbf`/`iat` against clock skew between processes. */
export const CLOCK_TOLERANCE_S = 30;
/**
 * How long an ended session stays on the revocation list: until its newest access token has
 * expired, whatever the clock skew between processes.
 */
export function revokedSessionHoldS(accessTtlS: number): number {
  return accessTtlS + CLOCK_TOLERANCE_S;
}

/** Longest credential we look at; anything longer is rejected before parsing. */
export const MAX_CREDENTIAL_LENGTH = 4096;

/** Prefix of refresh tokens; never valid as an access credential. */
export const REFRESH_TOKEN_PREFIX = 'jprt_';
/** Prefix of API keys. */
export const API_KEY_PREFIX = 'jp_';
/** Environment tag of API keys, after the prefix. */
export const API_KEY_ENV = 'live';

/** The claims Jobplane puts in an access token. */
export interface AccessClaims {
  /** User id. */
  sub: string;
  /** Tenant id. */
  tid: string;
  role: Role;
  /** Superadmin. */
  sa: boolean;
  /** The user's token_version when the token was issued. */
  tv: number;
  /** Session (refresh-token family) id; absent only in tokens issued before sessions were named. */
  sid?: string;
}

/** Sign an access token valid for `ttlS` seconds with HS256 and `secret` (≥ 32 bytes). */
export async function signAccessToken(secret: Uint8Array, claims: AccessClaims, ttlS: number, nowMs: number): Promise<string> {
  const nowS = Math.floor(nowMs / 1000);
  return new SignJWT({ tid: claims.tid, role: claims.role, sa: claims.sa, tv: claims.tv, ...(claims.sid === undefined ? {} : { sid: claims.sid }) })
    .setProtectedHeader({ alg: 'HS256', typ: ACCESS_TOKEN_TYP })
    .setIssuer(JWT_ISSUER)
    .setAudience(JWT_AUDIENCE)
    .setSubject(claims.sub)
    .setJti(uuidv7())
    .setIssuedAt(nowS)
    .setNotBefore(nowS)
    .setExpirationTime(nowS + ttlS)
    .sign(secret);
}

/**
 * Verify an access token: algorithm pinned to HS256 (so `alg: none` and RS/HS confusion fail),
 * `typ`, `iss`, `aud`, `exp`, `nbf` with {@link CLOCK_TOLERANCE_S}, and the claim types.
 * Any failure is TOKEN_INVALID; the user's current state is checked by the caller.
 */
export async function verifyAccessToken(secret: Uint8Array, token: string, nowMs?: number): Promise<AccessClaims> {
  try {
    const { payload } = await jwtVerify(token, secret, {
      ...(nowMs === undefined ? {} : { currentDate: new Date(nowMs) }),
      algorithms: ['HS256'],
      issuer: JWT_ISSUER,
      audience: JWT_AUDIENCE,
      typ: ACCESS_TOKEN_TYP,
      clockTolerance: CLOCK_TOLERANCE_S,
      requiredClaims: ['sub', 'exp', 'iat'],
    });
    const { sub, tid, role, sa, tv, sid } = payload;
    if (
      (sid !== undefined && typeof sid !== 'string') ||
      typeof sub !== 'string' ||
      typeof tid !== 'string' ||
      typeof role !== 'string' ||
      !(ROLES as readonly string[]).includes(role) ||
      typeof sa !== 'boolean' ||
      typeof tv !== 'number' ||
      !Number.isInteger(tv)
    ) {
      throw new AppError('TOKEN_INVALID', 'The access token has malformed claims');
    }
    return { sub, tid, role: role as Role, sa, tv, ...(typeof sid === 'string' ? { sid } : {}) };
  } catch (error) {
    if (error instanceof AppError) throw error;
    if (error instanceof joseErrors.JWTExpired) throw new AppError('TOKEN_INVALID', 'The access token has expired');
    // Every other jose failure (bad signature, wrong alg/typ/iss/aud, garbage) is the same answer.
    throw new AppError('TOKEN_INVALID', 'The access token is not valid', { cause: error });
  }
}

/** Whether `credential` has the shape of a compact JWS (three base64url parts). */
export function looksLikeJwt(credential: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(credential);
}

/** SHA-256 of a string's UTF-8 bytes. */
export function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** A new opaque refresh token: `jprt_` + 32 random bytes in base64url. */
export function newRefreshToken(): string {
  return REFRESH_TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `length` uniformly random base62 characters (randomInt rejects biased draws internally). */
export function randomBase62(length: number): string {
  let out = '';
  for (let i = 0; i < length; i += 1) out += BASE62[randomInt(62)]!;
  return out;
}

const API_KEY_PATTERN = /^jp_live_([A-Za-z0-9]{8})_([A-Za-z0-9]{32})$/;

/** A new API key, `jp_live_<8-char id>_<32 base62>` (~190 bits of secret), and its visible parts. */
export function newApiKey(): { key: string; prefix: string; last4: string } {
  const prefix = `${API_KEY_PREFIX}${API_KEY_ENV}_${randomBase62(8)}`;
  const key = `${prefix}_${randomBase62(32)}`;
  return { key, prefix, last4: key.slice(-4) };
}

/** Whether `key` has the API key format. */
export function isWellFormedApiKey(key: string): boolean {
  return API_KEY_PATTERN.test(key);
}

/** HMAC-SHA-256(pepper, key): what is stored and looked up, never the key itself. */
export function hashApiKey(pepper: Uint8Array, key: string): Buffer {
  return createHmac('sha256', pepper).update(key, 'utf8').digest();
}

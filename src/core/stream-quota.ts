/**
 * Counting of long-lived streams (SSE) in one process, by tenant and by caller, so that one
 * tenant's or one caller's streams cannot take every slot the process has. Pure bookkeeping:
 * the route admits before it starts a stream and releases when the stream ends.
 */

/** The caps; every one of them is at least 1. */
export interface StreamLimits {
  /** Streams the process serves at once. */
  total: number;
  /** Streams one tenant holds at once. */
  perTenant: number;
  /** Streams one caller (a user or an API key) holds at once. */
  perPrincipal: number;
}

/** Which cap refused a stream. */
export type StreamScope = 'principal' | 'tenant' | 'process';

/** An admission: `release` frees the slot (calling it again does nothing). */
export type StreamAdmission = { admitted: true; release: () => void } | { admitted: false; scope: StreamScope; limit: number };

/** The per-tenant cap when none is configured: half of the process's, at least 1. */
export function defaultTenantStreamLimit(total: number): number {
  return Math.max(1, Math.floor(total / 2));
}

/** Open streams by tenant and by caller, against {@link StreamLimits}. */
export class StreamQuota {
  private readonly byTenant = new Map<string, number>();
  private readonly byPrincipal = new Map<string, number>();
  private open = 0;

  constructor(private readonly limits: StreamLimits) {}

  /** Streams open now. */
  get size(): number {
    return this.open;
  }

  /**
   * Take a slot for a stream of `principal` (e.g. `user:<id>`) in `tenant`, or say which cap is
   * full. The caller's own caps are checked before the process's: a caller over its share is told
   * so (it can close one of its own streams), not that the process is busy.
   */
  admit(tenant: string, principal: string): StreamAdmission {
    if ((this.byPrincipal.get(principal) ?? 0) >= this.limits.perPrincipal) return { admitted: false, scope: 'principal', limit: this.limits.perPrincipal };
    if ((this.byTenant.get(tenant) ?? 0) >= this.limits.perTenant) return { admitted: false, scope: 'tenant', limit: this.limits.perTenant };
    if (this.open >= this.limits.total) return { admitted: false, scope: 'process', limit: this.limits.total };
    bump(this.byPrincipal, principal, 1);
    bump(this.byTenant, tenant, 1);
    this.open += 1;
    let released = false;
    return {
      admitted: true,
      release: () => {
        if (released) return;
        released = true;
        bump(this.byPrincipal, principal, -1);
        bump(this.byTenant, tenant, -1);
        this.open -= 1;
      },
    };
  }
}

/** Add `delta` to `key`'s count, dropping keys that reach zero (the maps stay as small as the open streams). */
function bump(counts: Map<string, number>, key: string, delta: number): void {
  const next = (counts.get(key) ?? 0) + delta;
  if (next > 0) counts.set(key, next);
  else counts.delete(key);
}

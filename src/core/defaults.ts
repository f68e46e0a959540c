/**
 * Default timings, each named and explained once. The worker, the remote-worker service, the
 * scheduler, the API and the settings table (`src/config/settings.ts`) all read them from here,
 * so changing a default means changing one line.
 */

/**
 * Lease a claim or a heartbeat grants an attempt. A worker that stops heartbeating (crashed,
 * frozen, cut off) loses its jobs this long after its last renewal; the rescuer then re-queues
 * them. Longer: fewer renewals, slower recovery from a crash.
 */
export const DEFAULT_LEASE_MS = 30_000;

/** A lease is renewed three times per lease length, so two renewals may fail before it is lost. */
export const HEARTBEATS_PER_LEASE = 3;

/** The shortest heartbeat interval, however short the lease. */
export const MIN_HEARTBEAT_MS = 100;

/** How often leases of `leaseMs` are renewed: a third of the lease, never below {@link MIN_HEARTBEAT_MS}. */
export function heartbeatMsFor(leaseMs: number): number {
  return Math.max(MIN_HEARTBEAT_MS, Math.floor(leaseMs / HEARTBEATS_PER_LEASE));
}

/** On a graceful stop, how long running handlers may take to finish before they are released (not burning their attempt). */
export const DEFAULT_SHUTDOWN_GRACE_MS = 30_000;

/**
 * After a cancel request, how long a running handler may take to stop: the in-process worker
 * reports the job cancelled after it, and the rescuer revokes the lease of a job still running
 * this long after the request.
 */
export const DEFAULT_CANCEL_GRACE_MS = 30_000;

/**
 * A worker whose last heartbeat is older than this is not live: not listed, not placed on, and
 * unknown to API processes it did not register with. Above the lease so that a worker that is
 * merely slow to renew is not dropped.
 */
export const DEFAULT_WORKER_STALE_MS = 45_000;

/** The maintenance leader's lease: a dead leader is replaced within this. Renewed every third of it. */
export const DEFAULT_LEADER_TTL_MS = 15_000;

/** The longest gap between two pings on a live event stream (SSE), so proxies keep it open. */
export const DEFAULT_SSE_HEARTBEAT_MS = 15_000;

/** The in-process worker's polling backstop when no notification arrives. */
export const DEFAULT_POLL_INTERVAL_MS = 2000;

/**
 * The revoked-session list every API process keeps in memory (docs/auth.md), so checking an
 * access token's session costs no query. Loaded when its LISTEN connection is (re)established and
 * updated by NOTIFY; while that connection is down or the list is loading, checks ask the database
 * instead — never a stale "not revoked".
 * Lifecycle: `start()`, `stop()`; `runOnce()` reloads (tests).
 */
import { silentLogger, type Clock, type Logger } from '../../core/deps.js';
import { systemClock } from '../clock.js';
import { NotificationListener } from '../../db/listener.js';
import type { Pool } from '../../db/pool.js';
import { isSessionRevoked, listRevokedSessions, SESSION_REVOKED_CHANNEL } from '../../db/queries/sessions.js';
import { revokedSessionHoldS } from './tokens.js';

/** Options for {@link RevokedSessions}. */
export interface RevokedSessionsOptions {
  pool: Pool;
  logger?: Logger;
  clock?: Clock;
  /** How long a revocation heard by NOTIFY is kept (`revokedSessionHoldS` of the access-token life, in ms). @defaultValue 930000 */
  holdMs?: number;
}

/** Sessions revoked before their access tokens expired. */
export class RevokedSessions {
  private readonly revoked = new Map<string, number>();
  /** The list is complete and NOTIFY is flowing: absent means not revoked. */
  private current = false;
  private connected = false;
  private readonly listener: NotificationListener;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly holdMs: number;
  private loading: Promise<void> | null = null;

  constructor(private readonly options: RevokedSessionsOptions) {
    this.logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? systemClock;
    this.holdMs = options.holdMs ?? revokedSessionHoldS(900) * 1000;
    this.listener = new NotificationListener({
      pool: options.pool,
      channels: [SESSION_REVOKED_CHANNEL],
      logger: this.logger,
      onNotification: (_channel, sessionId) => this.add(sessionId, this.clock.nowMs() + this.holdMs),
      // Revocations sent while disconnected were missed: read the list again.
      onConnected: () => {
        this.connected = true;
        void this.runOnce();
      },
      onDisconnected: () => {
        this.connected = false;
        this.current = false;
      },
    });
  }

  /** Listen and load. Resolves after the first attempt; a failure leaves checks on the database. */
  async start(): Promise<void> {
    await this.listener.start();
    await this.loading;
  }

  /** Stop listening. Idempotent. */
  async stop(): Promise<void> {
    this.current = false;
    this.connected = false;
    await this.listener.stop();
  }

  /** Reload the list from the database. */
  runOnce(): Promise<void> {
    this.loading = (async () => {
      try {
        const rows = await listRevokedSessions(this.options.pool);
        for (const row of rows) this.add(row.sessionId, row.expiresAt.getTime());
        // Complete only if no notification can have been missed since the load began.
        this.current = this.connected;
      } catch (error) {
        this.current = false;
        this.logger.warn({ err: (error as Error).message }, 'could not load revoked sessions; checking each token against the database');
      }
    })();
    return this.loading;
  }

  /** Note a revocation now (this process revoked it; the NOTIFY will say so again). */
  add(sessionId: string, untilMs: number): void {
    this.revoked.set(sessionId, Math.max(untilMs, this.revoked.get(sessionId) ?? 0));
    if (this.revoked.size % 1024 === 0) this.prune();
  }

  /** Whether the session was revoked; asks the database only when the list may be stale. */
  async isRevoked(sessionId: string): Promise<boolean> {
    const until = this.revoked.get(sessionId);
    if (until !== undefined && until > this.clock.nowMs()) return true;
    if (this.current) return false;
    return isSessionRevoked(this.options.pool, sessionId);
  }

  /** Whether checks are answered from memory (the list is loaded and NOTIFY is flowing). */
  get complete(): boolean {
    return this.current;
  }

  /** Sessions on the list now. */
  get size(): number {
    this.prune();
    return this.revoked.size;
  }

  private prune(): void {
    const now = this.clock.nowMs();
    for (const [id, until] of this.revoked) if (until <= now) this.revoked.delete(id);
  }
}

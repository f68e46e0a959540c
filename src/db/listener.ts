import type { Logger } from '../core/deps.js';
import { checkOut, type Pool, type PoolClient } from './pool.js';

/** Options for {@link NotificationListener}. */
export interface ListenerOptions {
  pool: Pool;
  channels: readonly string[];
  onNotification: (channel: string, payload: string) => void;
  /** Called after every (re)connection: notifications sent while disconnected are lost, so look again. */
  onConnected: () => void;
  /** Called when an established connection is lost (notifications stop until onConnected). */
  onDisconnected?: () => void;
  logger: Logger;
  /** First reconnect delay; it doubles up to 10 s. @defaultValue 250 */
  retryMs?: number;
}

/**
 * Holds one connection in LISTEN on a few channels and reconnects with backoff when it drops.
 * Notifications are hints only: every consumer also polls, so a gap costs latency, not jobs.
 */
export class NotificationListener {
  private client: PoolClient | null = null;
  private stopped = true;
  private retryMs: number;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly options: ListenerOptions) {
    this.retryMs = options.retryMs ?? 250;
  }

  /** Connect and listen; resolves after the first attempt (a failure schedules retries). */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    await this.connect();
  }

  /** Stop listening and release the connection. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const client = this.client;
    this.client = null;
    if (client) {
      client.removeAllListeners('notification');
      try {
        await client.query('UNLISTEN *');
        client.release();
      } catch {
        client.release(true);
      }
    }
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    let client: PoolClient | null = null;
    try {
      // The error handler is attached at checkout (see checkOut). A failure while the LISTENs are
      // being set up is remembered and fails this attempt; after that it drops the client.
      let lost: Error | null = null;
      const onFailure = (error?: Error): void => {
        lost ??= error ?? new Error('the LISTEN connection ended');
        if (client && this.client === client) this.drop(client, error);
      };
      client = await checkOut(this.options.pool, onFailure);
      client.on('end', () => onFailure());
      client.on('notification', (msg) => this.options.onNotification(msg.channel, msg.payload ?? ''));
      for (const channel of this.options.channels) await client.query(`LISTEN ${client.escapeIdentifier(channel)}`);
      if (this.stopped) {
        client.release();
        return;
      }
      // Assigned by the handlers above, which TypeScript's flow analysis does not see.
      const failure = lost as Error | null;
      if (failure) throw failure;
      this.client = client;
      this.retryMs = this.options.retryMs ?? 250;
      this.options.onConnected();
    } catch (error) {
      if (client) client.release(true);
      this.options.logger.warn({ err: (error as Error).message, retryMs: this.retryMs }, 'LISTEN connection failed; retrying');
      this.scheduleReconnect();
    }
  }

  private drop(client: PoolClient, error?: Error): void {
    if (this.client !== client) return;
    this.client = null;
    client.removeAllListeners('notification');
    client.release(true);
    this.options.onDisconnected?.();
    if (this.stopped) return;
    this.options.logger.warn({ err: error?.message }, 'LISTEN connection lost; reconnecting');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.connect();
    }, this.retryMs);
    this.timer.unref();
    this.retryMs = Math.min(this.retryMs * 2, 10_000);
  }
}

/**
 * Rewrapper: after the active secrets key changed (docs/secrets.md, rotation), re-encrypts the
 * rows still under older keys, one batch per pass, so the old key can be removed without a
 * moment where some process cannot read a secret. Run by the elected scheduler leader as one of
 * its maintenance steps; `start()` runs it standalone. Several rewrappers at once are safe: each
 * batch locks its rows with SKIP LOCKED.
 */
import { silentLogger, type Clock, type Logger } from '../core/deps.js';
import { DEFAULT_REWRAP_BATCH, type SecretService } from '../engine/secrets/index.js';
import { MaintenancePass } from './maintenance-pass.js';

/** Options for {@link SecretRewrapper}. */
export interface SecretRewrapperOptions {
  /** The process's secrets service (its keyring decides what the active key is). */
  secrets: Pick<SecretService, 'rewrap'>;
  logger?: Logger;
  clock?: Clock;
  /** Rows per pass. @defaultValue 100 */
  batch?: number;
  /**
   * After a pass that found nothing (more) to move, how long until the next look. A key change
   * needs a restart of the processes, so a minute's delay before rewrapping begins costs nothing.
   * @defaultValue 60000
   */
  idleIntervalMs?: number;
}

/** Re-encrypts secrets under non-active keys, a batch per pass. Lifecycle: `start()`, `stop()`, `runOnce()`. */
export class SecretRewrapper extends MaintenancePass {
  private readonly secrets: Pick<SecretService, 'rewrap'>;
  private readonly batch: number;
  private moreLikely = true;
  private total = 0;

  constructor(options: SecretRewrapperOptions) {
    super('secret-rewrap', options.logger ?? silentLogger, { intervalMs: options.idleIntervalMs ?? 60_000, ...(options.clock ? { clock: options.clock } : {}) });
    this.secrets = options.secrets;
    this.batch = options.batch ?? DEFAULT_REWRAP_BATCH;
  }

  /** Whether a pass is due: rows were left after the last one, or the idle interval has passed. */
  override due(): boolean {
    return this.moreLikely || super.due();
  }

  protected override moreWork(): boolean {
    return this.moreLikely;
  }

  /** Rewrap one batch; returns how many rows moved to the active key. */
  protected async pass(): Promise<number> {
    // Until the pass answers, assume nothing is left: a failing pass must not be retried every tick.
    this.moreLikely = false;
    const moved = await this.secrets.rewrap({ batch: this.batch });
    this.moreLikely = moved >= this.batch;
    if (moved > 0) {
      this.total += moved;
      this.logger.info({ moved, total: this.total, more: this.moreLikely }, 'rewrapped secrets onto the active key');
    } else if (this.total > 0) {
      this.logger.info({ total: this.total }, 'every readable secret is under the active key');
      this.total = 0;
    }
    return moved;
  }
}

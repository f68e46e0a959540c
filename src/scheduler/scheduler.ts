import { EventEmitter } from 'node:events';
import type { EventSink } from '../core/live-events.js';
import { EventPublisher } from '../engine/event-publisher.js';
import { silentLogger, type Clock, type Logger } from '../core/deps.js';
import { systemClock } from '../engine/clock.js';
import type { PlacementPolicy } from '../core/placement.js';
import { DEFAULT_CANCEL_GRACE_MS, DEFAULT_LEADER_TTL_MS, DEFAULT_WORKER_STALE_MS } from '../core/defaults.js';
import { uuidv7 } from '../db/ids.js';
import { NotificationListener } from '../db/listener.js';
import { createPool, type Pool } from '../db/pool.js';
import { PLACEMENT_CHANNEL } from '../db/queries/jobs.js';
import { acquireLeaderLease, releaseLeaderLease } from '../db/queries/leader.js';
import { SCHEDULES_CHANNEL } from '../db/queries/schedules.js';
import { CronEnqueuer } from './cron-enqueuer.js';
import { LeaseRescuer } from './lease-rescuer.js';
import { Placer } from './placer.js';
import { RetentionCleaner } from './retention-cleaner.js';
import { createSecretService, type SecretService } from '../engine/secrets/index.js';
import { SecretRewrapper } from './secret-rewrapper.js';
import { Sleeper } from './sleeper.js';

/** When the retention cleaner's first pass is due after the scheduler starts. */
const FIRST_CLEAN_AFTER_MS = 30_000;

const LEADER_LEASE = 'scheduler';

/** Options for {@link createScheduler}. */
export interface SchedulerOptions {
  databaseUrl?: string;
  pool?: Pool;
  /** Leader lease length; a dead leader is replaced after at most this. @defaultValue 15000 */
  leaderTtlMs?: number;
  /** Longest sleep between passes. @defaultValue 1000 */
  tickMs?: number;
  /** How often expired leases are rescued. @defaultValue 2000 */
  rescueIntervalMs?: number;
  /** How often retention is applied. @defaultValue 60000 */
  cleanIntervalMs?: number;
  /** Grace for a cancelled running job before its lease is revoked. @defaultValue 30000 */
  cancelGraceMs?: number;
  /** Keep completed jobs this long. @defaultValue 7 days */
  retentionCompletedMs?: number;
  /** Keep failed and cancelled jobs this long. @defaultValue 30 days */
  retentionFailedMs?: number;
  /** A worker whose heartbeat is older than this is not live (placement). @defaultValue 45000 */
  workerStaleMs?: number;
  /** Zone choice for `placement: { policy: 'greenest' }`. */
  placementPolicy?: PlacementPolicy;
  /**
   * A standby candidate (a worker process's) leads only while no full candidate (a scheduler
   * process) does, which takes the lease over from it. @defaultValue false
   */
  standby?: boolean;
  /** Where job changes made by the maintenance loops are announced (live events). */
  liveEvents?: EventSink;
  /** Secrets whose rows the leader rewraps onto the active key. @defaultValue the store on this pool, with `secretsKeys` */
  secrets?: SecretService;
  /** JOBPLANE_SECRETS_KEYS, used when `secrets` is not given. @defaultValue [] (nothing to rewrap) */
  secretsKeys?: readonly string[];
  /** JOBPLANE_SECRETS_ACTIVE_KEY, used when `secrets` is not given. @defaultValue the first key */
  secretsActiveKey?: string | null;
  logger?: Logger;
  clock?: Clock;
}

/** Events a scheduler emits. */
export interface SchedulerEvents {
  elected: [];
  demoted: [];
  pass: [{ leader: boolean; fired: number; rescued: number }];
  /** Jobs whose lease had expired went back to the queue (or failed); how long each lease had been expired. */
  rescued: [{ expiredForMs: readonly number[] }];
  failure: [{ during: string; error: unknown }];
}

/**
 * The maintenance role (docs/decisions.md #11): elects one leader through a lease row in PostgreSQL (a
 * random per-process id, renewal scoped to the owner, step down on any failure), and while leader
 * runs the cron enqueuer, the placer, the lease rescuer, the retention cleaner and the secret rewrapper.
 */
export class Scheduler {
  /** This process's candidate id. */
  readonly id: string = uuidv7();
  readonly events = new EventEmitter<SchedulerEvents>();
  private readonly pool: Pool;
  private readonly ownsPool: boolean;
  private readonly ownPublisher: EventPublisher | null;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly opts: Required<Omit<SchedulerOptions, 'databaseUrl' | 'pool' | 'placementPolicy' | 'logger' | 'clock' | 'liveEvents' | 'secrets' | 'secretsKeys' | 'secretsActiveKey' | 'standby'>>;
  private readonly standby: boolean;
  private readonly enqueuer: CronEnqueuer;
  private readonly rescuer: LeaseRescuer;
  private readonly cleaner: RetentionCleaner;
  private readonly placer: Placer;
  private readonly rewrapper: SecretRewrapper;
  private readonly listener: NotificationListener;
  private leaderUntil = 0;
  private lastRenew = -Infinity;
  private running = false;
  private stopped = false;
  private loop: Promise<void> | null = null;
  private readonly sleeper = new Sleeper(false);
  private pokeTimer: NodeJS.Timeout | null = null;

  constructor(options: SchedulerOptions) {
    if (!options.pool && !options.databaseUrl) throw new Error('createScheduler needs `databaseUrl` or `pool`');
    this.logger = (options.logger ?? silentLogger).child({ schedulerId: this.id });
    this.ownsPool = !options.pool;
    this.pool = options.pool ?? createPool({ connectionString: options.databaseUrl!, max: 4, applicationName: 'jobplane-scheduler', logger: this.logger });
    this.clock = options.clock ?? systemClock;
    this.standby = options.standby ?? false;
    this.opts = {
      leaderTtlMs: options.leaderTtlMs ?? DEFAULT_LEADER_TTL_MS,
      tickMs: options.tickMs ?? 1000,
      rescueIntervalMs: options.rescueIntervalMs ?? 2000,
      cleanIntervalMs: options.cleanIntervalMs ?? 60_000,
      cancelGraceMs: options.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS,
      retentionCompletedMs: options.retentionCompletedMs ?? 7 * 86_400_000,
      retentionFailedMs: options.retentionFailedMs ?? 30 * 86_400_000,
      workerStaleMs: options.workerStaleMs ?? DEFAULT_WORKER_STALE_MS,
    };
    this.ownPublisher = options.liveEvents ? null : new EventPublisher(this.pool, { logger: this.logger });
    const liveEvents = options.liveEvents ?? this.ownPublisher!;
    this.enqueuer = new CronEnqueuer(this.pool, this.logger, liveEvents, this.clock);
    this.rescuer = new LeaseRescuer(this.pool, this.logger, {
      cancelGraceMs: this.opts.cancelGraceMs,
      intervalMs: this.opts.rescueIntervalMs,
      events: liveEvents,
      onRescued: (expiredForMs) => this.events.emit('rescued', { expiredForMs }),
      clock: this.clock,
    });
    this.cleaner = new RetentionCleaner(this.pool, this.logger, {
      completedMs: this.opts.retentionCompletedMs,
      failedMs: this.opts.retentionFailedMs,
      intervalMs: this.opts.cleanIntervalMs,
      // Retention can wait: a process's first seconds go to jobs (bench/README.md, issue 12).
      firstAfterMs: Math.min(this.opts.cleanIntervalMs, FIRST_CLEAN_AFTER_MS),
      clock: this.clock,
    });
    this.placer = new Placer(this.pool, this.logger, {
      workerStaleMs: this.opts.workerStaleMs,
      events: liveEvents,
      clock: this.clock,
      ...(options.placementPolicy ? { policy: options.placementPolicy } : {}),
    });
    const secrets = options.secrets ?? createSecretService({ pool: this.pool, keys: options.secretsKeys ?? [], activeKey: options.secretsActiveKey ?? null, logger: this.logger });
    this.rewrapper = new SecretRewrapper({ secrets, logger: this.logger, clock: this.clock });
    this.listener = new NotificationListener({
      pool: this.pool,
      // Schedules changed, or jobs wait for placement; ordinary submits do not wake the scheduler.
      channels: [SCHEDULES_CHANNEL, PLACEMENT_CHANNEL],
      logger: this.logger,
      onNotification: () => this.poke(),
      onConnected: () => this.poke(),
    });
  }

  /** Whether this process holds the leader lease (as of its last successful renewal). */
  get isLeader(): boolean {
    return this.clock.nowMs() < this.leaderUntil;
  }

  /** Start electing and, while leader, maintaining. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.listener.start();
    this.loop = this.run();
  }

  /** Stop and hand the lease back so another scheduler takes over at once. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.running = false;
    this.poke();
    await this.loop;
    await this.listener.stop();
    // Also after runOnce() without start(): whoever held the lease hands it back.
    if (this.leaderUntil > 0) {
      await releaseLeaderLease(this.pool, LEADER_LEASE, this.id).catch(() => undefined);
      this.stepDown();
    }
    await this.ownPublisher?.close();
    if (this.ownsPool) await this.pool.end();
  }

  /** One pass: renew or take the lease, and if leader run every maintenance service once. */
  async runOnce(force = true): Promise<{ leader: boolean; fired: number; rescued: number }> {
    const leader = await this.elect(force);
    let fired = 0;
    let rescued = 0;
    if (leader) {
      fired = await this.guard('cron', () => this.enqueuer.runOnce());
      await this.guard('placer', () => this.placer.runOnce());
      if (force || this.rescuer.due()) rescued = await this.guard('rescuer', () => this.rescuer.runOnce());
      if (force || this.cleaner.due()) await this.guard('cleaner', () => this.cleaner.runOnce());
      if (force || this.rewrapper.due()) await this.guard('secret-rewrap', () => this.rewrapper.runOnce());
    }
    this.events.emit('pass', { leader, fired, rescued });
    return { leader, fired, rescued };
  }

  private async run(): Promise<void> {
    while (this.running) {
      await this.runOnce(false);
      if (!this.running) break;
      await this.sleeper.sleep(await this.sleepMs());
    }
  }

  private async elect(force: boolean): Promise<boolean> {
    const now = this.clock.nowMs();
    if (!force && this.isLeader && now - this.lastRenew < this.opts.leaderTtlMs / 3) return true;
    try {
      const held = await acquireLeaderLease(this.pool, LEADER_LEASE, this.id, this.opts.leaderTtlMs, this.standby);
      this.lastRenew = now;
      if (held) {
        // Count the lease from before the round trip, so we step down no later than the database would.
        const wasLeader = this.isLeader;
        this.leaderUntil = now + this.opts.leaderTtlMs;
        if (!wasLeader) {
          this.logger.info({ standby: this.standby }, 'elected maintenance leader');
          this.events.emit('elected');
        }
        return true;
      }
    } catch (error) {
      this.report('election', error);
    }
    this.stepDown();
    return false;
  }

  private stepDown(): void {
    if (this.leaderUntil === 0) return;
    const was = this.isLeader;
    this.leaderUntil = 0;
    if (was) {
      this.logger.info({ standby: this.standby }, 'stepped down as maintenance leader');
      this.events.emit('demoted');
    }
  }

  private async guard(during: string, fn: () => Promise<number>): Promise<number> {
    try {
      return await fn();
    } catch (error) {
      this.report(during, error);
      return 0;
    }
  }

  private async sleepMs(): Promise<number> {
    if (!this.isLeader) return Math.min(this.opts.tickMs, this.opts.leaderTtlMs / 3);
    try {
      return Math.min(this.opts.tickMs, await this.enqueuer.msUntilWork());
    } catch (error) {
      this.report('sleep', error);
      return this.opts.tickMs;
    }
  }

  /** Run a pass soon (a schedule changed or jobs arrived). Passes are at most one per 50 ms. */
  private poke(): void {
    // Mid-pass, the next sleep returns at once.
    if (!this.sleeper.sleeping) return this.sleeper.wake();
    if (this.pokeTimer) return;
    this.pokeTimer = setTimeout(() => {
      this.pokeTimer = null;
      this.sleeper.wake();
    }, 50);
    this.pokeTimer.unref();
  }

  private report(during: string, error: unknown): void {
    this.events.emit('failure', { during, error });
    this.logger.warn({ during, err: (error as Error).message }, 'scheduler step failed');
  }
}

/** Create a scheduler (call `start()` to run it). */
export function createScheduler(options: SchedulerOptions): Scheduler {
  return new Scheduler(options);
}

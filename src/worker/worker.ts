import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { silentLogger, type Clock, type Logger } from '../core/deps.js';
import { systemClock } from '../engine/clock.js';
import { DEFAULT_CANCEL_GRACE_MS, DEFAULT_LEASE_MS, DEFAULT_POLL_INTERVAL_MS, DEFAULT_SHUTDOWN_GRACE_MS, heartbeatMsFor } from '../core/defaults.js';
import type { EventSink } from '../core/live-events.js';
import { uuidv7 } from '../db/ids.js';
import { NotificationListener } from '../db/listener.js';
import { createPool, type Pool } from '../db/pool.js';
import { CANCEL_CHANNEL, JOBS_CHANNEL, type ClaimFilter } from '../db/queries/jobs.js';
import { markWorkerStopped, registerWorker } from '../db/queries/workers.js';
import { LeaseKeeper } from '../engine/attempts/index.js';
import { JobClaimer } from '../engine/claimer.js';
import { EventPublisher } from '../engine/event-publisher.js';
import { createSecretService } from '../engine/secrets/index.js';
import { joinMaintenance, type Membership } from '../scheduler/membership.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import { AttemptRunner } from './attempt-runner.js';
import { ClaimLoop, type WorkerState } from './claim-loop.js';
import type { WorkerEvents, WorkerOptions } from './worker-options.js';

export type { WorkerEvents, WorkerOptions } from './worker-options.js';

/**
 * An in-process worker: claims jobs with one statement, runs their handlers with a concurrency
 * limit, renews leases by heartbeat, and reports outcomes in batches fenced by lease tokens.
 * Lifecycle: `start()`, `stop()` (graceful, idempotent), `runOnce()` for tests.
 */
export class Worker {
  /** Unique per worker instance (a random UUID v7). */
  readonly id: string = uuidv7();
  /** Typed events. */
  readonly events = new EventEmitter<WorkerEvents>();

  private readonly pool: Pool;
  private readonly ownsPool: boolean;
  private readonly filter: ClaimFilter;
  private readonly opts: Required<Pick<WorkerOptions,
    'concurrency' | 'prefetch' | 'leaseMs' | 'heartbeatMs' | 'pollIntervalMs' | 'shutdownGraceMs' | 'cancelGraceMs' |
    'outputFlushMs' | 'maxResultBytes'>>;
  private readonly name: string;
  private readonly labels: Record<string, string> | null;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly listener: NotificationListener;
  private readonly liveEvents: EventSink;
  private readonly ownPublisher: EventPublisher | null;
  private readonly runner: AttemptRunner;
  private readonly claims: ClaimLoop;
  private readonly leases: LeaseKeeper;

  private state: WorkerState = 'new';
  private readonly loops: NodeJS.Timeout[] = [];
  private readonly maintenanceOn: boolean;
  private readonly secretsKeys: readonly string[] | undefined;
  private readonly secretsActiveKey: string | null | undefined;
  private membership: Membership | null = null;

  constructor(options: WorkerOptions) {
    if (!options.pool && !options.databaseUrl) throw new Error('createWorker needs `databaseUrl` or `pool`');
    const taskNames = Object.keys(options.tasks);
    if (taskNames.length === 0) throw new Error('createWorker needs at least one task handler');
    this.ownsPool = !options.pool;
    this.logger = (options.logger ?? silentLogger).child({ workerId: this.id });
    this.pool = options.pool ?? createPool({ connectionString: options.databaseUrl!, max: 6, applicationName: 'jobplane-worker', logger: this.logger });
    this.clock = options.clock ?? systemClock;
    this.maintenanceOn = options.maintenance ?? true;
    this.secretsKeys = options.secretsKeys;
    this.secretsActiveKey = options.secretsActiveKey;
    const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.opts = {
      concurrency: options.concurrency ?? 10,
      prefetch: options.prefetch ?? 'auto',
      leaseMs,
      heartbeatMs: options.heartbeatMs ?? heartbeatMsFor(leaseMs),
      pollIntervalMs: options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
      shutdownGraceMs: options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS,
      cancelGraceMs: options.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS,
      outputFlushMs: options.outputFlushMs ?? 250,
      maxResultBytes: options.maxResultBytes ?? 1_048_576,
    };
    if (!Number.isInteger(this.opts.concurrency) || this.opts.concurrency < 1) throw new Error('concurrency must be a positive integer');
    const prefetch = this.opts.prefetch;
    if (prefetch !== 'auto' && (!Number.isInteger(prefetch) || prefetch < 0)) throw new Error("prefetch must be 'auto' or a whole number");
    this.name = options.name ?? `${hostname()}:${process.pid}`;
    this.labels = options.labels ?? null;
    this.filter = {
      workerId: this.id,
      tasks: taskNames,
      queues: options.queues && options.queues.length > 0 && !options.queues.includes('*') ? [...options.queues] : null,
      tenantId: options.tenantId ?? null,
      zone: options.zone ?? null,
    };
    // Without a shared publisher the worker announces its changes itself, so a dashboard sees
    // jobs run by workers embedded in other programs too.
    this.ownPublisher = options.liveEvents ? null : new EventPublisher(this.pool, { logger: this.logger });
    this.liveEvents = options.liveEvents ?? this.ownPublisher!;
    this.leases = new LeaseKeeper(this.pool, this.opts.leaseMs);
    const reportFailure = (during: string, error: unknown): void => this.reportFailure(during, error);
    this.runner = new AttemptRunner({
      workerId: this.id,
      pool: this.pool,
      tasks: options.tasks,
      logger: this.logger,
      clock: this.clock,
      random: options.random ?? Math.random,
      // Cheap to build (no I/O until a job references a secret), and bad keys fail here, not mid-job.
      secrets: options.secrets ?? createSecretService({ pool: this.pool, keys: options.secretsKeys ?? [], activeKey: options.secretsActiveKey ?? null, logger: this.logger }),
      liveEvents: this.liveEvents,
      events: this.events,
      settings: this.opts,
      stopping: () => this.state === 'stopping',
      onSlotFreed: (handlerMs) => this.claims.onSlotFreed(handlerMs),
      onRetryDue: (atMs) => this.claims.wakeAt(atMs),
      reportFailure,
    });
    this.claims = new ClaimLoop({
      claimer: new JobClaimer(this.pool, this.opts.leaseMs, this.clock, this.liveEvents),
      filter: this.filter,
      clock: this.clock,
      runner: this.runner,
      events: this.events,
      settings: this.opts,
      state: () => this.state,
      reportFailure,
    });
    this.listener = new NotificationListener({
      pool: this.pool,
      channels: [JOBS_CHANNEL, CANCEL_CHANNEL],
      logger: this.logger,
      onNotification: (channel, payload) => this.onNotification(channel, payload),
      onConnected: () => this.claims.request(),
    });
  }

  /** Jobs running now, buffered, and waiting to be reported. */
  get load(): { running: number; buffered: number; reporting: number } {
    return { running: this.runner.running, buffered: this.claims.buffered.length, reporting: this.runner.reporting };
  }

  /** This process's maintenance candidate when the worker takes part in the election (started). */
  get maintenance(): Scheduler | null {
    return this.membership?.scheduler ?? null;
  }

  /** Register, listen, and start claiming. */
  async start(): Promise<void> {
    if (this.state !== 'new') return;
    this.state = 'running';
    await registerWorker(this.pool, {
      id: this.id,
      tenantId: this.filter.tenantId,
      name: this.name,
      kind: 'in-process',
      zone: this.filter.zone,
      tasks: this.filter.tasks,
      queues: this.filter.queues,
      labels: this.labels,
      concurrency: this.opts.concurrency,
      hostname: hostname(),
      pid: process.pid,
      version: null,
    });
    await this.listener.start();
    if (this.maintenanceOn) {
      this.membership = await joinMaintenance({
        pool: this.pool,
        logger: this.logger,
        liveEvents: this.liveEvents,
        ...(this.secretsKeys ? { secretsKeys: this.secretsKeys } : {}),
        ...(this.secretsActiveKey !== undefined ? { secretsActiveKey: this.secretsActiveKey } : {}),
      });
    }
    this.loops.push(setInterval(() => this.claims.request(), this.opts.pollIntervalMs));
    this.loops.push(setInterval(() => void this.heartbeat(), this.opts.heartbeatMs));
    this.loops.push(setInterval(() => void this.runner.flushOutput(), this.opts.outputFlushMs));
    this.logger.info({ tasks: this.filter.tasks, queues: this.filter.queues ?? '*', concurrency: this.opts.concurrency }, 'worker started');
    this.claims.request();
  }

  /**
   * Graceful stop: claim nothing more, put buffered jobs back, let running handlers finish within
   * the grace period, then abort and release the rest without burning their attempt. Idempotent.
   */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return this.waitStopped();
    const wasRunning = this.state === 'running';
    this.state = 'stopping';
    // Put the buffer back before the first await: a handler settling meanwhile must not start them.
    const claimsDone = this.claims.stop();
    for (const loop of this.loops) clearInterval(loop);
    await this.listener.stop();
    // A claim already sent may still bring jobs back; they are released before the pool closes,
    // rather than left running until their lease expires.
    await claimsDone;
    const heartbeat = setInterval(() => void this.heartbeat(), this.opts.heartbeatMs);
    try {
      await this.runner.waitIdle(this.opts.shutdownGraceMs);
      this.runner.abortAll('shutdown');
      await this.runner.flushReports();
    } finally {
      clearInterval(heartbeat);
    }
    await this.runner.flushOutput();
    if (wasRunning) await markWorkerStopped(this.pool, this.id).catch(() => undefined);
    await this.membership?.leave();
    await this.ownPublisher?.close();
    if (this.ownsPool) await this.pool.end();
    this.state = 'stopped';
    this.events.emit('stopped');
    this.logger.info({}, 'worker stopped');
  }

  /**
   * Claim one batch (up to `concurrency`), run it to completion and record the outcomes; returns
   * how many jobs ran. For tests and one-shot scripts; do not mix with `start()`.
   */
  async runOnce(): Promise<number> {
    const jobs = await this.claims.claim(this.opts.concurrency);
    for (const job of jobs) this.runner.start(job);
    await this.runner.waitIdle(Infinity);
    await this.runner.flushReports();
    await this.runner.flushOutput();
    return jobs.length;
  }

  private waitStopped(): Promise<void> {
    if (this.state === 'stopped') return Promise.resolve();
    return new Promise((resolve) => this.events.once('stopped', resolve));
  }

  private onNotification(channel: string, payload: string): void {
    if (channel === CANCEL_CHANNEL) {
      if (!this.runner.cancel(payload)) this.claims.cancelBuffered(payload);
      return;
    }
    if (payload === '') return this.claims.request();
    const at = Number(payload);
    if (Number.isFinite(at)) this.claims.wakeAt(at);
  }

  /** Renew the leases of every job this worker holds (running, buffered, waiting to be reported); act on lost and cancelled ones. */
  private async heartbeat(): Promise<void> {
    try {
      const answer = await this.leases.renew(this.id, [...this.runner.heldJobs(), ...this.claims.buffered], this.runner.running);
      this.runner.onLeaseAnswer(answer);
      this.claims.onLeaseAnswer(answer);
    } catch (error) {
      this.reportFailure('heartbeat', error);
    }
  }

  private reportFailure(during: string, error: unknown): void {
    this.events.emit('failure', { during, error });
    this.logger.warn({ during, err: (error as Error).message }, 'worker database call failed');
  }
}

/** Create a worker (call `start()` to run it). */
export function createWorker(options: WorkerOptions): Worker {
  return new Worker(options);
}

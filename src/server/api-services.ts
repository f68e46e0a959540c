/**
 * The long-lived services behind the HTTP API, built and started by the process (not by
 * `buildApp`, which opens nothing): the event hub (one LISTEN connection feeding every event
 * stream of this process) and the remote-worker service (long-polled claims, leases).
 */
import type { Logger } from '../core/deps.js';
import { DEFAULT_WORKER_STALE_MS } from '../core/defaults.js';
import type { EventSink } from '../core/live-events.js';
import type { Pool } from '../db/pool.js';
import { EventHub } from '../engine/event-hub.js';
import { RemoteWorkerService } from '../engine/remote-workers.js';

/** What {@link startApiServices} needs. */
export interface ApiServiceOptions {
  pool: Pool;
  logger: Logger;
  /** Where remote workers' claims and outcomes are announced (the process's `EventPublisher`). */
  liveEvents: EventSink;
  /** A remote worker not heard from for this long must register again. @defaultValue 45000 */
  workerStaleMs?: number;
}

/** The services `buildApp` takes (`eventHub`, `remoteWorkers`), and how to stop them. */
export interface ApiServices {
  eventHub: EventHub;
  remoteWorkers: RemoteWorkerService;
  /** Stop both (after the app closed, or when it could not start). Idempotent. */
  stop(): Promise<void>;
}

/** Build the API's services and start the event hub's LISTEN connection. */
export async function startApiServices(options: ApiServiceOptions): Promise<ApiServices> {
  const remoteWorkers = new RemoteWorkerService({
    pool: options.pool,
    logger: options.logger,
    liveEvents: options.liveEvents,
    workerStaleMs: options.workerStaleMs ?? DEFAULT_WORKER_STALE_MS,
  });
  const eventHub = new EventHub({ pool: options.pool, logger: options.logger });
  await eventHub.start();
  let stopping: Promise<void> | null = null;
  return {
    eventHub,
    remoteWorkers,
    stop: () => {
      stopping ??= (async () => {
        await remoteWorkers.close();
        await eventHub.stop();
      })();
      return stopping;
    },
  };
}

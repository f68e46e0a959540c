/**
 * Child-process entry for benchmark workers, run by `workers.ts` as `node --import tsx worker-process.ts <json>`.
 *
 * 1. imports the system's worker module and sends `ready`;
 * 2. on `go`, calls `entry.start()` and sends `started` once it resolved;
 * 3. for every job, records `startedAt - payload.t` (when the payload has `t`), with times as
 *    `performance.timeOrigin + performance.now()` ms, and sends counts + samples in `progress`
 *    batches every `flushIntervalMs` (0 = one message per job);
 * 4. on `stop`, flushes, stops the worker, sends `stopped` and exits.
 *
 * It exits on its own when the parent goes away (IPC disconnect).
 */
import { pathToFileURL } from 'node:url';
import { isAbsolute } from 'node:path';
import { nowMs, parseWorkerModule } from './driver.js';
import type { BenchWorkerEntry } from './driver.js';
import type { ChildMessage, ParentMessage, WorkerProcessConfig } from './workers.js';

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerProcessConfig;

function send(msg: ChildMessage): void {
  if (process.connected) process.send?.(msg);
}

let total = 0;
let pendingCount = 0;
let pendingLat: number[] = [];
let firstAt: number | null = null;
let lastAt = 0;
let flushTimer: NodeJS.Timeout | null = null;

function flush(): void {
  if (pendingCount === 0) return;
  const msg: ChildMessage = { type: 'progress', count: pendingCount, lat: pendingLat, lastAt, firstAt };
  pendingCount = 0;
  pendingLat = [];
  send(msg);
}

function onJob(payload: { t?: number }): void {
  const at = nowMs();
  total++;
  pendingCount++;
  lastAt = at;
  firstAt ??= at;
  const t = payload?.t;
  if (typeof t === 'number') pendingLat.push(at - t);
  if (config.flushIntervalMs <= 0) flush();
}

async function main(): Promise<void> {
  const { module, exportName } = parseWorkerModule(config.workerModule);
  const specifier = isAbsolute(module) ? pathToFileURL(module).href : module;
  const mod = (await import(specifier)) as Record<string, unknown>;
  const entry = mod[exportName] as BenchWorkerEntry | undefined;
  if (!entry || typeof entry.start !== 'function') {
    throw new Error(`${config.workerModule}: export '${exportName}' is not a BenchWorkerEntry`);
  }

  let handle: { stop(): Promise<void> } | null = null;
  let stopping = false;

  process.on('message', (raw: ParentMessage) => {
    if (raw.type === 'go') {
      void (async () => {
        try {
          if (config.flushIntervalMs > 0) flushTimer = setInterval(flush, config.flushIntervalMs);
          handle = await entry.start({ databaseUrl: config.databaseUrl, concurrency: config.concurrency, onJob });
          send({ type: 'started', at: nowMs() });
        } catch (err) {
          send({ type: 'error', message: `start failed: ${errorMessage(err)}` });
        }
      })();
    } else if (raw.type === 'stop') {
      if (stopping) return;
      stopping = true;
      void (async () => {
        flush();
        try {
          await Promise.race([
            handle?.stop(),
            new Promise((_, reject) => setTimeout(() => reject(new Error('stop() timed out')), raw.timeoutMs).unref()),
          ]);
        } catch (err) {
          send({ type: 'error', message: `stop failed: ${errorMessage(err)}` });
        }
        if (flushTimer) clearInterval(flushTimer);
        flush();
        process.send?.({ type: 'stopped', total } satisfies ChildMessage, () => process.exit(0));
        setTimeout(() => process.exit(0), 1000).unref();
      })();
    }
  });
  process.on('disconnect', () => process.exit(1));
  send({ type: 'ready', pid: process.pid });
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

process.on('uncaughtException', (err) => {
  send({ type: 'error', message: `uncaught: ${errorMessage(err)}` });
});
process.on('unhandledRejection', (err) => {
  send({ type: 'error', message: `unhandled rejection: ${errorMessage(err)}` });
});

main().catch((err: unknown) => {
  send({ type: 'error', message: errorMessage(err) });
  setTimeout(() => process.exit(1), 100);
});

/**
 * Registry of benchmarked systems. Ratios are computed against 'jobplane'.
 */
import type { BenchSystem } from '../lib/driver.js';
import { graphileWorker, graphileWorkerVariant } from './graphile-worker.js';
import { jobplane } from './jobplane.js';
import { pgBoss, pgBossVariant } from './pg-boss.js';

export const systems: Record<string, BenchSystem> = {
  jobplane,
  'graphile-worker': graphileWorker,
  'pg-boss': pgBoss,
};

/**
 * Systems selectable by name but not run by default: configuration variants such as
 * `pg-boss@10x50` (work() loops x batchSize) or `graphile-worker@delay250` (batched completion).
 */
export function resolveVariant(name: string): BenchSystem | undefined {
  return pgBossVariant(name) ?? graphileWorkerVariant(name);
}

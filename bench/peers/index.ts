/**
 * Registry of benchmarked systems. Ratios are computed against 'jobplane'.
 */
import type { BenchSystem } from '../lib/driver.js';
import { graphileWorker, graphileWorkerVariant } from './graphile-worker.js';
import { jobplane, jobplaneVariant } from './jobplane.js';
import { pgBoss, pgBossVariant } from './pg-boss.js';

export const systems: Record<string, BenchSystem> = {
  jobplane,
  'graphile-worker': graphileWorker,
  'pg-boss': pgBoss,
};

/**
 * Systems selectable by name but not run by default: configuration variants such as
 * `pg-boss@10x50` (polling workers x batchSize), `graphile-worker@delay250` (batched completion)
 * or `jobplane@prefetch100` (jobs claimed ahead). Undefined for a name no variant matches.
 */
export function resolveVariant(name: string): BenchSystem | undefined {
  return pgBossVariant(name) ?? graphileWorkerVariant(name) ?? jobplaneVariant(name);
}

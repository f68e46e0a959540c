/**
 * One attempt from claim to outcome, shared by the in-process worker (`src/worker/`) and the
 * remote-worker service (`src/engine/remote-workers.ts`): claims go through `../claimer.ts`, the
 * lease keeper renews leases while the attempt runs, the outcome is decided in
 * `src/core/attempt-outcome.ts` and the report batcher records it, fenced by the lease token.
 */
export { LeaseKeeper, type LeaseAnswer } from './lease-keeper.js';
export { ReportBatcher, reportOf, type PendingReport, type ReportBatcherOptions } from './report-batcher.js';

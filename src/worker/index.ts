/**
 * `jobplane/worker`: run task handlers in this process, straight against PostgreSQL.
 * @packageDocumentation
 */
export { createWorker, Worker, type WorkerOptions, type WorkerEvents } from './worker.js';
export type { JobContext, JobInfo, TaskHandler, TaskList, AbortReason } from './types.js';
export { PermanentError, RetryAfterError, CancelError } from '../errors/task-errors.js';
export type { SecretResolver } from '../engine/secrets/index.js';

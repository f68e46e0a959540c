/**
 * `jobplane/server`: run Jobplane's roles inside your own process.
 * @packageDocumentation
 */
export { startJobplane, type RunningJobplane } from './start.js';
export { loadConfig, type Config, type Role } from '../config/index.js';
export { parseDuration } from '../core/duration.js';
export { createScheduler, Scheduler, type SchedulerOptions, type SchedulerEvents } from '../scheduler/scheduler.js';
export { migrate, pendingMigrations } from '../db/migrator.js';
export { startEmbeddedPostgres, type EmbeddedPostgres } from '../db/embedded.js';

/**
 * What the HTTP layer asks about the database itself (it reaches the database only through the
 * engine): whether migrations are pending (readiness), and what kind of fault an error is (a lost
 * or read-only database is a 503, not a 500).
 */
import { pendingMigrations as listPendingMigrations } from '../db/migrator.js';
import type { Pool } from '../db/pool.js';

export { databaseFault } from '../db/pool.js';

/** Migrations this build has that the database has not applied yet, by name. */
export function pendingMigrations(pool: Pool): Promise<string[]> {
  return listPendingMigrations(pool);
}

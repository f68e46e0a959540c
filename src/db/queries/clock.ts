import type { Queryable } from '../pool.js';

/** The database clock (what leases, due times and fire times are compared against). */
export async function databaseNow(db: Queryable): Promise<Date> {
  const { rows } = await db.query<{ now: Date }>('SELECT now() AS now');
  return rows[0]!.now;
}

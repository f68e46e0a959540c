import type { Queryable } from '../pool.js';

/** What a worker says about itself when it starts. */
export interface WorkerRegistration {
  id: string;
  tenantId: string | null;
  name: string;
  kind: 'in-process' | 'remote';
  zone: string | null;
  tasks: readonly string[];
  queues: readonly string[] | null;
  labels: Record<string, string> | null;
  concurrency: number;
  hostname: string | null;
  pid: number | null;
  version: string | null;
}

/** Insert or refresh a worker row. */
export async function registerWorker(db: Queryable, w: WorkerRegistration): Promise<void> {
  await db.query(
    `INSERT INTO jobplane.workers (id, tenant_id, name, kind, zone, tasks, queues, labels, concurrency, hostname, pid, version)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
     ON CONFLICT (id) DO UPDATE SET tenant_id = EXCLUDED.tenant_id, name = EXCLUDED.name, kind = EXCLUDED.kind,
       zone = EXCLUDED.zone, tasks = EXCLUDED.tasks, queues = EXCLUDED.queues, labels = EXCLUDED.labels,
       concurrency = EXCLUDED.concurrency, hostname = EXCLUDED.hostname, pid = EXCLUDED.pid,
       version = EXCLUDED.version, last_heartbeat_at = now(), stopped_at = NULL`,
    [w.id, w.tenantId, w.name, w.kind, w.zone, w.tasks, w.queues, w.labels, w.concurrency, w.hostname, w.pid, w.version],
  );
}

/** Mark a worker alive, with how many jobs it runs now. */
export async function touchWorker(db: Queryable, id: string, running: number): Promise<void> {
  await db.query({
    name: 'jobplane_touch_worker',
    text: `UPDATE jobplane.workers SET last_heartbeat_at = now(), running = $2 WHERE id = $1`,
    values: [id, running],
  });
}

/** Mark a worker stopped. */
export async function markWorkerStopped(db: Queryable, id: string): Promise<void> {
  await db.query(`UPDATE jobplane.workers SET stopped_at = now(), running = 0 WHERE id = $1`, [id]);
}

/** A worker as listed. */
export interface WorkerRow {
  id: string;
  tenantId: string | null;
  name: string;
  kind: string;
  zone: string | null;
  tasks: string[];
  queues: string[] | null;
  labels: Record<string, string> | null;
  concurrency: number;
  running: number;
  hostname: string | null;
  pid: number | null;
  startedAt: Date;
  lastHeartbeatAt: Date;
}

/** Workers whose heartbeat is fresher than `staleMs`. */
export async function listLiveWorkers(db: Queryable, tenantId: string | null, staleMs: number): Promise<WorkerRow[]> {
  const { rows } = await db.query<WorkerRow>(
    `SELECT id, tenant_id AS "tenantId", name, kind, zone, tasks, queues, labels, concurrency, running, hostname, pid,
            started_at AS "startedAt", last_heartbeat_at AS "lastHeartbeatAt"
     FROM jobplane.workers
     WHERE stopped_at IS NULL AND last_heartbeat_at > now() - $2 * interval '1 millisecond'
       AND ($1::uuid IS NULL OR tenant_id IS NULL OR tenant_id = $1::uuid)
     ORDER BY started_at`,
    [tenantId, staleMs],
  );
  return rows;
}

/**
 * The cheapest round trip that proves the database answers and accepts this pool's connections;
 * also says whether it is a read-only standby (after a failover to a replica, or
 * default_transaction_read_only), so health can report "up but refusing writes".
 */
export async function pingDatabase(db: Queryable): Promise<{ readOnly: boolean }> {
  const { rows } = await db.query<{ read_only: string }>({ name: 'jobplane-ping', text: `SELECT current_setting('transaction_read_only') AS read_only` });
  return { readOnly: rows[0]?.read_only === 'on' };
}

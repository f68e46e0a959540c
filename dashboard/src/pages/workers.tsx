/**
 * Workers: the live ones (in-process and remote) with zone, tasks, heartbeat age (ticking every
 * second between the 5-second refreshes) and the number of jobs they run.
 */
import { useEffect, useState, type ReactNode } from 'react';
import { useResource } from '../hooks';
import { api } from '../api';
import { DataTable, type Column } from '../components/data-table';
import { Chips, PageHeader } from '../components/ui';
import { ago, count } from '../format';
import type { ResponseOf } from '../../../src/client/api-shapes.js';

type Worker = ResponseOf<'/api/v1/workers', 'get'>['workers'][number];

const REFRESH_MS = 5000;

function age(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

export function WorkersPage(): ReactNode {
  const resource = useResource(async () => ({ workers: (await api<{ workers: Worker[] }>('GET', '/api/v1/workers')).workers, at: Date.now() }));
  const { data, loading, reload: load } = resource;
  const [now, setNow] = useState(() => Date.now());

  useEffect(() => {
    const refresh = setInterval(() => void load(), REFRESH_MS);
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => {
      clearInterval(refresh);
      clearInterval(tick);
    };
  }, [load]);

  const workers = data?.workers ?? [];
  const running = workers.reduce((sum, w) => sum + w.running, 0);

  return (
    <>
      <PageHeader title="Workers">
        <button type="button" className="btn" onClick={() => void load()} disabled={loading}>
          Refresh
        </button>
      </PageHeader>
      {data && workers.length > 0 ? (
        <p className="muted" role="status">
          {count(workers.length)} live {workers.length === 1 ? 'worker' : 'workers'}, {count(running)} running {running === 1 ? 'job' : 'jobs'}. Refreshed every 5 seconds.
        </p>
      ) : null}
      <DataTable
        label="Workers"
        resource={resource}
        rows={workers}
        rowKey={(w) => w.id}
        rowProps={(w) => ({ 'data-worker-id': w.id })}
        columns={columns(now, data?.at ?? now)}
        empty={
          <>
            <p>No live workers: queued jobs wait until one starts.</p>
            <p>
              Start one with <code>jobplane start --role worker</code> (it connects to the same database), or run a remote worker in any language over HTTP with an API key that has the <code>worker</code> scope — see the remote-worker protocol in <code>docs/remote-workers.md</code>.
            </p>
          </>
        }
      />
    </>
  );
}

/** The columns at `now`, for a list read at `readAt` (heartbeat ages tick on between reads). */
function columns(now: number, readAt: number): Array<Column<Worker>> {
  const heartbeat = (w: Worker): number => w.heartbeatAgeMs + (now - readAt);
  return [
    { header: 'Name', rowHeader: true, cellClassName: 'truncate', title: (w) => `${w.name} (${w.id})`, cell: (w) => w.name },
    { header: 'Kind', cell: (w) => w.kind },
    { header: 'Zone', cell: (w) => w.zone ?? <span className="muted">—</span> },
    { header: 'Tasks', cellClassName: 'wrap', cell: (w) => <Chips label={`Tasks of ${w.name}`} items={w.tasks} /> },
    { header: 'Queues', cellClassName: 'wrap', cell: (w) => (w.queues && w.queues.length > 0 ? w.queues.join(', ') : <span className="muted">all</span>) },
    { header: 'Heartbeat', cellClassName: (w) => (heartbeat(w) > 30_000 ? 'error-text' : undefined), title: (w) => w.lastHeartbeatAt, cell: (w) => `${age(heartbeat(w))} ago` },
    { header: 'Running', className: 'num', cell: (w) => `${count(w.running)} / ${count(w.concurrency)}` },
    { header: 'Host', cellClassName: 'truncate', title: (w) => w.hostname, cell: (w) => w.hostname ?? <span className="muted">—</span> },
    { header: 'Started', title: (w) => w.startedAt, cell: (w) => ago(w.startedAt, now) },
    {
      header: 'Labels',
      cellClassName: 'wrap',
      cell: (w) => (w.labels && Object.keys(w.labels).length > 0 ? <Chips label={`Labels of ${w.name}`} items={Object.entries(w.labels).map(([k, v]) => `${k}=${v}`)} /> : <span className="muted">—</span>),
    },
  ];
}

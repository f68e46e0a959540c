/**
 * Workers: the live ones (in-process and remote) with zone, tasks, heartbeat age (ticking every
 * second between the 5-second refreshes) and the number of jobs they run.
 */
import { useEffect, useState, type ReactNode } from 'react';
import { useResource } from '../hooks';
import { api } from '../api';
import { Empty, ErrorBox, Loading, PageHeader } from '../components/ui';
import { ago, count } from '../format';

interface Worker {
  id: string;
  name: string;
  kind: string;
  zone: string | null;
  tasks: string[];
  queues: string[] | null;
  concurrency: number;
  running: number;
  hostname: string | null;
  startedAt: string;
  lastHeartbeatAt: string;
  heartbeatAgeMs: number;
  labels?: Record<string, string> | null;
}

const REFRESH_MS = 5000;

function age(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

export function WorkersPage(): ReactNode {
  const { data, error, loading, reload: load } = useResource(async () => ({ workers: (await api<{ workers: Worker[] }>('GET', '/api/v1/workers')).workers, at: Date.now() }));
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
      {error ? <ErrorBox error={error} onRetry={() => void load()} /> : null}
      {!data && loading && !error ? <Loading /> : null}
      {data && workers.length === 0 ? (
        <Empty>
          <p>No live workers: queued jobs wait until one starts.</p>
          <p>
            Start one with <code>jobplane start --role worker</code> (it connects to the same database), or run a remote worker in any language over HTTP with an API key that has the <code>worker</code> scope — see the remote-worker protocol in <code>docs/remote-workers.md</code>.
          </p>
        </Empty>
      ) : null}
      {workers.length > 0 ? (
        <div className="table-wrap">
          <table aria-label="Workers" aria-busy={loading} className="stack">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Kind</th>
                <th scope="col">Zone</th>
                <th scope="col">Tasks</th>
                <th scope="col">Queues</th>
                <th scope="col">Heartbeat</th>
                <th scope="col" className="num">
                  Running
                </th>
                <th scope="col">Host</th>
                <th scope="col">Started</th>
                <th scope="col">Labels</th>
              </tr>
            </thead>
            <tbody>
              {workers.map((w) => {
                const heartbeat = w.heartbeatAgeMs + (now - data!.at);
                return (
                  <tr key={w.id} data-worker-id={w.id}>
                    <th scope="row" className="truncate row-head" title={`${w.name} (${w.id})`}>
                      {w.name}
                    </th>
                    <td data-label="Kind">{w.kind}</td>
                    <td data-label="Zone">{w.zone ?? <span className="muted">—</span>}</td>
                    <td data-label="Tasks" className="wrap">
                      <ul className="chips" aria-label={`Tasks of ${w.name}`}>
                        {w.tasks.map((t) => (
                          <li key={t} className="chip">
                            {t}
                          </li>
                        ))}
                      </ul>
                    </td>
                    <td data-label="Queues" className="wrap">{w.queues && w.queues.length > 0 ? w.queues.join(', ') : <span className="muted">all</span>}</td>
                    <td data-label="Heartbeat" className={heartbeat > 30_000 ? 'error-text' : undefined} title={w.lastHeartbeatAt}>
                      {age(heartbeat)} ago
                    </td>
                    <td data-label="Running" className="num">
                      {count(w.running)} / {count(w.concurrency)}
                    </td>
                    <td data-label="Host" className="truncate" title={w.hostname ?? undefined}>
                      {w.hostname ?? <span className="muted">—</span>}
                    </td>
                    <td data-label="Started" title={w.startedAt}>{ago(w.startedAt, now)}</td>
                    <td data-label="Labels" className="wrap">
                      {w.labels && Object.keys(w.labels).length > 0 ? (
                        <ul className="chips" aria-label={`Labels of ${w.name}`}>
                          {Object.entries(w.labels).map(([k, v]) => (
                            <li key={k} className="chip">
                              {k}={v}
                            </li>
                          ))}
                        </ul>
                      ) : (
                        <span className="muted">—</span>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}

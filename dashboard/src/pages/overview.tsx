/**
 * Overview: jobs by status, throughput, failure rate and enqueue→start latency over a window, queue
 * depths and live workers. Live: job and queue events trigger a refetch (at most one every 2 s);
 * workers are re-read every 5 s; a `reset` (missed events) re-reads everything.
 */
import { useThrottled } from '../hooks';
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { api, JOB_STATUSES, type JobStatus } from '../api';
import { Lines, StackedBars } from '../components/chart';
import { Empty, ErrorBox, Loading, PageHeader } from '../components/ui';
import { useLiveEvents, type LiveEvent } from '../live-stream';
import { count } from '../format';
import { Link, setQuery, useLocation } from '../router';
import { useCan } from '../session';

interface Stats {
  windowMinutes: number;
  from: string;
  to: string;
  bucketMs: number;
  counts: Record<JobStatus, number>;
  buckets: Array<{ at: string; completed: number; failed: number; started: number; latencyAvgMs: number | null; latencyP95Ms: number | null }>;
}

interface Queue {
  name: string;
  paused: boolean;
  concurrencyLimit: number | null;
  counts: Record<string, number>;
  completedLast5m: number;
  failedLast5m: number;
}

interface Worker {
  id: string;
  name: string;
  kind: string;
  zone: string | null;
  tasks: string[];
  concurrency: number;
  running: number;
  hostname: string | null;
  heartbeatAgeMs: number;
}

const WINDOWS: Array<{ minutes: number; label: string }> = [
  { minutes: 15, label: 'Last 15 minutes' },
  { minutes: 60, label: 'Last hour' },
  { minutes: 360, label: 'Last 6 hours' },
  { minutes: 1440, label: 'Last 24 hours' },
];
const REFETCH_GAP_MS = 2000;
const WORKERS_EVERY_MS = 5000;
/** Even without events the time axis moves on: re-read the series this often. */
const STATS_EVERY_MS = 30_000;

const STATUS_HELP: Record<JobStatus, string> = {
  queued: 'waiting now',
  scheduled: 'placed, waiting now',
  running: 'running now',
  completed: 'finished in window',
  failed: 'finished in window',
  cancelled: 'finished in window',
};

function ms(value: number): string {
  if (value < 1000) return `${Math.round(value)} ms`;
  if (value < 60_000) return `${(value / 1000).toFixed(value < 10_000 ? 1 : 0)} s`;
  if (value < 3_600_000) return `${(value / 60_000).toFixed(1)} min`;
  return `${(value / 3_600_000).toFixed(1)} h`;
}

/** A bucket width in words: "minute", "6 minutes", "15 seconds". */
function interval(value: number): string {
  if (value % 60_000 === 0) return value === 60_000 ? 'minute' : `${value / 60_000} minutes`;
  return value === 1000 ? 'second' : `${Math.round(value / 1000)} seconds`;
}

function percent(value: number): string {
  return `${(value * 100).toFixed(value > 0 && value < 0.1 ? 1 : 0)}%`;
}

function clock(iso: string, withDate: boolean, withSeconds = false): string {
  const d = new Date(iso);
  return d.toLocaleString(undefined, {
    ...(withDate ? { month: 'short', day: 'numeric' } : {}),
    hour: '2-digit',
    minute: '2-digit',
    ...(withSeconds ? { second: '2-digit' } : {}),
  });
}


export function OverviewPage(): ReactNode {
  const { query } = useLocation();
  const can = useCan();
  const showQueues = can('queues:read');
  const showWorkers = can('workers:read');
  const requested = Number(query.get('window') ?? '60');
  const windowMinutes = WINDOWS.some((w) => w.minutes === requested) ? requested : 60;

  const [stats, setStats] = useState<Stats | null>(null);
  const [statsError, setStatsError] = useState<unknown>(null);
  const [queues, setQueues] = useState<Queue[] | null>(null);
  const [queuesError, setQueuesError] = useState<unknown>(null);
  const [workers, setWorkers] = useState<Worker[] | null>(null);
  const [workersError, setWorkersError] = useState<unknown>(null);
  const generation = useRef(0);

  const loadCounts = useCallback(async () => {
    const mine = generation.current;
    const [s, q] = await Promise.allSettled([
      api<Stats>('GET', '/api/v1/stats', { query: { windowMinutes } }),
      showQueues ? api<{ queues: Queue[] }>('GET', '/api/v1/queues') : Promise.resolve({ queues: [] }),
    ]);
    if (mine !== generation.current) return; // the window changed meanwhile
    if (s.status === 'fulfilled') {
      setStats(s.value);
      setStatsError(null);
    } else setStatsError(s.reason);
    if (q.status === 'fulfilled') {
      setQueues(q.value.queues);
      setQueuesError(null);
    } else setQueuesError(q.reason);
  }, [windowMinutes, showQueues]);

  const loadWorkers = useCallback(async () => {
    if (!showWorkers) return;
    try {
      setWorkers((await api<{ workers: Worker[] }>('GET', '/api/v1/workers')).workers);
      setWorkersError(null);
    } catch (err) {
      setWorkersError(err);
    }
  }, [showWorkers]);

  useEffect(() => {
    generation.current += 1;
    void loadCounts();
    const timer = setInterval(() => void loadCounts(), STATS_EVERY_MS);
    return () => clearInterval(timer);
  }, [loadCounts]);

  useEffect(() => {
    void loadWorkers();
    const timer = setInterval(() => void loadWorkers(), WORKERS_EVERY_MS);
    return () => clearInterval(timer);
  }, [loadWorkers]);

  const refetchSoon = useThrottled(() => void loadCounts(), REFETCH_GAP_MS);
  const onEvent = useCallback((event: LiveEvent) => {
    if (event.type === 'reset') {
      void loadCounts();
      void loadWorkers();
      return;
    }
    if (event.type === 'job' || event.type === 'queue') refetchSoon();
  }, [loadCounts, loadWorkers, refetchSoon]);
  useLiveEvents({ query: { types: 'job,queue' } }, onEvent, '', (resumed) => {
    if (!resumed) refetchSoon();
  });

  return (
    <>
      <PageHeader title="Overview">
        <label className="ov-window">
          <span className="sr-only">Time window</span>
          <select value={windowMinutes} onChange={(e) => setQuery({ window: e.target.value === '60' ? null : e.target.value })}>
            {WINDOWS.map((w) => (
              <option key={w.minutes} value={w.minutes}>
                {w.label}
              </option>
            ))}
          </select>
        </label>
      </PageHeader>
      <StatsSection stats={stats} error={statsError} onRetry={() => void loadCounts()} />
      <div className="ov-lists">
        {showQueues ? <QueuesPanel queues={queues} error={queuesError} onRetry={() => void loadCounts()} /> : null}
        {showWorkers ? <WorkersPanel workers={workers} error={workersError} onRetry={() => void loadWorkers()} /> : null}
      </div>
    </>
  );
}

function StatsSection({ stats, error, onRetry }: { stats: Stats | null; error: unknown; onRetry: () => void }): ReactNode {
  if (!stats) {
    return error ? <ErrorBox error={error} onRetry={onRetry} /> : <div className="ov-stats-placeholder"><Loading label="Loading statistics…" /></div>;
  }
  const long = stats.windowMinutes > 720;
  const labels = stats.buckets.map((b) => clock(b.at, long, stats.bucketMs < 60_000));
  const from = clock(stats.from, long);
  const to = 'now';
  const completed = stats.buckets.map((b) => b.completed);
  const failed = stats.buckets.map((b) => b.failed);
  const totalCompleted = completed.reduce((a, b) => a + b, 0);
  const totalFailed = failed.reduce((a, b) => a + b, 0);
  const finished = totalCompleted + totalFailed;
  const rate = finished === 0 ? null : totalFailed / finished;
  const rates = stats.buckets.map((b) => (b.completed + b.failed === 0 ? null : b.failed / (b.completed + b.failed)));
  const avg = stats.buckets.map((b) => b.latencyAvgMs);
  const p95 = stats.buckets.map((b) => b.latencyP95Ms);
  const started = stats.buckets.reduce((n, b) => n + b.started, 0);
  const worstP95 = Math.max(0, ...p95.filter((v): v is number => v !== null));
  const weightedAvg = started === 0 ? null : stats.buckets.reduce((n, b) => n + (b.latencyAvgMs ?? 0) * b.started, 0) / started;
  const bucketWords = interval(stats.bucketMs);
  const peak = Math.max(0, ...stats.buckets.map((b) => b.completed + b.failed));
  const windowWords = WINDOWS.find((w) => w.minutes === stats.windowMinutes)?.label.toLowerCase() ?? `last ${stats.windowMinutes} minutes`;

  return (
    <>
      {error ? (
        <div className="ov-stale" role="status">
          Could not refresh ({error instanceof Error ? error.message : 'unknown error'}); showing the last figures.
        </div>
      ) : null}
      <ul className="ov-cards" aria-label="Jobs by status">
        {JOB_STATUSES.map((status) => (
          <li key={status}>
            <Link to={`/jobs?status=${status}`} className={`ov-card ov-card-${status}`}>
              <span className="ov-card-value">{count(stats.counts[status])}</span>
              <span className="ov-card-label">{status}</span>
              <span className="ov-card-help">{STATUS_HELP[status]}</span>
            </Link>
          </li>
        ))}
      </ul>
      <div className="ov-charts">
        <StackedBars
          title="Throughput"
          note={`Jobs finished per ${bucketWords}`}
          summary={
            finished === 0
              ? `No jobs finished in the ${windowWords}.`
              : `Jobs finished per ${bucketWords} in the ${windowWords}: ${count(totalCompleted)} completed and ${count(totalFailed)} failed in total; at most ${count(peak)} in one interval.`
          }
          headline={<><strong>{count(finished)}</strong> finished</>}
          labels={labels}
          series={[
            { label: 'Completed', className: 'ov-c-completed', values: completed },
            { label: 'Failed', className: 'ov-c-failed', values: failed },
          ]}
          format={(v) => count(Math.round(v))}
          from={from}
          to={to}
        />
        <Lines
          title="Failure rate"
          note={`Failed share of finished jobs, per ${bucketWords}`}
          summary={
            rate === null
              ? `No jobs finished in the ${windowWords}, so there is no failure rate.`
              : `Failed share of finished jobs per ${bucketWords}: ${percent(rate)} over the ${windowWords}, at most ${percent(Math.max(0, ...rates.filter((v): v is number => v !== null)))} in one interval.`
          }
          headline={<><strong>{rate === null ? '—' : percent(rate)}</strong> failed</>}
          labels={labels}
          series={[{ label: 'Failure rate', className: 'ov-c-failed', values: rates }]}
          format={percent}
          max={1}
          from={from}
          to={to}
        />
        <Lines
          title="Start latency"
          note={`Enqueue → start (due time, or submit time if later, to start), per ${bucketWords}`}
          summary={
            started === 0 || weightedAvg === null
              ? `No jobs started in the ${windowWords}.`
              : `Time from due to started per ${bucketWords}: ${ms(weightedAvg)} on average over ${count(started)} starts in the ${windowWords}; the worst 95th percentile of an interval was ${ms(worstP95)}.`
          }
          headline={<><strong>{weightedAvg === null ? '—' : ms(weightedAvg)}</strong> avg</>}
          labels={labels}
          series={[
            { label: 'Average', className: 'ov-c-avg', values: avg },
            { label: '95th percentile', className: 'ov-c-p95', values: p95 },
          ]}
          format={ms}
          from={from}
          to={to}
        />
      </div>
    </>
  );
}

function QueuesPanel({ queues, error, onRetry }: { queues: Queue[] | null; error: unknown; onRetry: () => void }): ReactNode {
  return (
    <section className="panel ov-list" aria-labelledby="ov-queues">
      <h2 id="ov-queues">
        <Link to="/queues">Queues</Link>
      </h2>
      {queues === null ? (
        error ? <ErrorBox error={error} onRetry={onRetry} /> : <Loading />
      ) : queues.length === 0 ? (
        <Empty>No queues yet: a queue appears when a job names it.</Empty>
      ) : (
        <div className="ov-scroll" tabIndex={0} role="region" aria-label="Queue depths">
          <table>
            <thead>
              <tr>
                <th scope="col">Queue</th>
                <th scope="col" className="num">Queued</th>
                <th scope="col" className="num">Scheduled</th>
                <th scope="col" className="num">Running</th>
                <th scope="col" className="num">Failed</th>
              </tr>
            </thead>
            <tbody>
              {queues.map((q) => (
                <tr key={q.name}>
                  <th scope="row" className="row-head">
                    <Link to={`/jobs?queue=${encodeURIComponent(q.name)}`}>{q.name}</Link>
                    {q.paused ? <span className="badge badge-paused ov-paused">paused</span> : null}
                  </th>
                  <td className="num">{count(q.counts.queued ?? 0)}</td>
                  <td className="num">{count(q.counts.scheduled ?? 0)}</td>
                  <td className="num">{count(q.counts.running ?? 0)}</td>
                  <td className="num">{count(q.counts.failed ?? 0)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function WorkersPanel({ workers, error, onRetry }: { workers: Worker[] | null; error: unknown; onRetry: () => void }): ReactNode {
  return (
    <section className="panel ov-list" aria-labelledby="ov-workers">
      <h2 id="ov-workers">
        <Link to="/workers">Live workers</Link> {workers ? <span className="muted">({count(workers.length)})</span> : null}
      </h2>
      {workers === null ? (
        error ? <ErrorBox error={error} onRetry={onRetry} /> : <Loading />
      ) : workers.length === 0 ? (
        <Empty>No live workers: queued jobs wait until one starts.</Empty>
      ) : (
        <div className="ov-scroll" tabIndex={0} role="region" aria-label="Live workers">
          <table>
            <thead>
              <tr>
                <th scope="col">Worker</th>
                <th scope="col">Tasks</th>
                <th scope="col" className="num">Running</th>
                <th scope="col" className="num">Heartbeat</th>
              </tr>
            </thead>
            <tbody>
              {workers.map((w) => (
                <tr key={w.id}>
                  <th scope="row" className="row-head">
                    {w.name}
                    <span className="ov-sub muted">{[w.zone ?? 'no zone', w.kind].join(' · ')}</span>
                  </th>
                  <td className="wrap ov-tasks">
                    {w.tasks.length === 0 ? <span className="muted">any</span> : w.tasks.slice(0, 4).join(', ')}
                    {w.tasks.length > 4 ? <span className="muted"> +{w.tasks.length - 4} more</span> : null}
                  </td>
                  <td className="num">
                    {count(w.running)} / {count(w.concurrency)}
                  </td>
                  <td className="num">{w.heartbeatAgeMs < 1000 ? 'just now' : `${ms(w.heartbeatAgeMs)} ago`}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {workers !== null && error ? <p className="hint error-text">Could not refresh the workers.</p> : null}
    </section>
  );
}

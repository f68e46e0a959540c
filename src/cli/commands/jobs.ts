/**
 * `jobplane jobs …`: submit, list, get, watch, cancel, retry, reschedule, logs.
 */
import type { ApiJob, ApiJobSubmit, JobplaneClient } from '../../client/client.js';
import { defined, duration, int, isoTime, list, opt, payload, required, time, type Command } from '../command.js';
import { EXIT, UsageError, type Context } from '../context.js';
import { cell, colorStatus, formatAgo, formatDuration, formatTable, pretty, progressBar, progressPercent } from '../format.js';

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/** Human view of one job. */
export function describeJob(job: ApiJob, ctx: Context, now = new Date()): string {
  const c = ctx.colors;
  const rows: Array<[string, string]> = [
    ['id', job.id],
    ['status', colorStatus(job.status, c)],
    ['task', job.task],
    ['queue', job.queue],
    ['priority', String(job.priority)],
    ['attempt', `${job.attempt} of ${job.maxAttempts}`],
    ['run at', `${job.runAt} (${formatAgo(job.runAt, now)})`],
    ['created', `${job.createdAt} (${formatAgo(job.createdAt, now)})`],
  ];
  if (job.startedAt) rows.push(['started', job.startedAt]);
  if (job.finishedAt) rows.push(['finished', job.finishedAt]);
  if (job.workerId) rows.push(['worker', job.workerId]);
  if (job.scheduleId) rows.push(['schedule', job.scheduleId]);
  if (job.idempotencyKey) rows.push(['idempotency key', job.idempotencyKey]);
  if (job.progress !== null && job.progress !== undefined) {
    const percent = progressPercent(job.progress);
    rows.push(['progress', percent !== null ? progressBar(percent, 20) : cell(job.progress)]);
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `${c.dim(k.padEnd(width))}  ${v}`);
  if (job.payload !== null && job.payload !== undefined) lines.push(c.dim('payload'), indent(pretty(job.payload)));
  if (job.result !== null && job.result !== undefined) lines.push(c.dim('result'), indent(pretty(job.result)));
  for (const e of job.errors) lines.push(c.red(`error (attempt ${e.attempt}, ${e.kind}): ${e.message}`));
  return lines.join('\n');
}

/** A result on one line when it is short, else indented JSON. */
function compact(value: unknown): string {
  const line = JSON.stringify(value);
  return line.length <= 100 ? line : `\n${indent(pretty(value))}`;
}

function indent(text: string): string {
  return text.split('\n').map((l) => `  ${l}`).join('\n');
}

/** Exit code for a finished job: 0 completed, 10 failed, 11 cancelled. */
export function exitCodeForStatus(status: string): number {
  return status === 'failed' ? EXIT.jobFailed : status === 'cancelled' ? EXIT.jobCancelled : EXIT.ok;
}

/**
 * Follow one job over its SSE stream until it finishes: status lines, a progress bar on a TTY and
 * new log lines; with --json one JSON line per event. Reconnects (resuming from the last event id)
 * when the stream ends early, and re-reads the job on `reset`.
 */
export async function watchJob(ctx: Context, client: JobplaneClient, jobId: string): Promise<number> {
  const c = ctx.colors;
  let lastEventId: string | undefined;
  let lastStatus = '';
  let logCursor: string | undefined;
  let barShown = false;
  const clearBar = () => {
    if (barShown) ctx.io.stdout.write('\r\u001b[2K');
    barShown = false;
  };
  const showOutput = async () => {
    const job = await client.jobs.get(jobId);
    const { lines } = await client.jobs.logs(jobId, defined({ after: logCursor }));
    for (const line of lines) {
      logCursor = line.id;
      clearBar();
      ctx.out(`${c.dim(line.at)} ${line.level === 'error' ? c.red(line.level) : c.dim(line.level)} ${line.message}`);
    }
    const percent = progressPercent(job.progress);
    if (percent !== null && ctx.isTTY) {
      ctx.io.stdout.write(`\r\u001b[2K${progressBar(percent)}`);
      barShown = true;
    } else if (percent !== null) ctx.out(`progress ${Math.round(percent)}%`);
  };
  const finish = async (status: string) => {
    clearBar();
    const job = await client.jobs.get(jobId);
    // With --json the last line is the finished job (status, result, errors), as the human view ends with them.
    if (ctx.json) ctx.out(JSON.stringify(job));
    else {
      const took = job.startedAt && job.finishedAt ? ` in ${formatDuration(Date.parse(job.finishedAt) - Date.parse(job.startedAt))}` : '';
      if (job.status === 'completed') ctx.out(`${c.green('done')}${took}${job.result !== null && job.result !== undefined ? `, result: ${compact(job.result)}` : ''}`);
      else {
        const last = job.errors[job.errors.length - 1];
        ctx.out(`${colorStatus(job.status, c)}${last ? `: ${last.message} (${last.kind})` : ''}`);
      }
    }
    return exitCodeForStatus(status);
  };
  for (let attempt = 0; ; attempt++) {
    for await (const event of client.events(defined({ jobId, lastEventId }))) {
      if (event.id) lastEventId = event.id;
      if (ctx.json) ctx.out(JSON.stringify(event));
      if (event.type === 'job' && typeof event.data.status === 'string') {
        const status = event.data.status;
        if (status !== lastStatus && !ctx.json) {
          clearBar();
          ctx.out(`${c.dim(new Date().toISOString())} ${colorStatus(status, c)}${typeof event.data.attempt === 'number' && event.data.attempt > 0 ? ` (attempt ${event.data.attempt})` : ''}`);
        }
        lastStatus = status;
        if (TERMINAL.has(status)) return finish(status);
      } else if (event.type === 'job-output' && !ctx.json) {
        await showOutput();
      } else if (event.type === 'reset') {
        const job = await client.jobs.get(jobId);
        if (TERMINAL.has(job.status)) return finish(job.status);
      }
    }
    // The stream ended (server restart, proxy timeout): the job may have finished meanwhile.
    const job = await client.jobs.get(jobId);
    if (TERMINAL.has(job.status)) return finish(job.status);
    await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 250 * 2 ** attempt)));
  }
}

const submit: Command = {
  name: 'jobs submit',
  summary: 'Submit a job',
  usage: '--task TASK [--queue Q] [--payload JSON|@file|-] [--run-at ISO|--delay 30s] [--priority N] [--max-attempts N] [--timeout 30s] [--idempotency-key K] [--watch]',
  details: `  --payload      the job's input: inline JSON, @file to read a file, - to read stdin
  --run-at       run no earlier than this time; --delay runs after a duration instead
  --timeout      fail an attempt that runs longer than this
  --watch        follow the job until it finishes (exit code: 0 completed, 10 failed, 11 cancelled);
                 with --json one JSON line each: the submitted job, every live event, the finished job`,
  examples: [
    `jobplane jobs submit --task sleep --payload '{"ms": 2000}' --watch`,
    'jobplane jobs submit --task http --payload @request.json --queue outbound --max-attempts 5',
    `echo '{"n": 30}' | jobplane jobs submit --task fibonacci --payload - --json`,
  ],
  options: {
    task: { type: 'string' },
    queue: { type: 'string' },
    payload: { type: 'string' },
    'run-at': { type: 'string' },
    delay: { type: 'string' },
    priority: { type: 'string' },
    'max-attempts': { type: 'string' },
    timeout: { type: 'string' },
    'idempotency-key': { type: 'string' },
    watch: { type: 'boolean' },
  },
  args: { min: 0, max: 0 },
  async run(ctx, _args, values) {
    if (values['run-at'] !== undefined && values.delay !== undefined) throw new UsageError('give --run-at or --delay, not both');
    const spec: ApiJobSubmit = {
      task: required(values, 'task'),
      ...defined({
      queue: opt(values, 'queue'),
      payload: await payload(ctx, values),
      runAt: isoTime(values, 'run-at'),
      delayMs: duration(values, 'delay'),
      priority: int(values, 'priority'),
      maxAttempts: int(values, 'max-attempts', 1),
      timeoutMs: duration(values, 'timeout'),
      idempotencyKey: opt(values, 'idempotency-key'),
      }),
    };
    const client = await ctx.api();
    const job = await client.jobs.submit(spec);
    if (values.watch === true) {
      if (ctx.json) ctx.out(JSON.stringify(job));
      else ctx.out(`submitted ${ctx.colors.bold(job.id)} (${job.task} on ${job.queue})`);
      return watchJob(ctx, client, job.id);
    }
    ctx.emit(job, () => (ctx.isTTY ? `submitted ${ctx.colors.bold(job.id)} (${job.task} on ${job.queue}, ${colorStatus(job.status, ctx.colors)})` : job.id));
    return EXIT.ok;
  },
};

const listJobs: Command = {
  name: 'jobs list',
  summary: 'List jobs, newest first',
  usage: '[--status S1,S2] [--queue Q] [--task T] [--q TEXT] [--since 1h|ISO] [--until ISO] [--limit N] [--cursor C]',
  details: `  --status   queued, scheduled, running, completed, failed, cancelled (comma list)
  --q        search ids, tasks and payload text
  --since    ISO time or a duration ago (1h, 2d)
  --cursor   the nextCursor of a previous page (printed at the end of a full page)`,
  examples: ['jobplane jobs list --status failed --since 1d', 'jobplane jobs list --queue emails --limit 100 --json'],
  options: { status: { type: 'string', multiple: true }, queue: { type: 'string' }, task: { type: 'string' }, q: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' }, limit: { type: 'string' }, cursor: { type: 'string' } },
  args: { min: 0, max: 0 },
  async run(ctx, _args, values) {
    const status = list(values, 'status');
    const query = defined({
      status: status.length > 0 ? status.join(',') : undefined,
      queue: opt(values, 'queue'),
      task: opt(values, 'task'),
      q: opt(values, 'q'),
      since: time(values, 'since'),
      until: time(values, 'until'),
      limit: int(values, 'limit', 1),
      cursor: opt(values, 'cursor'),
    });
    const page = await (await ctx.api()).jobs.list(query);
    const now = new Date();
    ctx.emit(page, () => {
      if (page.jobs.length === 0) return 'no jobs';
      const table = formatTable(
        ['id', 'status', 'task', 'queue', 'attempt', 'created'],
        page.jobs.map((j) => [j.id, colorStatus(j.status, ctx.colors), j.task, j.queue, `${j.attempt}/${j.maxAttempts}`, formatAgo(j.createdAt, now)]),
        ctx.colors,
      );
      return page.nextCursor ? `${table}\n${ctx.colors.dim(`more: --cursor ${page.nextCursor}`)}` : table;
    });
    return EXIT.ok;
  },
};

const get: Command = {
  name: 'jobs get',
  summary: 'Show a job: status, attempts, payload, result, errors',
  usage: 'ID',
  examples: ['jobplane jobs get 0193a5c2-…', 'jobplane jobs get 0193a5c2-… --json | jq .result'],
  options: {},
  args: { min: 1, max: 1 },
  async run(ctx, [id]) {
    const job = await (await ctx.api()).jobs.get(id ?? '');
    ctx.emit(job, () => describeJob(job, ctx));
    return EXIT.ok;
  },
};

const watch: Command = {
  name: 'jobs watch',
  summary: 'Follow a job live until it finishes',
  usage: 'ID',
  details: `  Prints status changes, log lines and (on a terminal) a progress bar, then the result.
  With --json: one JSON line per live event ({"id","type","data"}), and last the finished job
  as GET /api/v1/jobs/ID answers it (with its result or errors).
  Exit code: 0 completed, 10 failed, 11 cancelled.`,
  examples: ['jobplane jobs watch 0193a5c2-…', 'jobplane jobs watch 0193a5c2-… && echo done'],
  options: {},
  args: { min: 1, max: 1 },
  async run(ctx, [id]) {
    return watchJob(ctx, await ctx.api(), id ?? '');
  },
};

function action(name: 'cancel' | 'retry', summary: string, example: string): Command {
  return {
    name: `jobs ${name}`,
    summary,
    usage: name === 'retry' ? 'ID [--run-at ISO]' : 'ID',
    examples: [example],
    options: name === 'retry' ? { 'run-at': { type: 'string' } } : {},
    args: { min: 1, max: 1 },
    async run(ctx, [id], values) {
      const client = await ctx.api();
      const job = name === 'cancel' ? await client.jobs.cancel(id ?? '') : await client.jobs.retry(id ?? '', defined({ runAt: isoTime(values, 'run-at') }));
      ctx.emit(job, () => `${job.id} ${colorStatus(job.status, ctx.colors)}${job.cancelRequestedAt && job.status === 'running' ? ' (cancel requested; the worker stops it)' : ''}`);
      return EXIT.ok;
    },
  };
}

const reschedule: Command = {
  name: 'jobs reschedule',
  summary: 'Move a waiting job to another time or priority',
  usage: 'ID [--run-at ISO] [--priority N]',
  examples: ['jobplane jobs reschedule 0193a5c2-… --run-at 2026-12-01T08:00:00Z', 'jobplane jobs reschedule 0193a5c2-… --priority 10'],
  options: { 'run-at': { type: 'string' }, priority: { type: 'string' } },
  args: { min: 1, max: 1 },
  async run(ctx, [id], values) {
    const change = defined({ runAt: isoTime(values, 'run-at'), priority: int(values, 'priority') });
    if (Object.keys(change).length === 0) throw new UsageError('give --run-at and/or --priority');
    const job = await (await ctx.api()).jobs.reschedule(id ?? '', change);
    ctx.emit(job, () => `${job.id} ${colorStatus(job.status, ctx.colors)} run at ${job.runAt}, priority ${job.priority}`);
    return EXIT.ok;
  },
};

const logs: Command = {
  name: 'jobs logs',
  summary: "Print a job's log lines",
  usage: 'ID [--follow] [--limit N]',
  details: '  --follow   keep printing new lines until the job finishes (with --json: one JSON line per log line)',
  examples: ['jobplane jobs logs 0193a5c2-…', 'jobplane jobs logs 0193a5c2-… --follow'],
  options: { follow: { type: 'boolean', short: 'f' }, limit: { type: 'string' } },
  args: { min: 1, max: 1 },
  async run(ctx, [id], values) {
    const client = await ctx.api();
    const jobId = id ?? '';
    const c = ctx.colors;
    const format = (l: { attempt: number; level: string; message: string; at: string }) =>
      `${c.dim(l.at)} ${c.dim(`#${l.attempt}`)} ${l.level === 'error' ? c.red(l.level) : l.level === 'warn' ? c.yellow(l.level) : c.dim(l.level)} ${l.message}`;
    if (values.follow !== true) {
      const page = await client.jobs.logs(jobId, defined({ limit: int(values, 'limit', 1) }));
      ctx.emit(page, () => page.lines.map(format).join('\n'));
      return EXIT.ok;
    }
    let after: string | undefined;
    const drain = async () => {
      for (;;) {
        const { lines } = await client.jobs.logs(jobId, defined({ after, limit: 500 }));
        for (const line of lines) ctx.out(ctx.json ? JSON.stringify(line) : format(line));
        if (lines.length === 0) return;
        after = lines[lines.length - 1]?.id;
      }
    };
    await drain();
    for await (const event of client.events({ jobId })) {
      if (event.type === 'job-output' || event.type === 'reset') await drain();
      const status = event.type === 'job' ? event.data.status : undefined;
      if (typeof status === 'string' && TERMINAL.has(status)) break;
    }
    await drain();
    return EXIT.ok;
  },
};

/** The `jobs` commands. */
export const jobCommands: Command[] = [
  submit,
  listJobs,
  get,
  watch,
  action('cancel', 'Cancel a job (a running one is asked to stop)', 'jobplane jobs cancel 0193a5c2-…'),
  action('retry', 'Run a failed or cancelled job again', 'jobplane jobs retry 0193a5c2-…'),
  reschedule,
  logs,
];

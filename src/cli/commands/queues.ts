/**
 * `jobplane queues …` and `jobplane workers list`.
 */
import type { Command } from '../command.js';
import { EXIT } from '../context.js';
import { cell, formatAgo, formatTable } from '../format.js';

const listQueues: Command = {
  name: 'queues list',
  summary: 'Queues with their job counts and state',
  usage: '',
  examples: ['jobplane queues list', 'jobplane queues list --json'],
  options: {},
  args: { min: 0, max: 0 },
  async run(ctx) {
    const answer = await (await ctx.api()).queues.list();
    const c = ctx.colors;
    ctx.emit(answer, () =>
      answer.queues.length === 0
        ? 'no queues'
        : formatTable(
            ['name', 'state', 'queued', 'running', 'failed', 'limit', 'done 5m', 'failed 5m'],
            answer.queues.map((q) => [
              q.name,
              q.paused ? c.yellow('paused') : c.green('active'),
              String((q.counts.queued ?? 0) + (q.counts.scheduled ?? 0)),
              String(q.counts.running ?? 0),
              String(q.counts.failed ?? 0),
              cell(q.concurrencyLimit),
              String(q.completedLast5m),
              String(q.failedLast5m),
            ]),
            c,
          ),
    );
    return EXIT.ok;
  },
};

function queueAction(name: 'pause' | 'resume'): Command {
  return {
    name: `queues ${name}`,
    summary: name === 'pause' ? 'Stop workers from claiming jobs of a queue' : 'Let workers claim jobs of a paused queue again',
    usage: 'NAME',
    examples: [`jobplane queues ${name} emails`],
    options: {},
    args: { min: 1, max: 1 },
    async run(ctx, [queue]) {
      const client = await ctx.api();
      const answer = name === 'pause' ? await client.queues.pause(queue ?? '') : await client.queues.resume(queue ?? '');
      ctx.emit(answer, () => `queue ${queue} ${name === 'pause' ? ctx.colors.yellow('paused') : ctx.colors.green('resumed')}`);
      return EXIT.ok;
    },
  };
}

const listWorkers: Command = {
  name: 'workers list',
  summary: 'Workers seen recently: zone, tasks, running jobs',
  usage: '',
  examples: ['jobplane workers list'],
  options: {},
  args: { min: 0, max: 0 },
  async run(ctx) {
    const answer = await (await ctx.api()).workers.list();
    const now = new Date();
    ctx.emit(answer, () =>
      answer.workers.length === 0
        ? 'no workers'
        : formatTable(
            ['id', 'name', 'kind', 'zone', 'tasks', 'running', 'heartbeat'],
            answer.workers.map((w) => [w.id, cell(w.name), cell(w.kind), cell(w.zone), w.tasks.join(','), String(w.running), formatAgo(typeof w.lastHeartbeatAt === 'string' ? w.lastHeartbeatAt : null, now)]),
            ctx.colors,
          ),
    );
    return EXIT.ok;
  },
};

/** The `queues` commands. */
export const queueCommands: Command[] = [listQueues, queueAction('pause'), queueAction('resume')];
/** The `workers` commands. */
export const workerCommands: Command[] = [listWorkers];

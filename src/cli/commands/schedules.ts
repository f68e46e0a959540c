/**
 * `jobplane schedules …`: create, list, get, preview, pause, resume, trigger, delete.
 */
import type { ApiSchedule } from '../../client/client.js';
import { defined, duration, int, opt, payload, required, type Command } from '../command.js';
import { EXIT, UsageError, type Context, type Values } from '../context.js';
import { formatAgo, formatTable } from '../format.js';

function describeSchedule(s: ApiSchedule, ctx: Context): string {
  const c = ctx.colors;
  return [
    `${c.bold(s.name)} ${c.dim(s.id)}${s.paused ? ` ${c.yellow('paused')}` : ''}`,
    `  ${s.describe}${s.cron ? ` (${s.cron}, ${s.timezone})` : ''}`,
    `  task ${s.task} on queue ${s.queue}`,
    `  next ${s.nextFireAt ?? '-'}${s.lastFireAt ? `, last ${s.lastFireAt}` : ''}`,
  ].join('\n');
}

/** Timing options shared by create and preview: --cron [--timezone] or --every. */
function timing(values: Values): Record<string, unknown> {
  const cron = opt(values, 'cron');
  const every = duration(values, 'every');
  if ((cron === undefined) === (every === undefined)) throw new UsageError('give exactly one of --cron EXPR or --every DURATION');
  return defined({ cron, intervalMs: every, timezone: opt(values, 'timezone') });
}

const create: Command = {
  name: 'schedules create',
  summary: 'Create a recurring schedule (cron or interval)',
  usage: '--name NAME (--cron EXPR [--timezone ZONE] | --every 5m) --task TASK [--payload JSON|@file|-] [--queue Q] [--paused]',
  details: `  --cron       five fields (minute hour day month weekday), or @hourly, @daily…
  --timezone   IANA zone the cron follows (default UTC), e.g. Europe/Paris
  --every      a fixed interval instead of a cron (at least 1s)`,
  examples: [
    `jobplane schedules create --name nightly-report --cron '0 3 * * *' --timezone Europe/Paris --task http --payload @report.json`,
    'jobplane schedules create --name heartbeat --every 5m --task noop',
  ],
  options: { name: { type: 'string' }, cron: { type: 'string' }, timezone: { type: 'string' }, every: { type: 'string' }, task: { type: 'string' }, payload: { type: 'string' }, queue: { type: 'string' }, paused: { type: 'boolean' } },
  args: { min: 0, max: 0 },
  async run(ctx, _args, values) {
    const spec = {
      name: required(values, 'name'),
      task: required(values, 'task'),
      ...timing(values),
      ...defined({ queue: opt(values, 'queue'), payload: await payload(ctx, values), paused: values.paused === true ? true : undefined }),
    };
    const schedule = await (await ctx.api()).schedules.create(spec);
    ctx.emit(schedule, () => `created schedule\n${describeSchedule(schedule, ctx)}`);
    return EXIT.ok;
  },
};

const listSchedules: Command = {
  name: 'schedules list',
  summary: 'List schedules',
  usage: '[--limit N] [--after CURSOR]',
  examples: ['jobplane schedules list', 'jobplane schedules list --json | jq ".schedules[].name"'],
  options: { limit: { type: 'string' }, after: { type: 'string' } },
  args: { min: 0, max: 0 },
  async run(ctx, _args, values) {
    const page = await (await ctx.api()).schedules.list(defined({ limit: int(values, 'limit', 1), after: opt(values, 'after') }));
    const now = new Date();
    ctx.emit(page, () =>
      page.schedules.length === 0
        ? 'no schedules'
        : formatTable(
            ['id', 'name', 'timing', 'task', 'queue', 'state', 'next'],
            page.schedules.map((s) => [s.id, s.name, s.describe, s.task, s.queue, s.paused ? ctx.colors.yellow('paused') : ctx.colors.green('active'), formatAgo(s.nextFireAt, now)]),
            ctx.colors,
          ),
    );
    return EXIT.ok;
  },
};

const get: Command = {
  name: 'schedules get',
  summary: 'Show a schedule',
  usage: 'ID',
  examples: ['jobplane schedules get 0193a5c2-…'],
  options: {},
  args: { min: 1, max: 1 },
  async run(ctx, [id]) {
    const schedule = await (await ctx.api()).schedules.get(id ?? '');
    ctx.emit(schedule, () => describeSchedule(schedule, ctx));
    return EXIT.ok;
  },
};

const preview: Command = {
  name: 'schedules preview',
  summary: 'The timing in words and the next fire times, of a schedule or of a cron expression',
  usage: 'ID | --cron EXPR [--timezone ZONE] | --every 5m  [--count N]',
  examples: [`jobplane schedules preview --cron '30 9 * * 1-5' --timezone America/New_York --count 5`, 'jobplane schedules preview 0193a5c2-…'],
  options: { cron: { type: 'string' }, timezone: { type: 'string' }, every: { type: 'string' }, count: { type: 'string' } },
  args: { min: 0, max: 1 },
  async run(ctx, [id], values) {
    const count = int(values, 'count', 1) ?? 10;
    const client = await ctx.api();
    let answer: { fireTimes: string[]; describe?: string; timezone?: string };
    if (id !== undefined) {
      if (values.cron !== undefined || values.every !== undefined) throw new UsageError('give a schedule ID or --cron/--every, not both');
      answer = await client.schedules.preview(id, count);
    } else {
      answer = await client.schedules.previewSpec({ name: 'preview', task: 'noop', ...timing(values) }, count);
    }
    ctx.emit(answer, () => [answer.describe ? ctx.colors.bold(answer.describe) : '', ...answer.fireTimes.map((t) => `  ${t}`)].filter((l) => l !== '').join('\n'));
    return EXIT.ok;
  },
};

function action(name: 'pause' | 'resume' | 'delete'): Command {
  return {
    name: `schedules ${name}`,
    summary: name === 'pause' ? 'Stop a schedule from firing' : name === 'resume' ? 'Let a paused schedule fire again' : 'Delete a schedule (its jobs stay)',
    usage: 'ID',
    examples: [`jobplane schedules ${name} 0193a5c2-…`],
    options: {},
    args: { min: 1, max: 1 },
    async run(ctx, [id]) {
      const client = await ctx.api();
      if (name === 'delete') {
        await client.schedules.remove(id ?? '');
        ctx.emit({ id, deleted: true }, () => `deleted schedule ${id}`);
        return EXIT.ok;
      }
      const schedule = name === 'pause' ? await client.schedules.pause(id ?? '') : await client.schedules.resume(id ?? '');
      ctx.emit(schedule, () => `${schedule.name} ${schedule.paused ? ctx.colors.yellow('paused') : ctx.colors.green('active')}${schedule.nextFireAt && !schedule.paused ? `, next ${schedule.nextFireAt}` : ''}`);
      return EXIT.ok;
    },
  };
}

const trigger: Command = {
  name: 'schedules trigger',
  summary: 'Fire a schedule now (one job, out of its timing)',
  usage: 'ID',
  examples: ['jobplane schedules trigger 0193a5c2-…'],
  options: {},
  args: { min: 1, max: 1 },
  async run(ctx, [id]) {
    const answer = await (await ctx.api()).schedules.trigger(id ?? '');
    ctx.emit(answer, () => `fired: job ${ctx.colors.bold(answer.jobId)}`);
    return EXIT.ok;
  },
};

/** The `schedules` commands. */
export const scheduleCommands: Command[] = [create, listSchedules, get, preview, action('pause'), action('resume'), trigger, action('delete')];

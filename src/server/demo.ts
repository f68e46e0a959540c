/**
 * `jobplane start --demo`: schedules and jobs that make a fresh installation look alive within a
 * minute. Idempotent: schedules are matched by name and the jobs carry idempotency keys, so a
 * restart with --demo adds nothing twice.
 */
import type { Logger } from '../core/deps.js';
import { DEFAULT_TENANT_ID } from '../core/tenants.js';
import type { Pool } from '../db/pool.js';
import { isAppError } from '../errors/index.js';
import type { JobProducer } from '../engine/producer.js';
import { createSchedule } from '../engine/schedule-service.js';

/** Hosts the demo's http jobs may reach although they are private (the api role itself). */
export const DEMO_ALLOWED_HOSTS = ['127.0.0.1', 'localhost', '::1'];

/** Seed the demo in the default tenant; `apiUrl` is where this process's api role listens. */
export async function seedDemo(pool: Pool, producer: JobProducer, apiUrl: string, logger: Logger): Promise<void> {
  const echo = `${apiUrl}/demo/echo`;
  const actor = { tenantId: DEFAULT_TENANT_ID, name: 'demo', createdBy: 'demo' };
  const schedules: Array<Record<string, unknown>> = [
    { name: 'demo-echo', description: 'POSTs to the demo echo endpoint every minute', cron: '* * * * *', task: 'http', queue: 'webhooks', payload: { url: `${echo}?delayMs=300`, method: 'POST', body: { hello: 'from a schedule' } } },
    { name: 'demo-fibonacci', description: 'computes a Fibonacci number every 30 seconds', intervalMs: 30_000, task: 'fibonacci', queue: 'compute', payload: { n: 20_000 } },
    { name: 'demo-flaky', description: 'calls an endpoint that fails half the time; watch it retry', intervalMs: 45_000, task: 'http', queue: 'webhooks', payload: { url: `${echo}?failRate=0.5` }, jobOptions: { maxAttempts: 3, backoff: { type: 'exponential', baseMs: 2000 } } },
    { name: 'demo-nightly-report', description: 'a nightly job (shows the cron preview across DST)', cron: '30 2 * * *', timezone: 'Europe/Berlin', task: 'noop', queue: 'reports', payload: { report: 'nightly' } },
  ];
  for (const spec of schedules) {
    try {
      await createSchedule(pool, actor, spec);
    } catch (error) {
      if (!isAppError(error, 'SCHEDULE_NAME_TAKEN')) throw error;
    }
  }
  const jobs = [
    { task: 'fibonacci', queue: 'compute', payload: { n: 90 }, idempotencyKey: 'demo-fib-90' },
    { task: 'fibonacci', queue: 'compute', payload: { n: 100_000 }, idempotencyKey: 'demo-fib-big' },
    { task: 'http', queue: 'webhooks', payload: { url: `${echo}?delayMs=1000`, method: 'POST', body: { order: 42 } }, idempotencyKey: 'demo-http-order-42' },
    { task: 'http', queue: 'webhooks', payload: { url: `${echo}?failRate=1` }, maxAttempts: 3, backoff: { type: 'fixed' as const, baseMs: 3000 }, idempotencyKey: 'demo-http-always-fails' },
    { task: 'sleep', queue: 'default', payload: { ms: 20_000 }, idempotencyKey: 'demo-sleep-20s' },
    { task: 'noop', queue: 'reports', payload: { later: true }, delayMs: 120_000, idempotencyKey: 'demo-later' },
  ];
  await producer.addMany(jobs, { tenantId: DEFAULT_TENANT_ID, createdBy: 'demo' });
  logger.info({ schedules: schedules.length, jobs: jobs.length }, 'demo seeded: open the dashboard to watch it run');
}

import pino from 'pino';
import pretty from 'pino-pretty';
import type { Logger } from '../core/deps.js';

/** How log lines are written: JSON (one object per line), human-readable, or pretty on a terminal only. */
export type LogFormat = 'auto' | 'json' | 'pretty';

/**
 * The process logger: pino JSON on stdout (request id, tenant, job id and attempt travel as
 * fields), or colourised lines when a person is watching a terminal (`auto`) or asks (`pretty`).
 */
export function createLogger(level: string, bindings: Record<string, unknown> = {}, format: LogFormat = 'auto'): Logger {
  const options = { level, base: { pid: process.pid, ...bindings }, timestamp: pino.stdTimeFunctions.isoTime };
  const human = format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);
  if (!human) return pino(options);
  return pino(options, pretty({ colorize: process.stdout.isTTY === true && !process.env.NO_COLOR, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true, sync: true }));
}

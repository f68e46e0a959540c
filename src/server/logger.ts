import pino from 'pino';
import type { Logger } from '../core/deps.js';

/** The process logger: pino JSON on stdout. */
export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { pid: process.pid, ...bindings }, timestamp: pino.stdTimeFunctions.isoTime });
}

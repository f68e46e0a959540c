import type { LogFields } from '../core/deps.js';
import { storableText } from '../core/attempt-outcome.js';
import { checkJsonValue } from '../core/validate.js';
import type { AttemptOutput } from '../db/queries/jobs.js';

/** Limits that keep a chatty handler from flooding the database. */
export interface OutputLimits {
  /** Longest stored log message. @defaultValue 8192 */
  maxMessageLength: number;
  /** Most log lines stored per attempt; one notice line is added when reached. @defaultValue 1000 */
  maxLinesPerAttempt: number;
  /** Largest progress object, in bytes. @defaultValue 8192 */
  maxProgressBytes: number;
}

/** Defaults for {@link OutputLimits}. */
export const DEFAULT_OUTPUT_LIMITS: OutputLimits = { maxMessageLength: 8192, maxLinesPerAttempt: 1000, maxProgressBytes: 8192 };

interface Pending {
  leaseToken: string;
  attempt: number;
  progressJson: string | null;
  logs: AttemptOutput['logs'];
  lines: number;
}

/**
 * Collects progress values and log lines per attempt until the worker flushes them. Values are
 * made storable here (no NUL, bounded) so one bad line can never fail a whole batch.
 */
export class OutputBuffer {
  private readonly pending = new Map<string, Pending>();
  private readonly counts = new Map<string, number>();

  constructor(private readonly limits: OutputLimits = DEFAULT_OUTPUT_LIMITS) {}

  /** Whether anything waits to be flushed. */
  get size(): number {
    return this.pending.size;
  }

  /** Append a log line for an attempt. */
  log(jobId: string, leaseToken: string, attempt: number, level: string, message: unknown, fields: LogFields | undefined, nowIso: string): void {
    const key = `${jobId}:${leaseToken}`;
    const count = this.counts.get(key) ?? 0;
    if (count > this.limits.maxLinesPerAttempt) return;
    this.counts.set(key, count + 1);
    const entry = this.entry(jobId, leaseToken, attempt);
    if (count === this.limits.maxLinesPerAttempt) {
      entry.logs.push({ level: 'warn', message: `log limit of ${count} lines reached; further lines are dropped`, fields: null, at: nowIso });
      return;
    }
    const checked = fields === undefined ? null : checkJsonValue(fields, '', { maxBytes: 4096, maxDepth: 8 });
    entry.logs.push({
      level,
      message: storableText(typeof message === 'string' ? message : String(message), this.limits.maxMessageLength),
      fields: checked === null || checked.errors.length > 0 ? null : (fields as Record<string, unknown>),
      at: nowIso,
    });
  }

  /** Record the latest progress of an attempt; returns false when the value was rejected. */
  progress(jobId: string, leaseToken: string, attempt: number, value: unknown): boolean {
    const normalized = typeof value === 'number' ? (Number.isFinite(value) ? Math.min(100, Math.max(0, value)) : null) : value;
    const checked = checkJsonValue(normalized, '', { maxBytes: this.limits.maxProgressBytes, maxDepth: 8 });
    if (checked.errors.length > 0 || normalized === null) return false;
    this.entry(jobId, leaseToken, attempt).progressJson = checked.json ?? JSON.stringify(normalized);
    return true;
  }

  /** Take everything pending, optionally only for some jobs. */
  drain(): AttemptOutput[] {
    const out = [...this.pending.entries()].map(([id, p]) => ({
      id: id.slice(0, id.indexOf(':')),
      leaseToken: p.leaseToken,
      attempt: p.attempt,
      progressJson: p.progressJson,
      logs: p.logs,
    }));
    this.pending.clear();
    return out;
  }

  /** Forget the line count of a finished attempt. */
  forget(jobId: string, leaseToken: string): void {
    this.counts.delete(`${jobId}:${leaseToken}`);
  }

  private entry(jobId: string, leaseToken: string, attempt: number): Pending {
    const key = `${jobId}:${leaseToken}`;
    let entry = this.pending.get(key);
    if (!entry) {
      entry = { leaseToken, attempt, progressJson: null, logs: [], lines: 0 };
      this.pending.set(key, entry);
    }
    return entry;
  }
}

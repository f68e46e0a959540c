/**
 * The two things every service gets injected (River's "archetype"): a clock and a logger.
 * Correctness-relevant times (leases, run_at, fire times) come from the database clock;
 * this clock drives local timers and is replaceable in tests. Core never reads the time itself:
 * the wall clock (`systemClock`) is in src/engine/clock.ts.
 */

/** A source of the current time. */
export interface Clock {
  /** Milliseconds since the epoch. */
  nowMs(): number;
}

/** Structured log fields. */
export type LogFields = Record<string, unknown>;

/** The logging surface Jobplane needs; a pino logger satisfies it. */
export interface Logger {
  debug(fields: LogFields, message?: string): void;
  info(fields: LogFields, message?: string): void;
  warn(fields: LogFields, message?: string): void;
  error(fields: LogFields, message?: string): void;
  child(bindings: LogFields): Logger;
}

/** A logger that drops everything (the default for library use without a logger). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};

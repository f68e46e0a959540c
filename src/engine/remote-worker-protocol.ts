/**
 * The shapes of the remote-worker protocol (docs/remote-workers.md), as the engine
 * (`remote-workers.ts`) takes and answers them; the routes in `src/api/routes/remote-workers.ts`
 * are their HTTP form.
 */
import type { ReportedFailure } from '../core/attempt-outcome.js';

/** What a remote worker says about itself. */
export interface RemoteRegistration {
  name: string;
  tasks: readonly string[];
  queues?: readonly string[] | undefined;
  zone?: string | undefined;
  labels?: Record<string, string> | undefined;
  /** How many jobs it runs at once; a claim never returns more. */
  capacity: number;
  hostname?: string | undefined;
  version?: string | undefined;
}

/** The answer to a registration. */
export interface RemoteRegistered {
  workerId: string;
  leaseMs: number;
  heartbeatMs: number;
}

/** A job as handed to a remote worker. */
export interface RemoteJob {
  id: string;
  task: string;
  queue: string;
  payload: unknown;
  attempt: number;
  maxAttempts: number;
  /** Fencing token (a decimal string); every report about this attempt must carry it. */
  leaseToken: string;
  timeoutMs: number | null;
  labels: Record<string, string> | null;
  createdAt: string;
  /** W3C traceparent of the span that submitted the job, if any: link the attempt's span to it. */
  traceParent: string | null;
}

/** The answer to a heartbeat. */
export interface HeartbeatAnswer {
  /** Leases extended (including those in `cancelled`). */
  renewed: string[];
  /** Leases this worker no longer holds: stop the work and report nothing. */
  lost: string[];
  /** Still held, but a cancel was requested: stop and report with `fail({cancelled: true})`. */
  cancelled: string[];
}

/** One log line from a remote worker. */
export interface RemoteLogLine {
  level?: string | undefined;
  message: string;
  fields?: Record<string, unknown> | undefined;
}

/** A failure reported by a remote worker. */
export type RemoteFailure = ReportedFailure;

/** The answer to a completion or failure: `accepted: false` means the lease was lost. */
export interface ReportAnswer {
  accepted: boolean;
  /** The job's status after the report; null when not accepted. */
  status: string | null;
}

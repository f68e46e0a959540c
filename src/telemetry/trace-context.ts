/**
 * The parts of tracing the rest of Jobplane uses, on `@opentelemetry/api` alone (no SDK is loaded
 * here): the shared tracer, whether tracing is on, and W3C `traceparent` parsing and formatting.
 */
import { isSpanContextValid, trace, TraceFlags, type Span, type SpanContext, type Tracer } from '@opentelemetry/api';

/** The tracer every part of Jobplane uses (a proxy: it records once a provider is registered). */
export const tracer: Tracer = trace.getTracer('jobplane');

let enabled = false;

/** Whether this process exports traces (see `startTracing`). */
export function tracingEnabled(): boolean {
  return enabled;
}

/** Set by `startTracing` and its shutdown. */
export function setTracingEnabled(value: boolean): void {
  enabled = value;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** Parse a W3C `traceparent` header value; null when it is malformed or all-zero. */
export function parseTraceParent(value: string | null | undefined): SpanContext | null {
  const match = value ? TRACEPARENT.exec(value.trim().toLowerCase()) : null;
  if (!match || match[1] === 'ff') return null;
  const spanContext: SpanContext = { traceId: match[2]!, spanId: match[3]!, traceFlags: Number.parseInt(match[4]!, 16) & TraceFlags.SAMPLED, isRemote: true };
  return isSpanContextValid(spanContext) ? spanContext : null;
}

/** The W3C `traceparent` value naming `span` (undefined for a non-recording, invalid span). */
export function traceParentOf(span: Span | null | undefined): string | undefined {
  const spanContext = span?.spanContext();
  if (!spanContext || !isSpanContextValid(spanContext)) return undefined;
  return `00-${spanContext.traceId}-${spanContext.spanId}-${(spanContext.traceFlags & TraceFlags.SAMPLED) === 1 ? '01' : '00'}`;
}

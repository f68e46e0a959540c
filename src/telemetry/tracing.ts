/**
 * OpenTelemetry tracing over OTLP/HTTP (protobuf or JSON), switched on by `OTEL_EXPORTER_OTLP_ENDPOINT` (or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`). Spans are made by hand (no auto-instrumentation): one
 * server span per HTTP request, one client span per database statement inside a traced operation,
 * and one consumer span per job attempt, linked to the span that submitted the job. Off, every
 * call goes to the no-op API of `@opentelemetry/api` and database calls are not wrapped at all.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Logger } from '../core/deps.js';
import { setTracingEnabled, tracingEnabled } from './trace-context.js';


/** A started (or skipped) tracing setup. */
export interface Tracing {
  /** Whether spans are recorded and exported. */
  enabled: boolean;
  /** Export what is buffered and unregister. Idempotent. */
  shutdown(): Promise<void>;
}

/** Options for {@link startTracing}. OTEL_* settings come from the process environment. */
export interface TracingOptions {
  /** The roles this process runs (a resource attribute). */
  roles?: readonly string[];
  logger: Logger;
}

/**
 * Register an OTLP/HTTP exporter when `OTEL_EXPORTER_OTLP_ENDPOINT` (or the traces-specific
 * variable) is set and `OTEL_SDK_DISABLED` is not `true`; otherwise do nothing. The exporter
 * (`OTEL_EXPORTER_OTLP_PROTOCOL`: `http/protobuf`, the default, or `http/json`) and
 * the batch processor read the standard OTEL_* variables themselves (headers, timeouts,
 * OTEL_BSP_SCHEDULE_DELAY, ...); OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES are respected.
 */
export function startTracing(options: TracingOptions): Tracing {
  const env = process.env;
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint || env.OTEL_SDK_DISABLED?.toLowerCase() === 'true' || tracingEnabled()) {
    return { enabled: false, shutdown: () => Promise.resolve() };
  }
  const resource = resourceFromAttributes({
    'service.name': 'jobplane',
    'process.pid': process.pid,
    'jobplane.roles': [...(options.roles ?? [])].join(','),
  }).merge(detectResources({ detectors: [envDetector] }));
  // OTLP/HTTP only: protobuf (the specification's default) or JSON; gRPC is not bundled.
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL || env.OTEL_EXPORTER_OTLP_PROTOCOL || 'http/protobuf').trim().toLowerCase();
  if (protocol !== 'http/json' && protocol !== 'http/protobuf') {
    options.logger.warn({ protocol }, 'OTLP protocol not supported (use http/protobuf or http/json); exporting http/protobuf');
  }
  const exporter = protocol === 'http/json' ? new JsonExporter() : new ProtobufExporter();
  const provider = new BasicTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter)] });
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  setTracingEnabled(true);
  options.logger.info({ endpoint, protocol: protocol === 'http/json' ? protocol : 'http/protobuf' }, 'OpenTelemetry tracing on (OTLP/HTTP)');
  let stopping: Promise<void> | null = null;
  return {
    enabled: true,
    shutdown() {
      stopping ??= (async () => {
        try {
          await provider.shutdown();
        } catch (error) {
          options.logger.warn({ err: (error as Error).message }, 'could not export the last spans');
        }
        trace.disable();
        context.disable();
        propagation.disable();
        setTracingEnabled(false);
      })();
      return stopping;
    },
  };
}

import { SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { operationName, outcomeOf } from './operation.js';
import type { AroundCall } from './store.js';

export interface TracingOptions {
  /** OTEL_EXPORTER_OTLP_ENDPOINT: the collector's base URL; spans go to `<endpoint>/v1/traces` as OTLP/HTTP JSON. */
  endpoint: string;
  serviceName: string;
  /** `postgresql` or `redis`, on each storage span. */
  storage: string;
  /** Told of each batch of spans the collector did not take (the SDK itself would drop them silently). */
  onExportError(err: Error | undefined): void;
}

export interface Tracing {
  /** Goes first among the plugins: one span per operation, named once its document is known. */
  plugin: Plugin;
  /** Each storage call as a child span of the operation that made it. */
  aroundStorage: AroundCall;
  /** Exports the spans still buffered, then stops. */
  close(): Promise<void>;
}

/**
 * OpenTelemetry tracing, loaded only when an endpoint is configured (app code imports this module
 * dynamically). Nothing is registered globally: the provider and the AsyncLocalStorage context
 * manager belong to this app, so several apps in one process trace apart. Other standard
 * OTEL_EXPORTER_OTLP_* variables (headers, timeout, compression) are read by the exporter itself.
 */
export function startTracing(o: TracingOptions): Tracing {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': o.serviceName }),
    spanProcessors: [new BatchSpanProcessor(reportingFailures(new OTLPTraceExporter({ url: `${o.endpoint.replace(/\/+$/, '')}/v1/traces` }), o.onExportError))],
  });
  const tracer = provider.getTracer('stored-messages');
  const contexts = new AsyncLocalStorageContextManager().enable();

  /** Runs `work` with `span` as the active span, and ends the span when the work settles. */
  const within = <T>(span: Span, work: () => T): T => {
    const failed = (err: unknown) => {
      span.recordException(err instanceof Error ? err : String(err));
      span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      throw err;
    };
    try {
      const out = contexts.with(trace.setSpan(contexts.active(), span), work);
      if (out instanceof Promise) return out.then((r) => (span.end(), r), failed) as T;
      span.end();
      return out;
    } catch (err) {
      return failed(err);
    }
  };
  const operation = (name: string) => (_payload: unknown, wrapped: () => unknown) =>
    within(tracer.startSpan(name, { kind: SpanKind.SERVER }, contexts.active()), wrapped) as void;

  /** Names the active operation span after its document, and marks how it ended. */
  const describe = (args: { document: Parameters<typeof operationName>[0]; operationName?: string | null }) => {
    const span = trace.getSpan(contexts.active());
    if (!span) return () => {};
    const name = operationName(args.document, args.operationName);
    span.updateName(`${name.type} ${name.fields}`);
    span.setAttributes({ 'graphql.operation.type': name.type, 'stored_messages.operation': name.fields });
    if (args.operationName) span.setAttribute('graphql.operation.name', args.operationName);
    return (result: unknown) => {
      const outcome = isAsyncIterable(result) ? 'ok' : outcomeOf(result);
      span.setAttribute('stored_messages.outcome', outcome);
      if (outcome !== 'ok') span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
    };
  };

  return {
    plugin: {
      instrumentation: { execute: operation('graphql.execute'), subscribe: operation('graphql.subscribe') },
      onExecute({ args }) {
        const ended = describe(args);
        return { onExecuteDone: ({ result }) => ended(result) };
      },
      onSubscribe({ args }) {
        const ended = describe(args);
        return { onSubscribeResult: ({ result }) => ended(result) };
      },
    },
    aroundStorage: (call, run) =>
      within(tracer.startSpan(`storage ${call}`, { kind: SpanKind.CLIENT, attributes: { 'db.system.name': o.storage } }, contexts.active()), run),
    async close() {
      await provider.shutdown();
      contexts.disable();
    },
  };
}

/** ExportResultCode.SUCCESS of @opentelemetry/core. */
const EXPORTED = 0;

function reportingFailures(exporter: SpanExporter, onError: (err: Error | undefined) => void): SpanExporter {
  return {
    export: (spans, done) =>
      exporter.export(spans, (result) => {
        if (result.code !== EXPORTED) onError(result.error);
        done(result);
      }),
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}

import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { MessageStore, SendResult } from '../domain/message-store.js';
import { metricsEndpoint } from './endpoint.js';
import { measureOperations } from './measure.js';
import { Metrics } from './metrics.js';
import type { WebhookCounters } from '../webhooks/index.js';
import { aroundStore, type AroundCall, type StoreCall } from './store.js';

export interface Observability {
  /** Yoga plugins, to go first among the app's: GET /metrics, operation metrics, and operation spans when tracing is on. */
  plugins: Plugin[];
  /** The store the app should use: each call timed, and a span when tracing is on. */
  instrument(store: MessageStore): MessageStore;
  /** Storage and live delivery report through these (group-commit batch sizes, live-event lag). */
  onSendBatch(size: number): void;
  onLiveEventLag(ms: number): void;
  /** Webhook deliveries (counters), and the outbox whose pending count the gauge shows. */
  webhooks: WebhookCounters & { pendingFrom(read: () => Promise<number>): void };
  /** Exports the spans still buffered (tracing), then stops. Close it after everything that makes spans. */
  close(): Promise<void>;
}

/**
 * Prometheus metrics (always) and OpenTelemetry tracing (when OTEL_EXPORTER_OTLP_ENDPOINT is set;
 * otherwise the SDK is never even loaded) for one app (CONTRACT.md §12).
 */
export async function createObservability(config: Config, o: { logger: Logger }): Promise<Observability> {
  const metrics = new Metrics();
  const tracing = config.otlpEndpoint
    ? (await import('./tracing.js')).startTracing({
        endpoint: config.otlpEndpoint,
        serviceName: config.otelServiceName,
        storage: config.storageBackend === 'redis' ? 'redis' : 'postgresql',
        onExportError: (err) => o.logger.warn({ err }, 'the OTLP collector did not take a batch of spans'),
      })
    : null;

  // One reaction on the call's own promise rather than an async wrapper's extra promise and hops.
  const timed: AroundCall = <T>(call: StoreCall, run: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const timer = metrics.storageTimer(call);
    const done = () => timer.observe((performance.now() - started) / 1000);
    let call$: Promise<T>;
    try {
      call$ = run();
    } catch (err) {
      done();
      return Promise.reject(err);
    }
    return call$.then(
      (result) => {
        done();
        // A replayed idempotency key stored nothing new.
        if (call === 'send' && !(result as SendResult).replayed) metrics.messageStored();
        return result;
      },
      (err: unknown) => {
        done();
        throw err;
      },
    );
  };
  const around: AroundCall = tracing ? (call, run) => timed(call, () => tracing.aroundStorage(call, run)) : timed;

  return {
    plugins: [metricsEndpoint(metrics, config.metricsToken), measureOperations(metrics), ...(tracing ? [tracing.plugin] : [])],
    instrument: (store) => aroundStore(store, around),
    onSendBatch: (size) => metrics.sendBatch(size),
    onLiveEventLag: (ms) => metrics.liveEventLag(ms),
    webhooks: {
      delivered: () => metrics.webhookDelivered(),
      failedAttempt: () => metrics.webhookFailedAttempt(),
      gaveUp: () => metrics.webhookGivenUp(),
      pendingFrom: (read) => metrics.webhookPendingFrom(read),
    },
    close: async () => tracing?.close(),
  };
}

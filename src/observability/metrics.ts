import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export type Transport = 'ws' | 'sse';

/** A histogram's labelled child: what a timer observes into. */
export interface Observer {
  observe(value: number): void;
}

// Operations and storage calls take from well under a millisecond to seconds under load.
const SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

let processRegistry: Registry | null = null;

/** Node's process metrics: registered once per process, however many apps it runs, since their collectors can never be stopped. */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/**
 * The app's Prometheus metrics (CONTRACT.md §12), in a registry of its own so several apps in one
 * process (tests, embedding) count apart. Label values come from the schema and the error codes: a
 * bounded set.
 */
export class Metrics {
  private readonly registry = new Registry();
  readonly contentType = this.registry.contentType;
  private readonly operations = new Counter({
    name: 'stored_messages_operations_total',
    help: 'GraphQL operations run, by root fields and outcome (ok, or the error code the client got).',
    labelNames: ['operation', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly operationSeconds = new Histogram({
    name: 'stored_messages_operation_duration_seconds',
    help: 'Time to run a query or mutation, or to start a subscription, by root fields.',
    labelNames: ['operation'] as const,
    buckets: SECONDS,
    registers: [this.registry],
  });
  private readonly stored = new Counter({
    name: 'stored_messages_messages_stored_total',
    help: 'Messages stored (a send to many users or a broadcast counts one; an idempotent replay none).',
    registers: [this.registry],
  });
  private readonly subscriptions = new Gauge({
    name: 'stored_messages_subscriptions_active',
    help: 'Subscriptions open on this process, by transport (ws or sse).',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });
  private readonly storageSeconds = new Histogram({
    name: 'stored_messages_storage_duration_seconds',
    help: 'Time of each storage call (MessageStore method), by call.',
    labelNames: ['call'] as const,
    buckets: SECONDS,
    registers: [this.registry],
  });

  private readonly sendBatches = new Histogram({
    name: 'stored_messages_send_batch_size',
    help: 'Direct sends committed together (group commit): 1 when calls come one at a time, more under load.',
    buckets: [1, 2, 4, 8, 16, 32, 64],
    registers: [this.registry],
  });
  private readonly liveLag = new Histogram({
    name: 'stored_messages_live_event_lag_seconds',
    help: "Time from an event's append to its log until a subscription on this process delivers it (replays after a reconnect included).",
    buckets: SECONDS,
    registers: [this.registry],
  });

  private readonly webhooksDelivered = new Counter({
    name: 'stored_messages_webhook_delivered_total',
    help: 'Webhook events delivered by this process (every endpoint answered 2xx).',
    registers: [this.registry],
  });
  private readonly webhookFailures = new Counter({
    name: 'stored_messages_webhook_failed_attempts_total',
    help: 'Webhook attempts that failed (an endpoint answered non-2xx, or not within the timeout) and will be retried.',
    registers: [this.registry],
  });
  private readonly webhooksGivenUp = new Counter({
    name: 'stored_messages_webhook_given_up_total',
    help: 'Webhook events given up on, still failing 24 hours after they occurred.',
    registers: [this.registry],
  });
  private webhookPendingRead: (() => Promise<number>) | null = null;
  private webhookPendingCache = { value: 0, at: 0 };

  constructor() {
    const metrics = this;
    new Gauge({
      name: 'stored_messages_webhook_pending',
      help: 'Webhook events written and not yet delivered or given up, across every process sharing the storage (0 with webhooks off).',
      registers: [this.registry],
      async collect() {
        this.set(await metrics.webhookPending());
      },
    });
    for (const transport of ['ws', 'sse'] as const) this.subscriptions.set({ transport }, 0);
  }

  // Each label set's child, made once: prom-client hashes the labels on every call otherwise.
  private readonly children = new Map<string, { inc(): void } | Observer>();
  private child<C extends { inc(): void } | Observer>(key: string, make: () => C): C {
    let c = this.children.get(key) as C | undefined;
    if (!c) this.children.set(key, (c = make()));
    return c;
  }

  /** One operation ended; `started` is its performance.now() at the start. */
  operation(operation: string, outcome: string, started: number): void {
    this.child(`o\n${operation}\n${outcome}`, () => this.operations.labels({ operation, outcome })).inc();
    this.child(`d\n${operation}`, () => this.operationSeconds.labels({ operation })).observe((performance.now() - started) / 1000);
  }

  /** The timer of one storage call's kind: storageTimer(call).observe(seconds). */
  storageTimer(call: string): Observer {
    return this.child(`s\n${call}`, () => this.storageSeconds.labels({ call }));
  }

  messageStored(): void {
    this.stored.inc();
  }

  sendBatch(size: number): void {
    this.sendBatches.observe(size);
  }

  liveEventLag(ms: number): void {
    this.liveLag.observe(Math.max(0, ms) / 1000);
  }

  subscriptionOpened(transport: Transport): void {
    this.subscriptions.inc({ transport });
  }

  subscriptionClosed(transport: Transport): void {
    this.subscriptions.dec({ transport });
  }

  /** The outbox's count behind stored_messages_webhook_pending (webhooks on). */
  webhookPendingFrom(read: () => Promise<number>): void {
    this.webhookPendingRead = read;
  }

  webhookDelivered(): void {
    this.webhooksDelivered.inc();
  }

  webhookFailedAttempt(): void {
    this.webhookFailures.inc();
  }

  webhookGivenUp(): void {
    this.webhooksGivenUp.inc();
  }

  /** The pending count, read at most once a second however often /metrics is scraped; the last one when the read fails. */
  private async webhookPending(): Promise<number> {
    const read = this.webhookPendingRead;
    if (!read || Date.now() - this.webhookPendingCache.at < 1000) return this.webhookPendingCache.value;
    try {
      this.webhookPendingCache = { value: await read(), at: Date.now() };
    } catch {
      this.webhookPendingCache.at = Date.now();
    }
    return this.webhookPendingCache.value;
  }

  /** The Prometheus text exposition: this app's families, then the process's. */
  async render(): Promise<string> {
    return `${await this.registry.metrics()}\n${await processMetrics().metrics()}`;
  }
}

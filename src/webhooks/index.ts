import type { Logger } from 'pino';
import type { WebhookConfig } from '../config.js';
import type { Signals } from '../domain/signals.js';
import { startWebhookDispatch, type WebhookDispatch } from '../domain/webhook-dispatch.js';
import { WEBHOOK_TIMINGS, type WebhookTimings } from '../domain/webhook-dispatch-policy.js';
import type { WebhookEvent, WebhookOutbox } from '../domain/webhooks.js';
import { HttpSender } from './http-sender.js';

/** What operators see of deliveries (observability/metrics.ts). */
export interface WebhookCounters {
  delivered(): void;
  failedAttempt(): void;
  gaveUp(): void;
}

export interface WebhookDeliveryOptions {
  config: WebhookConfig;
  outbox: WebhookOutbox;
  signals: Signals;
  logger: Logger;
  counters: WebhookCounters;
  /** A stored message's id as the API shows it: the bodies carry those. */
  publicId: (messageId: string) => string;
  /** Shorter delays and timeouts for tests; production uses the contract's. */
  timings?: Partial<WebhookTimings>;
}

/** Streams delivered at once by one process, and connections kept to each endpoint. */
const CONCURRENCY = 32;

const about = (e: WebhookEvent) => ({ webhookId: e.id, type: e.type, userId: e.userId });

/** Starts this process's webhook dispatcher: signed HTTP POSTs of the outbox's events, logged and counted. */
export function startWebhookDelivery(o: WebhookDeliveryOptions): WebhookDispatch {
  const timings = { ...WEBHOOK_TIMINGS, ...o.timings };
  const sender = new HttpSender({ key: o.config.key, timeoutMs: timings.timeoutMs, maxSockets: CONCURRENCY, publicId: o.publicId });
  const dispatch = startWebhookDispatch({
    outbox: o.outbox,
    sender,
    urls: o.config.urls,
    signals: o.signals,
    timings,
    concurrency: CONCURRENCY,
    onDelivered: () => o.counters.delivered(),
    onFailedAttempt: (event, attempts, failures, nextAt) => {
      o.counters.failedAttempt();
      o.logger.warn({ ...about(event), attempts, failures, nextAt }, `webhook ${event.id} failed (attempt ${attempts}); next attempt at ${nextAt.toISOString()}`);
    },
    onGaveUp: (event, attempts, failures) => {
      o.counters.gaveUp();
      o.logger.error({ ...about(event), attempts, failures }, `webhook ${event.id} given up after ${attempts} attempts`);
    },
    onError: (err) => o.logger.error({ err }, 'webhook outbox call failed'),
  });
  return {
    async stop() {
      await dispatch.stop();
      sender.close();
    },
  };
}

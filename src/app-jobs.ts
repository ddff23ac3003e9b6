import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { startExpiryCleanup } from './domain/expiry-cleanup.js';
import type { FlashStore } from './domain/flash-store.js';
import type { MessageStore } from './domain/message-store.js';
import { startScheduledDelivery } from './domain/scheduled-delivery.js';
import type { Signals } from './domain/signals.js';
import type { WebhookTimings } from './domain/webhook-dispatch-policy.js';
import { startSnoozeWake } from './domain/snooze-wake.js';
import { encodeMessageId } from './graphql/ids.js';
import type { Observability } from './observability/index.js';
import type { Storage } from './storage/index.js';
import { startWebhookDelivery } from './webhooks/index.js';

export interface BackgroundJobsOptions {
  config: Config;
  options: { dispatchWebhooks?: boolean; webhookTimings?: Partial<WebhookTimings> };
  /** The outbox and the leases; `store` is the same storage, instrumented. */
  storage: Storage;
  store: MessageStore;
  signals: Signals;
  flash: FlashStore;
  logger: Logger;
  observability: Observability;
}

export interface BackgroundJobs {
  /** Stops each job; run before storage closes, so a job can release what it claimed. */
  closers: (() => Promise<void>)[];
  /** The `cleanup` command's round, now, lease or not. */
  cleanupNow: () => Promise<number>;
}

/**
 * The instance's periodic work, each under a lease so one instance at a time does it: expired-message
 * cleanup, snooze wake-ups, scheduled delivery, and webhook dispatch when webhooks are configured.
 */
export function startBackgroundJobs({ config, options, storage, store, signals, flash, logger, observability }: BackgroundJobsOptions): BackgroundJobs {
  // One id for this instance in every lease it takes.
  const holder = randomUUID();
  const leases = storage.leases;
  const expiryCleanup = startExpiryCleanup({
    store,
    flash,
    leases,
    holder,
    intervalMs: config.cleanupIntervalSeconds * 1000,
    onRound: (reclaimed) => logger.debug({ reclaimed }, `expiry cleanup: ${reclaimed} reclaimed`),
    onError: (err) => logger.error({ err }, 'expired-message cleanup failed'),
  });
  const snoozeWake = startSnoozeWake({
    store,
    signals,
    leases,
    holder,
    onRound: (woken) => logger.debug({ woken }, `snooze wake: ${woken} woken`),
    onError: (err) => logger.error({ err }, 'snooze wake-up failed'),
  });
  const scheduledDelivery = startScheduledDelivery({
    store,
    signals,
    leases,
    holder,
    onRound: (delivered) => logger.debug({ delivered }, `scheduled delivery: ${delivered} delivered`),
    onError: (err) => logger.error({ err }, 'scheduled delivery failed'),
  });
  const closers = [() => expiryCleanup.stop(), () => snoozeWake.stop(), () => scheduledDelivery.stop()];

  if (config.webhooks && options.dispatchWebhooks !== false) {
    const webhooks = startWebhookDelivery({
      config: config.webhooks,
      outbox: storage.webhooks,
      signals,
      logger,
      counters: observability.webhooks,
      publicId: (id) => encodeMessageId(id, true),
      timings: options.webhookTimings,
    });
    closers.push(() => webhooks.stop());
    observability.webhooks.pendingFrom(() => storage.webhooks.pending());
  }
  return { closers, cleanupNow: () => expiryCleanup.now() };
}

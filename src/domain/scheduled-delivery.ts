import { drain, startLeasedJob, type LeasedJob } from './leased-job.js';
import type { Leases } from './leases.js';
import type { MessageStore } from './message-store.js';
import { emitSent, type Signals } from './signals.js';

/** Scheduled messages delivered per storage call: one transaction or a few scripts each. */
export const DELIVERY_BATCH = 500;

/**
 * How often the holder looks for due schedules. A message is delivered within 2 s of its deliverAt
 * (contract section 9): one interval and a batch's delivery stay well under that.
 */
export const DELIVERY_INTERVAL_MS = 500;

export interface ScheduledDeliveryOptions {
  store: MessageStore;
  signals: Signals;
  leases: Leases;
  /** This instance's id among those sharing the storage. */
  holder: string;
  /** Default DELIVERY_INTERVAL_MS. */
  intervalMs?: number;
  /** Default DELIVERY_BATCH. */
  batch?: number;
  /** After each leased round that delivered something, with how many schedules went. */
  onRound(delivered: number): void;
  /** A failed round: logged by the caller; the next interval tries again (nothing was lost: the store delivers each once). */
  onError(err: unknown): void;
}

/**
 * Every interval, the instance holding the "scheduled-delivery" lease delivers the scheduled messages
 * whose time has come (MessageStore.deliverDue, exactly once across instances and crashes) and fires
 * each send's signals. Times that passed while no instance ran are due at the first round after a start.
 * A delivery a crashed holder had already made comes back `replayed`: its signals are not fired twice.
 */
export function startScheduledDelivery(o: ScheduledDeliveryOptions): LeasedJob {
  const batch = o.batch ?? DELIVERY_BATCH;
  return startLeasedJob({
    job: 'scheduled-delivery',
    leases: o.leases,
    holder: o.holder,
    intervalMs: o.intervalMs ?? DELIVERY_INTERVAL_MS,
    round: async (signal) => {
      // Until a call delivers nothing: a store may deliver fewer than asked (a batch of large sends), with more due.
      const delivered = await drain(
        signal,
        async () => {
          const due = await o.store.deliverDue(new Date(), batch);
          for (const d of due) if (!d.result.replayed) emitSent(o.signals, d.result);
          return due.length;
        },
        (n) => n > 0,
      );
      if (delivered > 0) o.onRound(delivered);
    },
    onError: o.onError,
  });
}

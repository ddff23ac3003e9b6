import { startBatchJob, type BatchJobOptions } from './batch-job.js';
import type { LeasedJob } from './leased-job.js';
import { emitChange } from './changes.js';

/** Scheduled messages delivered per storage call: one transaction or a few scripts each. */
export const DELIVERY_BATCH = 500;

/**
 * How often the holder looks for due schedules. A message is delivered within 2 s of its deliverAt
 * (contract section 9): one interval and a batch's delivery stay well under that.
 */
export const DELIVERY_INTERVAL_MS = 500;

/**
 * Every interval, the instance holding the "scheduled-delivery" lease delivers the scheduled messages
 * whose time has come (MessageStore.deliverDue, exactly once across instances and crashes) and fires
 * each send's signals; `onRound` gets how many were delivered. Times that passed while no instance ran
 * are due at the first round after a start. deliverDue answers each delivery to one call only, so its
 * signals fire once, also when a dead holder had made it before marking it. Defaults: DELIVERY_INTERVAL_MS, DELIVERY_BATCH.
 */
export function startScheduledDelivery(o: BatchJobOptions): LeasedJob {
  return startBatchJob({
    ...o,
    job: 'scheduled-delivery',
    intervalMs: o.intervalMs ?? DELIVERY_INTERVAL_MS,
    batch: o.batch ?? DELIVERY_BATCH,
    step: async (batch) => {
      const due = await o.store.deliverDue(new Date(), batch);
      for (const d of due) emitChange(o.signals, { op: 'send', result: d.result });
      return due.length;
    },
    // Until a call delivers nothing: a store may deliver fewer than asked (a batch of large sends) with more due.
    more: (delivered) => delivered > 0,
  });
}

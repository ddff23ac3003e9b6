import { startBatchJob, type BatchJobOptions } from './batch-job.js';
import type { LeasedJob } from './leased-job.js';
import { emitChange } from './changes.js';

/** Deliveries woken per storage call: one short transaction or script each, however many are due at once. */
export const WAKE_BATCH = 1000;

/**
 * How often the holder looks for due wake-ups. A message wakes within 2 s of its time (contract
 * section 8): one interval, plus the lease's lapse when a holder dies (leased-job.ts), stays near that.
 */
export const WAKE_INTERVAL_MS = 500;

/**
 * Every interval, the instance holding the "snooze-wake" lease wakes the snoozed messages whose time
 * has come (MessageStore.wakeDue, exactly once across instances) and fires one INBOX_STORED per user;
 * `onRound` gets how many messages woke. Times that passed while no instance ran are due at the first
 * round after a start. Defaults: WAKE_INTERVAL_MS, WAKE_BATCH.
 */
export function startSnoozeWake(o: BatchJobOptions): LeasedJob {
  return startBatchJob({
    ...o,
    job: 'snooze-wake',
    intervalMs: o.intervalMs ?? WAKE_INTERVAL_MS,
    batch: o.batch ?? WAKE_BATCH,
    step: async (batch) => {
      const users = await o.store.wakeDue(new Date(), batch);
      for (const user of users) emitChange(o.signals, { op: 'wake', user });
      return users.reduce((sum, u) => sum + u.messages.length, 0);
    },
    // A full batch means more may be due: go on at once instead of waiting an interval.
    more: (woken, batch) => woken === batch,
  });
}

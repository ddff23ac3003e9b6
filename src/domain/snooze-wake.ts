import { drain, fullBatch, startLeasedJob, type LeasedJob } from './leased-job.js';
import type { Leases } from './leases.js';
import type { MessageStore, WokenUser } from './message-store.js';
import { userSignal, type Signals, type UserSignal } from './signals.js';

/** Deliveries woken per storage call: one short transaction or script each, however many are due at once. */
export const WAKE_BATCH = 1000;

/**
 * How often the holder looks for due wake-ups. A message wakes within 2 s of its time (contract
 * section 8): one interval, plus the lease's lapse when a holder dies (leased-job.ts), stays near that.
 */
export const WAKE_INTERVAL_MS = 500;

export interface SnoozeWakeOptions {
  store: MessageStore;
  signals: Signals;
  leases: Leases;
  /** This instance's id among those sharing the storage. */
  holder: string;
  /** Default WAKE_INTERVAL_MS. */
  intervalMs?: number;
  /** Default WAKE_BATCH. */
  batch?: number;
  /** After each leased round that woke something, with how many messages woke. */
  onRound(woken: number): void;
  onError(err: unknown): void;
}

/**
 * Every interval, the instance holding the "snooze-wake" lease wakes the snoozed messages whose time
 * has come (MessageStore.wakeDue, exactly once across instances) and fires one INBOX_STORED per user.
 * Times that passed while no instance ran are due at the first round after a start.
 */
export function startSnoozeWake(o: SnoozeWakeOptions): LeasedJob {
  const batch = o.batch ?? WAKE_BATCH;
  return startLeasedJob({
    job: 'snooze-wake',
    leases: o.leases,
    holder: o.holder,
    intervalMs: o.intervalMs ?? WAKE_INTERVAL_MS,
    round: async (signal) => {
      const woken = await drain(
        signal,
        async () => {
          const users = await o.store.wakeDue(new Date(), batch);
          for (const user of users) o.signals.emit(wokenSignal(user));
          return users.reduce((sum, u) => sum + u.messages.length, 0);
        },
        fullBatch(batch),
      );
      if (woken > 0) o.onRound(woken);
    },
    onError: o.onError,
  });
}

/** One user's wake-ups as one INBOX_STORED (section 8 allows one signal for all that woke together), the newest as its message. */
export function wokenSignal(user: WokenUser): UserSignal {
  const ids = user.messages.map((m) => m.id);
  return userSignal('INBOX_STORED', user.userId, ids, user.counts, { message: user.messages.at(-1) ?? null });
}

import { startLeasedJob, type LeasedJob } from './leased-job.js';
import type { Leases } from './leases.js';
import type { MessageStore } from './message-store.js';
import type { Signals } from './signals.js';

/** What a job that works through the storage in batches (snooze wake-ups, scheduled delivery) is given. */
export interface BatchJobOptions {
  store: MessageStore;
  signals: Signals;
  leases: Leases;
  /** This instance's id among those sharing the storage. */
  holder: string;
  /** Time between two rounds; each job has its default. */
  intervalMs?: number;
  /** Items per storage call; each job has its default. */
  batch?: number;
  /** After each leased round that handled something, with how many items it handled. */
  onRound(handled: number): void;
  /** A failed round: logged by the caller; the next interval tries again. */
  onError(err: unknown): void;
}

/**
 * A round's work in storage-sized steps: runs `step` (which answers how many it handled) again at once
 * while `more(n)` says more may be waiting, until the job stops. Answers the total.
 */
export async function drain(signal: AbortSignal | undefined, step: () => Promise<number>, more: (handled: number) => boolean): Promise<number> {
  let total = 0;
  for (let n = -1; (n < 0 || more(n)) && !signal?.aborted; ) {
    n = await step();
    total += n;
  }
  return total;
}

/**
 * A leased job (leased-job.ts) whose round drains its work: `step(batch)` handles up to a batch in one
 * storage call and fires the signals; `more` says, from what one step handled, whether to go on at once.
 */
export function startBatchJob(
  o: BatchJobOptions & { job: string; intervalMs: number; batch: number; step(batch: number): Promise<number>; more(handled: number, batch: number): boolean },
): LeasedJob {
  return startLeasedJob({
    job: o.job,
    leases: o.leases,
    holder: o.holder,
    intervalMs: o.intervalMs,
    round: async (signal) => {
      const handled = await drain(signal, () => o.step(o.batch), (n) => o.more(n, o.batch));
      if (handled > 0) o.onRound(handled);
    },
    onError: o.onError,
  });
}

import type { Leases } from './leases.js';

export interface LeasedJobOptions {
  /** The lease's name: of all instances sharing the storage, one at a time runs the job. */
  job: string;
  leases: Leases;
  /** This instance's id among them (random, one per running server). */
  holder: string;
  /** Time between two rounds, and between two renewals of the lease. */
  intervalMs: number;
  /**
   * One round, run after each interval while this instance holds the lease, never two at once here.
   * `signal` aborts when the job stops: a long round should end at its next step.
   */
  round(signal: AbortSignal): Promise<void>;
  /** A failed round, renewal or release: logged by the caller; the next interval tries again. */
  onError(err: unknown): void;
}

export interface LeasedJob {
  /** Stops the timer, waits for a round still running, and releases the lease so another instance takes over at once. */
  stop(): Promise<void>;
}

/**
 * How long a holder keeps the lease without renewing it: a little over one interval, so a round that
 * starts late under load does not hand the job over, and a crashed holder's job moves within two intervals.
 */
export const leaseTtlMs = (intervalMs: number) => Math.max(intervalMs * 1.5, intervalMs + 1000);

/** Runs `round` every interval on whichever instance holds the job's lease (domain/leases.ts). */
export function startLeasedJob(o: LeasedJobOptions): LeasedJob {
  const stopping = new AbortController();
  let roundRunning = false;
  // Only a holder gives the lease up: an instance stopping before it ever held it asks nothing of storage.
  let everHeld = false;
  /** Ticks not finished yet (a renewal, and the round it started): stop() waits for them. */
  const ticks = new Set<Promise<void>>();
  const tick = async () => {
    // Renewed even while a round runs, so a long round keeps the job.
    const held = await o.leases.acquire(o.job, o.holder, leaseTtlMs(o.intervalMs));
    everHeld ||= held;
    if (!held || roundRunning || stopping.signal.aborted) return;
    roundRunning = true;
    try {
      await o.round(stopping.signal);
    } finally {
      roundRunning = false;
    }
  };
  const timer = setInterval(() => {
    const t: Promise<void> = tick()
      .catch(o.onError)
      .finally(() => ticks.delete(t));
    ticks.add(t);
  }, o.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      stopping.abort();
      await Promise.all(ticks);
      if (everHeld) await o.leases.release(o.job, o.holder).catch(o.onError);
    },
  };
}

/**
 * Who runs a periodic job (expiry cleanup, and later wake-ups, scheduled deliveries, webhook dispatch)
 * when several instances share one storage: each job has one lease, held by one holder at a time
 * until it lapses. Implemented by every storage backend; the clock is the storage's, not the instances'.
 *
 * A lease makes a job run once per round, not exactly once: a holder paused past its lease (a long
 * garbage collection, a slow round) may overlap with the next holder, so jobs stay safe to run twice.
 */
export interface Leases {
  /**
   * True when `holder` holds `job`'s lease now, for `ttlMs` from this call: taken because it was free
   * or had lapsed, or renewed because `holder` already held it. False while another holder's lease lasts.
   */
  acquire(job: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up so another holder may take it at once; does nothing when `holder` does not hold it. */
  release(job: string, holder: string): Promise<void>;
}

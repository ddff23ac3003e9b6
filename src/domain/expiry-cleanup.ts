import type { FlashStore } from './flash-store.js';
import { drain } from './batch-job.js';
import { startLeasedJob } from './leased-job.js';
import type { Leases } from './leases.js';
import type { MessageStore } from './message-store.js';

/** Expired deliveries reclaimed per storage call: small steps, so no call holds locks or Redis for long. */
const CLEANUP_BATCH = 1000;

export interface ExpiryCleanupOptions {
  store: MessageStore;
  flash: FlashStore;
  leases: Leases;
  /** This instance's id among those sharing the storage. */
  holder: string;
  intervalMs: number;
  /** After each leased round, with how many deliveries and messages went. */
  onRound(reclaimed: number): void;
  onError(err: unknown): void;
}

export interface ExpiryCleanup {
  /** Reclaims expired messages and sweeps flash messages now, lease or not (the `cleanup` command); answers how many messages went. */
  now(): Promise<number>;
  /** Stops both timers and gives the lease up (see LeasedJob.stop). */
  stop(): Promise<void>;
}

/**
 * Every interval, the instance holding the "expiry-cleanup" lease reclaims expired messages (the
 * storage is shared: one instance suffices). Each instance sweeps its flash messages itself: in
 * process they are its own; in Redis they expire by themselves and the sweep does nothing.
 */
export function startExpiryCleanup(o: ExpiryCleanupOptions): ExpiryCleanup {
  const reclaim = (signal?: AbortSignal) => drain(signal, () => o.store.cleanupExpired(CLEANUP_BATCH), (n) => n === CLEANUP_BATCH);
  const job = startLeasedJob({
    job: 'expiry-cleanup',
    leases: o.leases,
    holder: o.holder,
    intervalMs: o.intervalMs,
    round: async (signal) => o.onRound(await reclaim(signal)),
    onError: o.onError,
  });
  const sweep = setInterval(() => void o.flash.sweep().catch(o.onError), o.intervalMs);
  sweep.unref();
  return {
    async now() {
      const total = await reclaim();
      await o.flash.sweep();
      return total;
    },
    async stop() {
      clearInterval(sweep);
      await job.stop();
    },
  };
}

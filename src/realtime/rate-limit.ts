import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { RateLimiter } from '../domain/rate-limit.js';
import { resolveRedisTarget } from '../redis/target.js';
import { RedisBuckets } from './redis-rate-limit.js';

/** A bucket refills from empty to full in one minute: its capacity is the per-minute figure. */
const REFILL_MS = 60_000;
/** In-memory buckets kept at most; past it the least recently used go (a full bucket is the same as none). */
const MAX_MEMORY_BUCKETS = 100_000;

/** A user's bucket (`u`) and a producer's (`p`) are apart, though they may share an id. */
export type BucketKind = 'u' | 'p';

/** Token buckets: `take` removes one token and answers 0, or answers the ms until one is there. */
export interface Buckets {
  take(kind: BucketKind, id: string, capacity: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * The rate limiter of RATE_LIMIT_USER_PER_MINUTE / RATE_LIMIT_PRODUCER_PER_MINUTE, or null when both
 * are unset (then nothing is installed and requests pay nothing). Buckets live in Redis when it is
 * configured, so every instance draws from one budget per caller, else in this process.
 * When Redis fails the request is let through (fail-open: a limiter outage must not become an API
 * outage), logged once per outage.
 */
export async function createRateLimiter(config: Config, o: { logger: Logger }): Promise<RateLimiter | null> {
  const limits = { user: config.rateLimitUserPerMinute, producer: config.rateLimitProducerPerMinute };
  if (limits.user === null && limits.producer === null) return null;
  const target = resolveRedisTarget(config.redisUrl, config.redisClusterNodes);
  const buckets: Buckets = target ? await RedisBuckets.open(target, { prefix: config.redisPrefix, refillMs: REFILL_MS, logger: o.logger }) : new MemoryBuckets();
  let failing = false;
  return {
    async take(viewer) {
      const capacity = viewer.producer ? limits.producer : limits.user;
      if (capacity === null) return null;
      let waitMs: number;
      try {
        waitMs = await buckets.take(viewer.producer ? 'p' : 'u', viewer.id, capacity);
      } catch (err) {
        if (!failing) o.logger.error({ err }, 'rate limiter unavailable: requests pass unlimited until Redis answers');
        failing = true;
        return null;
      }
      if (failing) o.logger.info('rate limiter available again');
      failing = false;
      return waitMs === 0 ? null : Math.min(60, Math.max(1, Math.ceil(waitMs / 1000)));
    },
    close: () => buckets.close(),
  };
}

/**
 * Buckets in this process, in least-recently-used order. A bucket idle long enough to be full again
 * is dropped (on later calls, a few from the old end at a time), so idle callers cost nothing.
 */
export class MemoryBuckets implements Buckets {
  private readonly buckets = new Map<string, { tokens: number; at: number; capacity: number }>();

  async take(kind: BucketKind, id: string, capacity: number): Promise<number> {
    const key = `${kind}:${id}`;
    const now = Date.now();
    this.dropIdle(now);
    const bucket = this.buckets.get(key);
    let tokens = bucket ? refilled(bucket.tokens, now - bucket.at, capacity) : capacity;
    if (tokens < 1) return Math.ceil(((1 - tokens) * REFILL_MS) / capacity);
    tokens -= 1;
    this.buckets.delete(key);
    this.buckets.set(key, { tokens, at: now, capacity });
    if (this.buckets.size > MAX_MEMORY_BUCKETS) this.buckets.delete(this.buckets.keys().next().value!);
    return 0;
  }

  async close(): Promise<void> {
    this.buckets.clear();
  }

  /** Buckets kept now (tests). */
  get size(): number {
    return this.buckets.size;
  }

  private dropIdle(now: number) {
    for (let i = 0; i < 2; i++) {
      const first = this.buckets.entries().next();
      if (first.done) return;
      const [key, b] = first.value;
      if (refilled(b.tokens, now - b.at, b.capacity) < b.capacity) return;
      this.buckets.delete(key);
    }
  }
}

const refilled = (tokens: number, elapsedMs: number, capacity: number) => Math.min(capacity, tokens + (Math.max(0, elapsedMs) * capacity) / REFILL_MS);

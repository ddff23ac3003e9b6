import type { Leases } from '../../domain/leases.js';
import type { RedisClient } from './connection.js';

/**
 * Input: KEYS[1] the job's lease key; ARGV[1] the holder; ARGV[2] the lease's length in ms.
 * Output: 1 when ARGV[1] holds the lease now (taken because it was free, or renewed), 0 while another holder's lasts.
 */
const ACQUIRE = `
local current = redis.call('GET', KEYS[1])
if current and current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

/**
 * Input: KEYS[1] the job's lease key; ARGV[1] the holder.
 * Output: 1 when the lease was ARGV[1]'s and is gone, 0 when ARGV[1] did not hold it (left untouched).
 */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * Leases as keys `<prefix>{lease}:<job>` holding the holder's id, lapsing with the key's expiry (Redis's
 * clock). Compare-then-write runs in one script, so a lease that lapses meanwhile is never overwritten.
 */
export class RedisLeases implements Leases {
  constructor(
    private readonly client: RedisClient,
    private readonly prefix: string,
  ) {}

  async acquire(job: string, holder: string, ttlMs: number): Promise<boolean> {
    return (await this.client.eval(ACQUIRE, 1, this.key(job), holder, Math.ceil(ttlMs))) === 1;
  }

  async release(job: string, holder: string): Promise<void> {
    await this.client.eval(RELEASE, 1, this.key(job), holder);
  }

  private key(job: string): string {
    return `${this.prefix}{lease}:${job}`;
  }
}

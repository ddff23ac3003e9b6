import type { Logger } from 'pino';
import { closeRedis, openRedis, type RedisClient } from '../storage/redis/connection.js';
import type { RedisTarget } from '../storage/redis/target.js';
import type { BucketKind, Buckets } from './rate-limit.js';
import { luaScript, userTag } from './redis.js';

/**
 * Takes one token from a token bucket, refilled continuously, on the clock of Redis (TIME), so every
 * instance agrees however their clocks drift.
 *
 * KEYS[1]  the bucket: a hash { t = tokens left (may be fractional), at = when counted, ms }
 * ARGV[1]  capacity: tokens when full (the per-minute figure)
 * ARGV[2]  refill period, ms: from empty to full
 * Returns  0 when a token was taken, else the ms until one will be there (nothing is written then).
 * The key expires when the bucket would be full again: an idle caller leaves no key behind.
 */
const TAKE = `
local capacity = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 't', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
if now > at then tokens = math.min(capacity, tokens + (now - at) * capacity / period) end
if tokens < 1 then return math.ceil((1 - tokens) * period / capacity) end
tokens = tokens - 1
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) * period / capacity))
return 0`;

/** Bounds a check when Redis accepts connections but does not answer; the request then goes on unlimited. */
const COMMAND_TIMEOUT_MS = 500;

/**
 * Buckets in Redis, shared by every instance with the same REDIS_PREFIX: one key per caller,
 * `<prefix>rl:<u|p>:{<id>}` (one key per script, so any Redis Cluster slot will do). Its own
 * connection, without an offline queue on a single server: while Redis is away a check fails at once
 * instead of waiting (on a cluster, after at most COMMAND_TIMEOUT_MS).
 */
export class RedisBuckets implements Buckets {
  private readonly takeScript;

  private constructor(
    private readonly redis: RedisClient,
    private readonly o: { prefix: string; refillMs: number },
  ) {
    this.takeScript = luaScript(redis, 'smRateTake', TAKE, 1);
  }

  static async open(target: RedisTarget, o: { prefix: string; refillMs: number; logger: Logger }): Promise<RedisBuckets> {
    const redis = await openRedis(target, {
      logger: o.logger,
      name: 'stored-messages:rate-limit',
      tuning: {
        maxRetriesPerRequest: 0,
        commandTimeout: COMMAND_TIMEOUT_MS,
        retryStrategy: (times) => Math.min(times * 100, 2000),
        // ioredis gives a cluster's lazily opened node connections a queue; kept there, bounded by the timeout.
        ...(target.kind === 'single' ? { enableOfflineQueue: false } : {}),
      },
    });
    return new RedisBuckets(redis, { prefix: o.prefix, refillMs: o.refillMs });
  }

  async take(kind: BucketKind, id: string, capacity: number): Promise<number> {
    return Number(await this.takeScript([`${this.o.prefix}rl:${kind}:${userTag(id)}`], [capacity, this.o.refillMs]));
  }

  close(): Promise<void> {
    return closeRedis(this.redis);
  }
}

import type { Logger } from 'pino';
import { closeRedis, openRedis, type RedisClient } from '../redis/connection.js';
import { userTag } from '../redis/keys.js';
import { LuaScripts } from '../redis/scripts.js';
import type { RedisTarget } from '../redis/target.js';
import type { BucketKind, Buckets } from './rate-limit.js';
import { LUA_DIR } from './redis.js';

/** A bucket's key names its kind in full. */
const KIND_NAMES: Record<BucketKind, string> = { u: 'user', p: 'producer' };

/**
 * Buckets in Redis, shared by every instance with the same REDIS_PREFIX: one key per caller,
 * `<prefix>{user:<id>}:rate-limit:<user|producer>` (rate-take.lua). Its own connection (role
 * 'rate-limit'): while Redis is away a check fails fast, and the request goes on unlimited.
 */
export class RedisBuckets implements Buckets {
  private readonly scripts;

  private constructor(
    private readonly redis: RedisClient,
    private readonly o: { prefix: string; refillMs: number },
  ) {
    this.scripts = new LuaScripts(redis, 'rate-limit', { dir: LUA_DIR, scripts: { take: 'rate-take.lua' } });
  }

  static async open(target: RedisTarget, o: { prefix: string; refillMs: number; logger: Logger }): Promise<RedisBuckets> {
    const redis = await openRedis(target, { logger: o.logger, name: 'stored-messages:rate-limit', role: 'rate-limit' });
    return new RedisBuckets(redis, { prefix: o.prefix, refillMs: o.refillMs });
  }

  async take(kind: BucketKind, id: string, capacity: number): Promise<number> {
    return Number(await this.scripts.run('take', [`${this.o.prefix}${userTag(id)}:rate-limit:${KIND_NAMES[kind]}`], [capacity, this.o.refillMs]));
  }

  close(): Promise<void> {
    return closeRedis(this.redis);
  }
}

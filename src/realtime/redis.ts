import { openRedis, type RedisClient } from '../storage/redis/connection.js';
import type { RedisTarget } from '../storage/redis/target.js';
import type { Logger } from 'pino';

export { closeRedis, type RedisClient } from '../storage/redis/connection.js';

/**
 * A live-delivery connection (commands, or the pub/sub subscriber): ioredis' default resend after a
 * reconnection, fewer retries per command and a faster reconnect backoff than storage's connection.
 * Like every connection openRedis makes, it does not auto-pipeline (see there).
 */
export function connectRedis(target: RedisTarget, o: { logger: Logger; name: string }): Promise<RedisClient> {
  return openRedis(target, { ...o, tuning: { maxRetriesPerRequest: 2, retryStrategy: (times: number) => Math.min(times * 100, 2000) } });
}

/**
 * A user id as it appears inside a key, wrapped in a hash tag so all of one user's keys live in one
 * Redis Cluster slot (their Lua scripts touch one slot). `{`, `}` and `%` are escaped so an id can
 * neither break the tag nor collide with another id.
 */
export const userTag = (userId: string) => `{${userId.replace(/[%{}]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}}`;

/** The keys and channels of live delivery, all under REDIS_PREFIX. */
export function redisNames(prefix: string) {
  return {
    userLog: (userId: string) => `${prefix}u:${userTag(userId)}:events`,
    flash: (userId: string) => `${prefix}u:${userTag(userId)}:flash`,
    broadcastLog: `${prefix}b:events`,
    userChannel: (userId: string) => `${prefix}live:u:${userId}`,
    userChannelPrefix: `${prefix}live:u:`,
    broadcastChannel: `${prefix}live:b`,
  };
}

/**
 * A Lua script as a typed function; ioredis runs it with EVALSHA and falls back to EVAL once.
 * Without `numberOfKeys`, each call passes as many keys as it likes.
 */
export function luaScript(redis: RedisClient, name: string, lua: string, numberOfKeys?: number) {
  redis.defineCommand(name, numberOfKeys === undefined ? { lua } : { lua, numberOfKeys });
  const run = (...a: (string | number)[]) => (redis as unknown as Record<string, (...a: (string | number)[]) => Promise<unknown>>)[name](...a);
  return (keys: string[], args: (string | number)[]) => (numberOfKeys === undefined ? run(keys.length, ...keys, ...args) : run(...keys, ...args));
}

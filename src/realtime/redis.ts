import type { Logger } from 'pino';
import { openRedis, type RedisClient } from '../redis/connection.js';
import { userTag } from '../redis/keys.js';
import type { RedisTarget } from '../redis/target.js';

export { closeRedis, type RedisClient } from '../redis/connection.js';

/** A live-delivery connection (commands, or the pub/sub subscriber). */
export function connectRedis(target: RedisTarget, o: { logger: Logger; name: string }): Promise<RedisClient> {
  return openRedis(target, { ...o, role: 'live' });
}

/** The folder of live delivery's Lua scripts. */
export const LUA_DIR = new URL('./lua/', import.meta.url);

/** The keys and channels of live delivery, all under REDIS_PREFIX; a user's keys in their slot (userTag). */
export function redisNames(prefix: string) {
  return {
    userLog: (userId: string) => `${prefix}${userTag(userId)}:events`,
    flash: (userId: string) => `${prefix}${userTag(userId)}:flash`,
    broadcastLog: `${prefix}broadcast-events`,
    userChannel: (userId: string) => `${prefix}live:u:${userId}`,
    userChannelPrefix: `${prefix}live:u:`,
    broadcastChannel: `${prefix}live:b`,
  };
}

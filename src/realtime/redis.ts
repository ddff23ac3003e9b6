import { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisTarget } from '../storage/redis/target.js';

/** One server or a Redis Cluster: every key a script touches is in one slot (see `userTag`). */
export type RedisClient = Redis | Cluster;

const CONNECT_TIMEOUT_MS = 10_000;
const ERROR_LOG_INTERVAL_MS = 10_000;

/**
 * One ioredis connection (to a server, or a Redis Cluster), connected before it is returned (a server
 * that cannot reach Redis at start fails to start, with a message naming Redis). Afterwards ioredis
 * reconnects by itself; commands issued during an outage fail after a couple of reconnection attempts
 * instead of queueing forever, and connection errors are logged (at most one line per 10 s) rather
 * than crashing the process.
 */
export async function connectRedis(target: RedisTarget, o: { logger: Logger; name: string }): Promise<RedisClient> {
  const options = { lazyConnect: true, connectionName: o.name, maxRetriesPerRequest: 2, retryStrategy: (times: number) => Math.min(times * 100, 2000) };
  const redis: RedisClient =
    target.kind === 'single'
      ? new Redis(target.url, options)
      : new Cluster(target.nodes, { lazyConnect: true, scaleReads: 'master', redisOptions: { ...options, username: target.username, password: target.password } });
  let lastLog = 0;
  let suppressed = 0;
  redis.on('error', (err) => {
    const now = Date.now();
    if (now - lastLog < ERROR_LOG_INTERVAL_MS) {
      suppressed++;
      return;
    }
    o.logger.error({ err, connection: o.name, suppressed }, 'redis connection error');
    lastLog = now;
    suppressed = 0;
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
      }),
    ]);
  } catch (err) {
    redis.disconnect();
    const where = target.kind === 'single' ? redactUrl(target.url) : `cluster ${target.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
    throw new Error(`Redis is not reachable at ${where}: ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
  return redis;
}

/** Closes politely (pending replies first), or drops the connection when Redis is not answering. */
export async function closeRedis(redis: RedisClient): Promise<void> {
  if (redis.status === 'end') return;
  try {
    await Promise.race([redis.quit(), new Promise((_, reject) => setTimeout(() => reject(new Error('quit timed out')), 1000).unref())]);
  } catch {
    redis.disconnect();
  }
}

const redactUrl = (url: string) => url.replace(/\/\/[^@/]*@/, '//***@');

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

/** A Lua script as a typed function; ioredis runs it with EVALSHA and falls back to EVAL once. */
export function luaScript(redis: RedisClient, name: string, lua: string, numberOfKeys: number) {
  redis.defineCommand(name, { lua, numberOfKeys });
  return (keys: string[], args: (string | number)[]) =>
    (redis as unknown as Record<string, (...a: (string | number)[]) => Promise<unknown>>)[name](...keys, ...args);
}

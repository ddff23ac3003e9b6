import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Signals } from '../domain/signals.js';
import type { FlashStore } from '../domain/flash-store.js';
import type { LiveReads } from '../domain/live.js';
import { MemoryFlashStore } from './flash.js';
import { FeedHub } from './live.js';
import type { EventTransport } from './log.js';
import { MemoryTransport } from './memory-transport.js';
import { resolveRedisTarget } from '../redis/target.js';
import { closeRedis, connectRedis } from './redis.js';
import { RedisFlashStore } from './redis-flash.js';
import { RedisTransport } from './redis-transport.js';

export interface Realtime {
  flash: FlashStore;
  /** Subscriptions (messageAdded, inboxEvents) of this process. */
  live: FeedHub;
  /** Throws when Redis (if configured) does not answer: part of GET /ready. */
  ping(): Promise<void>;
  /** Ends every subscription (SSE streams complete, sockets can close); idempotent. */
  endSubscriptions(): Promise<void>;
  /** Ends subscriptions, then closes the Redis connections. Idempotent. */
  close(): Promise<void>;
}

/**
 * Live delivery and flash messages: in-process without REDIS_URL; with it (or REDIS_CLUSTER_NODES),
 * through Redis (a command connection for logs, flash lists and publishing, and a separate subscriber
 * connection), so several server processes behave as one. Fails at start when Redis is unreachable.
 */
export async function createRealtime(
  config: Config,
  o: { logger: Logger; signals: Signals; reads: LiveReads; onLiveEventLag?: (ms: number) => void },
): Promise<Realtime> {
  const limits = { keep: config.eventsKeep, ttlSeconds: config.eventsTtlSeconds };
  let flash: FlashStore;
  let transport: EventTransport;
  let closeConnections = async () => {};

  const target = resolveRedisTarget(config.redisUrl, config.redisClusterNodes);
  if (target) {
    const commands = await connectRedis(target, { logger: o.logger, name: 'stored-messages:commands' });
    let subscriber;
    try {
      subscriber = await connectRedis(target, { logger: o.logger, name: 'stored-messages:subscriber' });
    } catch (err) {
      await closeRedis(commands);
      throw err;
    }
    const redisTransport = new RedisTransport(commands, subscriber, { prefix: config.redisPrefix, limits, logger: o.logger, cluster: target.kind === 'cluster' });
    closeConnections = async () => {
      await Promise.all([closeRedis(subscriber), closeRedis(commands)]);
    };
    try {
      await redisTransport.start();
    } catch (err) {
      await closeConnections();
      throw err;
    }
    transport = redisTransport;
    flash = new RedisFlashStore(commands, { prefix: config.redisPrefix, max: config.flashMax, ttlSeconds: config.flashTtlSeconds });
  } else {
    transport = new MemoryTransport(limits);
    flash = new MemoryFlashStore({ max: config.flashMax, ttlSeconds: config.flashTtlSeconds });
  }

  const live = new FeedHub(transport, { logger: o.logger, reads: o.reads, keep: config.eventsKeep, ttlSeconds: config.eventsTtlSeconds, onLiveEventLag: o.onLiveEventLag });
  live.listen(o.signals);

  let closing: Promise<void> | null = null;
  return {
    flash,
    live,
    ping: () => transport.ping(),
    endSubscriptions: () => live.close(),
    close: () =>
      (closing ??= (async () => {
        await live.close();
        await transport.close();
        await flash.close();
        await closeConnections();
      })()),
  };
}

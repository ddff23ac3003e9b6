import type { Logger } from 'pino';
import type { Leases } from '../../domain/leases.js';
import type { MessageStore } from '../../domain/message-store.js';
import { connectRedis } from './connection.js';
import { RedisContext } from './context.js';
import { recoverJournal } from './journal.js';
import { RedisLeases } from './leases.js';
import { RedisMessageStore } from './store.js';
import type { RedisTarget } from './target.js';

export { resolveRedisTarget } from './target.js';

/**
 * Opens the Redis store: connects (failing when Redis does not answer) and completes the sends a
 * previous process left midway (see send.ts). Its `leases` share the connection. close() quits the connection.
 */
export async function openRedisStore(target: RedisTarget, o: { prefix: string; logger: Logger }): Promise<MessageStore & { leases: Leases }> {
  const { client, cluster } = await connectRedis(target, o.logger);
  try {
    const ctx = new RedisContext(client, cluster, o.prefix);
    await recoverJournal(ctx, 1000).catch((err) => o.logger.warn({ err }, 'could not complete interrupted sends yet; the cleanup will retry'));
    return Object.assign(new RedisMessageStore(ctx), { leases: new RedisLeases(client, o.prefix) });
  } catch (err) {
    client.disconnect();
    throw err;
  }
}

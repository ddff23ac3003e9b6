import type { Logger } from 'pino';
import type { Leases } from '../../domain/leases.js';
import type { MessageStore } from '../../domain/message-store.js';
import { openRedis } from '../../redis/connection.js';
import type { RedisTarget } from '../../redis/target.js';
import { RedisContext } from './context.js';
import { recoverJournal, type JournalHooks } from './journal.js';
import { RedisLeases } from './leases.js';
import { RedisMessageStore } from './store.js';

export { resolveRedisTarget } from '../../redis/target.js';

/**
 * Opens the Redis store: connects (failing when Redis does not answer) and completes the sends a
 * previous process left midway (see send.ts). Its `leases` share the connection. close() quits the connection.
 */
export async function openRedisStore(target: RedisTarget, o: { prefix: string; logger: Logger; journalHooks?: JournalHooks; onSendBatch?: (size: number) => void }): Promise<MessageStore & { leases: Leases }> {
  const client = await openRedis(target, { logger: o.logger, name: 'stored-messages:storage', role: 'storage' });
  try {
    const ctx = new RedisContext(client, target.kind === 'cluster', o.prefix);
    await recoverJournal(ctx, 1000).catch((err) => o.logger.warn({ err }, 'could not complete interrupted sends yet; the cleanup will retry'));
    return Object.assign(new RedisMessageStore(ctx, { journalHooks: o.journalHooks, onSendBatch: o.onSendBatch }), { leases: new RedisLeases(client, ctx.keys) });
  } catch (err) {
    client.disconnect();
    throw err;
  }
}

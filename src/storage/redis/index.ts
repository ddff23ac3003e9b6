import type { Logger } from 'pino';
import type { Leases } from '../../domain/leases.js';
import type { MessageStore } from '../../domain/message-store.js';
import type { WebhookOutbox, WebhookSignals } from '../../domain/webhooks.js';
import { openRedis } from '../../redis/connection.js';
import type { RedisTarget } from '../../redis/target.js';
import { RedisContext } from './context.js';
import { recoverJournal, type JournalHooks } from './journal.js';
import { RedisLeases } from './leases.js';
import { RedisWebhookOutbox } from './outbox.js';
import { RedisMessageStore } from './store.js';

export { resolveRedisTarget } from '../../redis/target.js';

export interface RedisStoreOptions {
  prefix: string;
  logger: Logger;
  journalHooks?: JournalHooks;
  onSendBatch?: (size: number) => void;
  /** The signals each change writes to the webhook outbox (outbox.ts); null or absent: none, no key or work. */
  webhookSignals?: WebhookSignals;
}

/**
 * Opens the Redis store: connects (failing when Redis does not answer) and completes the sends a
 * previous process left midway (see send.ts). Its `leases` and `webhooks` share the connection. close()
 * quits the connection.
 */
export async function openRedisStore(target: RedisTarget, o: RedisStoreOptions): Promise<MessageStore & { leases: Leases; webhooks: WebhookOutbox }> {
  const client = await openRedis(target, { logger: o.logger, name: 'stored-messages:storage', role: 'storage' });
  try {
    const wanted = o.webhookSignals ?? null;
    const ctx = new RedisContext(client, target.kind === 'cluster', o.prefix, { webhooks: wanted !== null });
    await recoverJournal(ctx, 1000).catch((err) => o.logger.warn({ err }, 'could not complete interrupted sends yet; the cleanup will retry'));
    const store = new RedisMessageStore(ctx, { journalHooks: o.journalHooks, onSendBatch: o.onSendBatch });
    return Object.assign(store, { leases: new RedisLeases(client, ctx.keys), webhooks: new RedisWebhookOutbox(ctx, wanted ?? new Set()) });
  } catch (err) {
    client.disconnect();
    throw err;
  }
}

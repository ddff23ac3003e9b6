import pino from 'pino';
import type { MessageStore } from '../../src/domain/message-store.js';
import { openRedis } from '../../src/redis/connection.js';
import { resolveRedisTarget } from '../../src/redis/target.js';
import { RedisContext } from '../../src/storage/redis/context.js';
import { openRedisStore } from '../../src/storage/redis/index.js';
import type { JournalHooks } from '../../src/storage/redis/journal.js';
import { REDIS_URL } from '../env.js';

/**
 * Helpers for the Redis store's interrupted-send tests: they drive the real send code and stop it
 * where a process could die (JournalHooks), then inspect keys and complete the journal as recovery does.
 */
const logger = pino({ level: 'silent' });

/** Thrown by a hook: the send stops there, as if its process had died. */
export class Died extends Error {
  constructor() {
    super('the process died');
  }
}

/** Another process's store on the same prefix (url: a redis:// or redis+cluster:// URL), whose journalled sends stop where `hooks` say. */
export function storeWithHooks(prefix: string, hooks: JournalHooks, url = REDIS_URL): Promise<MessageStore> {
  return openRedisStore(resolveRedisTarget(url, null)!, { prefix, logger, journalHooks: hooks });
}

/** A context on the prefix, to read keys and complete journal entries; disconnect its client afterwards. */
export async function contextOn(prefix: string, url = REDIS_URL): Promise<RedisContext> {
  const target = resolveRedisTarget(url, null)!;
  return new RedisContext(await openRedis(target, { logger, name: 'test', role: 'storage' }), target.kind === 'cluster', prefix);
}

/** A promise and its resolve, for a hook that holds a send until the test lets it go. */
export function gate(): { wait: Promise<void>; open: () => void } {
  let open = () => {};
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}

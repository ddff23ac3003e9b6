import { reviveMessage, type MessageRecord } from '../domain/message.js';
import type { FlashStore } from '../domain/flash-store.js';
import { LuaScripts } from '../redis/scripts.js';
import { LUA_DIR, redisNames, type RedisClient } from './redis.js';

/**
 * Flash messages in Redis, so every server process sees the same pending flash messages: one list
 * per user (under REDIS_PREFIX, in the user's hash-tag slot), at most `max` entries (the oldest goes),
 * each for `ttlSeconds`; every operation is one Lua script, so concurrent processes cannot interleave.
 * Expired entries go when the list is next touched, and the whole key expires with its newest entry,
 * so `sweep` has nothing to do.
 */
export class RedisFlashStore implements FlashStore {
  private readonly names;
  private readonly scripts;

  constructor(
    redis: RedisClient,
    private readonly o: { prefix: string; max: number; ttlSeconds: number },
  ) {
    this.names = redisNames(o.prefix);
    this.scripts = new LuaScripts(redis, 'flash', {
      dir: LUA_DIR,
      lib: ['flash-lib.lua'],
      scripts: { push: 'flash-push.lua', list: 'flash-list.lua', remove: 'flash-remove.lua' },
    });
  }

  async push(userId: string, message: MessageRecord): Promise<void> {
    await this.scripts.run('push', [this.names.flash(userId)], [this.o.ttlSeconds * 1000, this.o.max, message.id, JSON.stringify(message)]);
  }

  async list(userId: string): Promise<MessageRecord[]> {
    const entries = (await this.scripts.run('list', [this.names.flash(userId)])) as string[];
    return entries.map((entry) => {
      const json = entry.slice(entry.indexOf('|', entry.indexOf('|') + 1) + 1);
      return reviveMessage(JSON.parse(json));
    });
  }

  async remove(userId: string, ids: readonly string[]): Promise<string[]> {
    if (!ids.length) return [];
    return (await this.scripts.run('remove', [this.names.flash(userId)], ids)) as string[];
  }

  async sweep(): Promise<void> {}

  /** The connection belongs to createRealtime, which closes it. */
  async close(): Promise<void> {}
}

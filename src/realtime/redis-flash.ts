import { reviveMessage, type MessageRecord } from '../domain/message.js';
import type { FlashStore } from '../domain/flash-store.js';
import { luaScript, redisNames, type RedisClient } from './redis.js';

// Each list element is "<expires at, ms>|<message id>|<message JSON>", oldest first. Scripts read the
// clock of Redis (TIME), so every process agrees on what has expired.
const NOW = `local t = redis.call('TIME'); local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;
const DROP_EXPIRED = `
while true do
  local head = redis.call('LINDEX', KEYS[1], 0)
  if not head then break end
  local exp = tonumber(string.match(head, '^(%d+)|'))
  if exp and exp > now then break end
  redis.call('LPOP', KEYS[1])
end`;

/** KEYS[1] = list; ARGV = ttl ms, max, id, JSON. Appends, drops expired and overflowing entries, refreshes the key's TTL. */
const PUSH = `${NOW}
${DROP_EXPIRED}
redis.call('RPUSH', KEYS[1], string.format('%d', now + tonumber(ARGV[1])) .. '|' .. ARGV[3] .. '|' .. ARGV[4])
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1`;

/** KEYS[1] = list. The live entries, oldest first. */
const LIST = `${NOW}
${DROP_EXPIRED}
return redis.call('LRANGE', KEYS[1], 0, -1)`;

/** KEYS[1] = list; ARGV = ids. Removes exactly those, returns the ids that were there. */
const REMOVE = `${NOW}
${DROP_EXPIRED}
local wanted = {}
for i = 1, #ARGV do wanted[ARGV[i]] = true end
local removed = {}
for _, entry in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local id = string.match(entry, '^%d+|([^|]*)|')
  if id and wanted[id] then
    redis.call('LREM', KEYS[1], 1, entry)
    table.insert(removed, id)
  end
end
return removed`;

/**
 * Flash messages in Redis, so every server process sees the same pending flash messages: one list
 * per user (under REDIS_PREFIX, in the user's hash-tag slot), at most `max` entries (the oldest goes),
 * each for `ttlSeconds`; every operation is one Lua script, so concurrent processes cannot interleave.
 * Expired entries go when the list is next touched, and the whole key expires with its newest entry,
 * so `sweep` has nothing to do.
 */
export class RedisFlashStore implements FlashStore {
  private readonly names;
  private readonly pushScript;
  private readonly listScript;
  private readonly removeScript;

  constructor(
    redis: RedisClient,
    private readonly o: { prefix: string; max: number; ttlSeconds: number },
  ) {
    this.names = redisNames(o.prefix);
    this.pushScript = luaScript(redis, 'smFlashPush', PUSH, 1);
    this.listScript = luaScript(redis, 'smFlashList', LIST, 1);
    this.removeScript = luaScript(redis, 'smFlashRemove', REMOVE, 1);
  }

  async push(userId: string, message: MessageRecord): Promise<void> {
    await this.pushScript([this.names.flash(userId)], [this.o.ttlSeconds * 1000, this.o.max, message.id, JSON.stringify(message)]);
  }

  async list(userId: string): Promise<MessageRecord[]> {
    const entries = (await this.listScript([this.names.flash(userId)], [])) as string[];
    return entries.map((entry) => {
      const json = entry.slice(entry.indexOf('|', entry.indexOf('|') + 1) + 1);
      return reviveMessage(JSON.parse(json));
    });
  }

  async remove(userId: string, ids: readonly string[]): Promise<string[]> {
    if (!ids.length) return [];
    return (await this.removeScript([this.names.flash(userId)], [...ids])) as string[];
  }

  async sweep(): Promise<void> {}

  /** The connection belongs to createRealtime, which closes it. */
  async close(): Promise<void> {}
}

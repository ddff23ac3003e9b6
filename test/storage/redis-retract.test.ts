import { beforeAll, describe, expect, it } from 'vitest';
import type { MessageStore } from '../../src/domain/message-store.js';
import type { RedisContext } from '../../src/storage/redis/context.js';
import { completeJournal } from '../../src/storage/redis/journal.js';
import { ATOMIC_SEND_MAX } from '../../src/storage/redis/send.js';
import { msg } from './contract.js';
import { Died, redisStoreSuite, storeWithHooks, uid } from './redis-helpers.js';

/**
 * Retraction on Redis (lua/lib/retract.lua) where the contract suite does not reach: a broadcast's
 * retraction writes no user's keys (each user's next script removes it), and a retracted journalled
 * send that a recovery completes afterwards reaches nobody.
 */
describe('Redis store: retraction', () => {
  const suite = redisStoreSuite();
  const { prefix } = suite;
  let store: MessageStore;
  let ctx: RedisContext;
  beforeAll(() => {
    [store, ctx] = [suite.store(), suite.ctx()];
  });

  it("retracts a broadcast in one global step: a user's delivery goes at their next script", async () => {
    const a = uid();
    await store.ensureUser(a);
    const b = await store.send(msg({ text: 'wrong' }), { everyone: true });
    expect(await store.counts(a)).toMatchObject({ total: 1, unread: 1 });
    const meta = ctx.keys.userKey(a, 'meta');
    expect(await ctx.client.hexists(meta, b.message.id)).toBe(1);

    expect((await store.retract(b.message.id))?.broadcast).toBe(true);
    // Nothing of the user's was written; their next script removes it before it reads.
    expect(await ctx.client.hexists(meta, b.message.id)).toBe(1);
    expect(await store.counts(a)).toMatchObject({ total: 0, unread: 0 });
    expect(await ctx.client.hexists(meta, b.message.id)).toBe(0);
    expect((await store.retractedViews(b.message.id, [a])).get(a)).toEqual({ had: true, wasUnread: true, unreadCount: 0, unseenCount: 0 });
  });

  it('a journalled send retracted midway is never delivered to the rest when recovery completes it', async () => {
    const users = Array.from({ length: ATOMIC_SEND_MAX + 50 }, () => uid()).sort();
    const [first, last] = [users[0], users[users.length - 1]];
    let id = '';
    const dying = await storeWithHooks(prefix, {
      beforeDelivery: ({ id: sent, users: chunk }) => {
        id = sent;
        if (!chunk.includes(first)) throw new Died();
      },
    });
    await expect(dying.send(msg({ text: 'interrupted' }), { userIds: users })).rejects.toThrow(Died);
    await dying.close();

    // Those of the first delivery chunk had it; the rest were never delivered.
    const had = (await store.retract(id))?.recipients?.map((x) => x.userId) ?? [];
    expect(had).toContain(first);
    expect(had).not.toContain(last);
    await completeJournal(ctx, id);
    for (const u of [first, last]) {
      expect(await store.get(u, id)).toBeNull();
      expect(await store.counts(u)).toMatchObject({ total: 0, unread: 0 });
    }
    expect(await store.retract(id)).toEqual({ recipientCount: 0, broadcast: false, recipients: [] });
  });
});

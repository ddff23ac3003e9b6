import { beforeAll, describe, expect, it } from 'vitest';
import type { MessageRecord, NewMessage } from '../../src/domain/message.js';
import type { ListQuery, MessageStore } from '../../src/domain/message-store.js';
import type { RedisContext } from '../../src/storage/redis/context.js';
import { ATOMIC_SEND_MAX } from '../../src/storage/redis/send.js';
import { msg } from './contract.js';
import { query } from './contract/fixture.js';
import { gate, openOn, redisStoreSuite, storeWithHooks, uid } from './redis-helpers.js';

/**
 * Categories and grouping on Redis (lua/lib/read-state.lua buckets, lua/lib/deliver.lua deliver_to),
 * where the contract suite does not reach: pages merged from several categories' indexes, sends
 * journalled in chunks, the layout kept for deliveries without a category, and the group index.
 */
describe('Redis store: categories and grouping', () => {
  const suite = redisStoreSuite();
  const { prefix } = suite;
  let store: MessageStore;
  let ctx: RedisContext;
  beforeAll(() => {
    [store, ctx] = [suite.store(), suite.ctx()];
  });

  const send = async (to: string[], over: Partial<NewMessage> = {}) => store.send(msg(over), { userIds: to });
  const later = () => new Date(Date.now() + 1000);

  /** Every id of a filter through pages of `limit`, in one direction, in newest-first order, with the last page's total. */
  async function paged(user: string, over: Partial<ListQuery>, direction: 'forward' | 'backward', limit: number) {
    const out: MessageRecord[] = [];
    let cursor: string | null = null;
    for (;;) {
      const page = await store.list(user, query({ ...over, limit, direction, cursor }));
      out.push(...(direction === 'forward' ? page.items : [...page.items].reverse()).map((i) => i.message));
      if (!(direction === 'forward' ? page.hasNextPage : page.hasPreviousPage)) {
        return { ids: (direction === 'forward' ? out : out.reverse()).map((m) => m.id), total: page.totalCount };
      }
      cursor = direction === 'forward' ? page.items[page.items.length - 1].cursor : page.items[0].cursor;
    }
  }

  it('pages the unread of several categories merged by id, both ways, under category and whole-inbox cut-offs', async () => {
    const a = uid();
    const cats = [null, 'billing', 'social', 'news'];
    const sent: { id: string; category: string | null; level: number }[] = [];
    for (let i = 0; i < 24; i++) {
      const [category, level] = [cats[(i * 7) % 4], i % 5 ? 20 : 40];
      sent.push({ id: (await send([a], { category, level, text: `m${i}` })).message.id, category, level });
    }
    await store.markAllRead(a, later(), 'billing');
    const billing = sent.filter((m) => m.category === 'billing').map((m) => m.id);
    await store.setRead(a, [billing[1]], false);
    await store.markAllSeen(a, later(), 'social');
    for (let i = 0; i < 4; i++) sent.push({ id: (await send([a], { category: cats[i], level: 20, text: `late${i}` })).message.id, category: cats[i], level: 20 });

    const newest = [...sent].reverse();
    const unread = newest.filter((m) => m.category !== 'billing' || m.id === billing[1] || !billing.includes(m.id));
    const loud = unread.filter((m) => m.level === 40).map((m) => m.id);
    for (const limit of [1, 3, 50]) {
      for (const direction of ['forward', 'backward'] as const) {
        expect(await paged(a, { unreadOnly: true }, direction, limit)).toEqual({ ids: unread.map((m) => m.id), total: unread.length });
        // Most of what each round fetches fails the filter: the walk goes on to later rounds.
        expect(await paged(a, { unreadOnly: true, filter: { levels: [40] } }, direction, limit)).toEqual({ ids: loud, total: loud.length });
      }
    }
    // Marked unread alone, billing[1] stays seen; the social ones up to the cut-off are seen.
    const seen = new Set([...billing, ...sent.slice(0, 24).filter((m) => m.category === 'social').map((m) => m.id)]);
    const unseen = newest.filter((m) => m.category !== null && !seen.has(m.id)).map((m) => m.id);
    expect(await paged(a, { filter: { seen: false, categories: ['news', 'social', 'billing'] } }, 'forward', 2)).toEqual({ ids: unseen, total: unseen.length });

    // The whole-inbox operation covers every category's deliveries, exactly once in the counts.
    expect(await store.markAllRead(a, later())).toMatchObject({ count: unread.length, unreadCount: 0 });
    expect(await paged(a, { unreadOnly: true }, 'forward', 2)).toEqual({ ids: [], total: 0 });
    for (const c of ['billing', 'social', 'news']) expect(await store.counts(a, c)).toMatchObject({ unread: 0, unseen: 0, total: 7 });
  });

  it(`applies preferences and grouping per recipient in a send journalled in chunks (more than ${ATOMIC_SEND_MAX} users)`, async () => {
    const users = Array.from({ length: ATOMIC_SEND_MAX + 50 }, () => uid());
    const off = users.filter((_, i) => i % 25 === 0);
    await Promise.all(off.map((u) => store.setPreference(u, 'news', false)));
    const first = await send(users, { category: 'news', groupKey: 'digest' });
    expect(first.recipientCount).toBe(users.length - off.length);
    expect(first.recipients?.map((r) => r.userId).sort()).toEqual(users.filter((u) => !off.includes(u)).sort());
    const second = await send(users, { category: 'news', groupKey: 'digest', critical: true });
    expect(second.recipientCount).toBe(users.length);
    for (const r of second.recipients ?? []) {
      const skipped = off.includes(r.userId);
      expect(r).toEqual({ userId: r.userId, unreadCount: 1, unseenCount: 1, groupCount: skipped ? 1 : 2, superseded: skipped ? null : first.message.id });
    }
    expect(await store.counts(users[1], 'news')).toMatchObject({ total: 2, unread: 1 });

    // A replay answers the recipients the first call reached.
    const key = { scope: 'producer:test', key: uid('k'), fingerprint: 'f' };
    const claimed = await store.send(msg({ category: 'news' }), { userIds: users }, key);
    expect(await store.send(msg({ category: 'news' }), { userIds: users }, key)).toMatchObject({ replayed: true, recipientCount: claimed.recipientCount });
    expect(claimed.recipientCount).toBe(users.length - off.length);
  });

  it('counts a group in id order when grouped sends journalled in chunks run at once', async () => {
    const users = Array.from({ length: ATOMIC_SEND_MAX + 1 }, () => uid());
    // Two processes' stores, so the sends' steps reach Redis on separate connections, interleaved.
    const twin = await openOn(prefix);
    const results = await Promise.all([store, twin, store, twin].map((s) => s.send(msg({ groupKey: 'race' }), { userIds: users })));
    await twin.close();
    const inIdOrder = [...results].sort((p, q) => Number(p.message.id) - Number(q.message.id));
    for (const user of [users[0], users[100], users[ATOMIC_SEND_MAX]]) {
      const mine = inIdOrder.map((r) => r.recipients?.find((x) => x.userId === user));
      expect(mine.map((r) => [r?.groupCount, r?.superseded])).toEqual(inIdOrder.map((_, i) => [i + 1, i ? inIdOrder[i - 1].message.id : null]));
    }
  });

  it('delivers a grouped message that arrives after a newer one of its group already read', async () => {
    const users = Array.from({ length: ATOMIC_SEND_MAX + 1 }, () => uid());
    const [reached, release] = [gate(), gate()];
    const held = await storeWithHooks(prefix, {
      beforeDelivery: async () => {
        reached.open();
        await release.wait;
      },
    });
    const older = held.send(msg({ groupKey: 'late' }), { userIds: users });
    await reached.wait;
    const newer = await send([users[0]], { groupKey: 'late' });
    release.open();
    const late = await older;
    await held.close();
    expect(Number(late.message.id)).toBeLessThan(Number(newer.message.id));
    expect(late.recipients?.find((r) => r.userId === users[0])).toMatchObject({ groupCount: 1, superseded: null, unreadCount: 1 });
    expect(await store.get(users[0], late.message.id)).toMatchObject({ groupKey: 'late', groupCount: 1, readAt: expect.any(Date) });
    expect(await store.get(users[0], newer.message.id)).toMatchObject({ groupCount: 1, readAt: null });
    expect((await send([users[0]], { groupKey: 'late' })).recipients?.[0]).toMatchObject({ groupCount: 2, superseded: newer.message.id });
  });

  it('writes a delivery without a category as before categories, so data from before them reads the same', async () => {
    const a = uid();
    const plain = (await send([a], { text: 'plain' })).message.id;
    const tagged = (await send([a], { category: 'billing', groupKey: 'k|with|bars' })).message.id;
    const meta = await ctx.client.hmget(ctx.keys.userKey(a, 'meta'), plain, tagged);
    expect(meta[0]?.split('|')).toHaveLength(4);
    expect(JSON.parse((await ctx.client.get(ctx.keys.body(plain)))!)).toHaveLength(7);
    // The category's own keys hold its delivery; the group key is only a digest in the user's keys.
    expect(meta[1]).toMatch(/^\d+\|\d+\|\d+\|\d*\|billing\|1\|[0-9a-f]{40}$/);
    const billing = (name: string) => ctx.client.zrange(`${prefix}{user:${a}}:c:billing:${name}`, 0, -1);
    expect(await billing('unread')).toEqual([tagged]);
    expect(await billing('deliveries')).toEqual([tagged]);
    expect(await ctx.client.zrange(ctx.keys.userKey(a, 'unread'), 0, -1)).toEqual([plain]);
    expect(await store.get(a, tagged)).toMatchObject({ category: 'billing', groupKey: 'k|with|bars', groupCount: 1 });
    await store.deleteMessages(a, [tagged]);
    expect([await billing('unread'), await billing('deliveries')]).toEqual([[], []]);
  });

  it('forgets a group with its newest delivery: a send after the deletion counts from 1', async () => {
    const a = uid();
    await send([a], { groupKey: 'g' });
    const second = (await send([a], { groupKey: 'g' })).message.id;
    const groups = ctx.keys.userKey(a, 'groups');
    expect(await ctx.client.hvals(groups)).toEqual([second]);
    await store.deleteMessages(a, [second]);
    expect(await ctx.client.exists(groups)).toBe(0);
    expect((await send([a], { groupKey: 'g' })).recipients?.[0]).toMatchObject({ groupCount: 1, superseded: null });
  });
});

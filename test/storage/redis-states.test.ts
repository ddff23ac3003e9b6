import { beforeAll, describe, expect, it } from 'vitest';
import type { InboxCounts, ListQuery, MessageStore } from '../../src/domain/message-store.js';
import type { RedisContext } from '../../src/storage/redis/context.js';
import { USER_KEYS } from '../../src/storage/redis/keys.js';
import { inMs, waitUntilPast } from '../support.js';
import { expiresSoon, msg } from './contract.js';
import { redisStoreSuite, uid } from './redis-helpers.js';

/**
 * The Redis store's inbox states (lua/lib/read-state.lua, lua/lib/change.lua) where the contract suite
 * cannot look: data written before the states existed, the indexes the "all" operations leave alone,
 * and what the cleanup and deletes leave behind.
 */
const HOUR = 3_600_000;
const query = (over: Partial<ListQuery> = {}): ListQuery => ({ unreadOnly: false, filter: {}, direction: 'forward', limit: 50, cursor: null, ...over });
const counts = (c: Partial<InboxCounts>): InboxCounts => ({ total: 0, unread: 0, unseen: 0, archived: 0, snoozed: 0, ...c });

/** The keys and state fields the inbox states added: what a user written by the earlier code lacks. */
const NEW_KEYS = USER_KEYS.slice(USER_KEYS.indexOf('unseen'));
const NEW_FIELDS = ['states', 'seen-upto', 'archived-upto', 'unseen', 'unarchived', 'snoozed'];

describe('Redis store: inbox states', () => {
  const suite = redisStoreSuite();
  const { prefix } = suite;
  let store: MessageStore;
  let ctx: RedisContext;
  beforeAll(() => {
    [store, ctx] = [suite.store(), suite.ctx()];
  });

  const send = async (to: string, over: Parameters<typeof msg>[0] = {}) => (await store.send(msg(over), { userIds: [to] })).message.id;
  const ids = async (user: string, over: Partial<ListQuery> = {}) => (await store.list(user, query(over))).items.map((i) => i.message.id);
  /** Which of the user's keys exist, by name. */
  const present = async (user: string) => {
    const names: string[] = [];
    for (const name of USER_KEYS) if (await ctx.client.exists(ctx.keys.userKey(user, name))) names.push(name);
    return names;
  };
  /** Leaves the user's keys as the code before the inbox states wrote them: the read keys only. */
  const writtenBefore = async (user: string) => {
    await ctx.client.del(...NEW_KEYS.map((name) => ctx.keys.userKey(user, name)));
    await ctx.client.hdel(ctx.keys.userKey(user, 'state'), ...NEW_FIELDS);
  };

  it('reads data written before the states existed: unseen unless read (seen when read), nothing archived or snoozed', async () => {
    const a = uid();
    const m: string[] = [];
    for (let i = 0; i < 6; i++) m.push(await send(a, { text: `m${i}` }));
    // The read state the earlier code kept: a mark-all-read (a watermark and a mark), one unread again
    // under it, one read on its own above it.
    await store.markAllRead(a, inMs(1000));
    const readAt = (await store.get(a, m[0]))!.readAt;
    await store.setRead(a, [m[2]], false);
    for (let i = 0; i < 3; i++) m.push(await send(a, { text: `late${i}` }));
    await store.setRead(a, [m[7]], true);
    await writtenBefore(a);
    expect(await present(a)).not.toContain('unseen');

    expect(await store.counts(a)).toEqual(counts({ total: 9, unread: 3, unseen: 3 }));
    expect(await store.get(a, m[0])).toMatchObject({ readAt, seenAt: readAt, archivedAt: null, snoozedUntil: null });
    const m7 = await store.get(a, m[7]);
    expect(m7?.seenAt).toEqual(m7?.readAt);
    expect(await ids(a, { filter: { seen: false } })).toEqual([m[8], m[6], m[2]]);
    expect(await ids(a, { filter: { archived: true } })).toEqual([]);
    expect(await present(a)).toEqual(expect.arrayContaining(['unseen', 'unseen-below', 'seen-at', 'seen-marks', 'unarchived']));

    // Every operation works on it from there, the counters and lists agreeing.
    expect(await store.markAllSeen(a, inMs(1000))).toEqual({ count: 3, counts: counts({ total: 9, unread: 3 }) });
    expect((await store.get(a, m[0]))?.seenAt).toEqual(readAt); // seen when read, not when marked seen
    expect(await store.archiveAll(a, inMs(1000), true)).toEqual({ count: 6, counts: counts({ total: 9, unread: 3, archived: 6 }) });
    expect(await ids(a, { filter: { archived: false } })).toEqual([m[8], m[6], m[2]]);
    await store.snooze(a, [m[2]], inMs(HOUR));
    expect((await store.setRead(a, [m[6]], true)).counts).toEqual(counts({ total: 8, unread: 1, archived: 6, snoozed: 1 }));
    expect(await store.list(a, query({ filter: { seen: true, archived: false }, limit: 0 }))).toMatchObject({ totalCount: 2 });
  });

  it('builds the new indexes once per user: a send to a user written before upgrades them too', async () => {
    const a = uid();
    const first = await send(a);
    await store.markAllRead(a, inMs(1000));
    const unread = await send(a);
    await writtenBefore(a);
    const sent = await store.send(msg({ text: 'after' }), { userIds: [a] });
    expect(sent.recipients).toEqual([{ userId: a, unreadCount: 2, unseenCount: 2, groupCount: 1, superseded: null }]);
    expect(await ids(a, { filter: { seen: false } })).toEqual([sent.message.id, unread]);
    expect(await store.counts(a)).toEqual(counts({ total: 3, unread: 2, unseen: 2 }));
    expect((await store.get(a, first))?.seenAt).toBeInstanceOf(Date);
  });

  it('archives and marks seen everything with one mark per call, whatever they cover, and leaves snoozed ones out', async () => {
    const a = uid();
    const m: string[] = [];
    for (let i = 0; i < 300; i += 100) m.push(...(await Promise.all(Array.from({ length: 100 }, () => send(a)))));
    await store.snooze(a, [m[10]], inMs(HOUR));
    expect(await store.archiveAll(a, inMs(1000), false)).toEqual({ count: 299, counts: counts({ total: 299, archived: 299, snoozed: 1 }) });
    for (const name of ['archived-at', 'read-at', 'seen-at'] as const) expect(await ctx.client.hlen(ctx.keys.userKey(a, name))).toBe(0);
    for (const name of ['archived-marks', 'read-marks', 'seen-marks'] as const) expect(await ctx.client.zcard(ctx.keys.userKey(a, name))).toBe(1);
    const snoozed = await store.get(a, m[10]);
    expect(snoozed).toMatchObject({ readAt: null, seenAt: null, archivedAt: null });
    // Unarchiving one under the watermark makes an exception of it alone; the mark still covers the rest.
    expect((await store.setArchived(a, [m[200]], false)).counts).toEqual(counts({ total: 299, archived: 298, snoozed: 1 }));
    expect(await ctx.client.zrange(ctx.keys.userKey(a, 'unarchived-below'), 0, -1)).toEqual([m[200]]);
    expect(await store.list(a, query({ filter: { archived: false } }))).toMatchObject({ totalCount: 1 });
  });

  it('pages of one state\'s index (unread, unseen, unarchived) answer every state as a read of each message does', async () => {
    const a = uid();
    const m: string[] = [];
    for (let i = 0; i < 8; i++) m.push(await send(a, { text: `m${i}` }));
    // States by watermark and one by one, on both sides of each watermark, so every lookup path is taken.
    await store.markAllSeen(a, inMs(1000));
    await store.setArchived(a, [m[1], m[6]], true);
    await store.markSeen(a, [m[7]]);
    await store.setRead(a, [m[0], m[5]], true);
    m.push(await send(a, { text: 'after' }));
    await store.setArchived(a, [m[8]], true);
    const exact = new Map(await Promise.all(m.map(async (id) => [id, await store.get(a, id)] as const)));
    for (const filter of [{ read: false }, { seen: false }, { archived: false }, { read: true }, {}]) {
      const page = await store.list(a, query({ filter, limit: 4 }));
      const next = await store.list(a, query({ filter, limit: 50, cursor: page.items.at(-1)?.cursor ?? null }));
      const items = [...page.items, ...next.items].map((i) => i.message);
      expect(items.length, JSON.stringify(filter)).toBe(page.totalCount);
      for (const got of items) expect(got, JSON.stringify(filter)).toEqual(exact.get(got.id));
    }
    // Not vacuous: unread ones seen by the watermark and one by one, unarchived ones read.
    const unread = (await store.list(a, query({ filter: { read: false } }))).items.map((i) => i.message);
    expect(unread.filter((x) => x.seenAt).map((x) => x.id)).toEqual(expect.arrayContaining([m[2], m[7]]));
    const unarchived = (await store.list(a, query({ filter: { archived: false } }))).items.map((i) => i.message);
    expect(unarchived.filter((x) => x.readAt).map((x) => x.id).sort()).toEqual([m[0], m[5]].sort());
  });

  it('wakes from the global index only users with something due, and drops a user once nothing is left to wake', async () => {
    const a = uid();
    const [m0, m1] = [await send(a), await send(a)];
    const [soon, later] = [inMs(HOUR), inMs(3 * HOUR)];
    await store.snooze(a, [m0], later);
    await store.snooze(a, [m1], soon);
    const score = () => ctx.client.zscore(ctx.keys.global.wakeDue, a);
    expect(Number(await score())).toBe(soon.getTime());
    expect((await store.wakeDue(inMs(2 * HOUR), 100)).filter((w) => w.userId === a).map((w) => w.messages.map((x) => x.id))).toEqual([[m1]]);
    expect(Number(await score())).toBe(later.getTime());
    await store.snooze(a, [m0], null);
    // Unsnoozed by hand: the index keeps its entry until the waker finds nothing and drops it.
    expect((await store.wakeDue(inMs(4 * HOUR), 100)).filter((w) => w.userId === a)).toEqual([]);
    expect(await score()).toBeNull();
    expect(await store.counts(a)).toEqual(counts({ total: 2, unread: 2, unseen: 2 }));
  });

  it('reclaims every state key of expired and deleted messages, whatever their states', async () => {
    const a = uid();
    const expiresAt = expiresSoon();
    const m: string[] = [];
    for (let i = 0; i < 8; i++) m.push(await send(a, { expiresAt }));
    await store.markAllSeen(a, inMs(1000));
    await store.archiveAll(a, inMs(1000), false);
    await store.setArchived(a, [m[1]], false);
    await store.setRead(a, [m[2]], false);
    await store.snooze(a, [m[3], m[4]], inMs(HOUR));
    await store.setArchived(a, [m[4]], true);
    const kept = await send(a, { expiresAt: null });
    await store.setArchived(a, [kept], true);
    await store.snooze(a, [kept], inMs(HOUR));
    expect((await store.deleteMessages(a, [kept, m[5]])).counts).toEqual(counts({ total: 5, unread: 1, archived: 3, snoozed: 2 }));

    await waitUntilPast(expiresAt);
    expect(await store.counts(a)).toEqual(counts({}));
    await store.cleanupExpired(1000);
    // The webhook stream keeps the changes' events until a dispatcher acknowledges them.
    expect(await present(a)).toEqual(['state', 'webhooks']);
    const state = await ctx.client.hgetall(ctx.keys.userKey(a, 'state'));
    for (const field of ['unread', 'unseen', 'unarchived', 'total', 'snoozed']) expect(state[field]).toBe('0');
    expect(await ctx.client.zscore(ctx.keys.global.wakeDue, a)).not.toBeNull(); // dropped by the next waker
    expect((await store.wakeDue(inMs(2 * HOUR), 100)).filter((w) => w.userId === a)).toEqual([]);
    expect(await ctx.client.zscore(ctx.keys.global.wakeDue, a)).toBeNull();
  });
});

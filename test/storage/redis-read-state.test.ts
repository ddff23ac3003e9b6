import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openStorage } from '../../src/storage/index.js';
import type { RedisContext } from '../../src/storage/redis/context.js';
import { completeJournal } from '../../src/storage/redis/journal.js';
import { ATOMIC_SEND_MAX } from '../../src/storage/redis/send.js';
import type { ListQuery, MessageStore } from '../../src/domain/message-store.js';
import { REDIS_URL } from '../env.js';
import { deleteRedisKeys } from '../harness.js';
import { msg } from './contract.js';
import { contextOn, Died, storeWithHooks } from './redis-helpers.js';

/**
 * The Redis store's read watermark (lua/lib/read-state.lua): mark-all-read raises a per-user watermark instead
 * of writing each message. What the contract suite cannot reach from the public surface alone: a
 * delivery completed late *below* the watermark, the unread exceptions under it, and the marks kept.
 */
const logger = pino({ level: 'silent' });
const uid = (p = 'u') => `${p}-${randomBytes(6).toString('hex')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const future = () => new Date(Date.now() + 1000);
const query = (over: Partial<ListQuery> = {}): ListQuery => ({ unreadOnly: false, filter: {}, direction: 'forward', limit: 20, cursor: null, ...over });

describe('Redis store: the read watermark', () => {
  const prefix = `smtest:${randomBytes(4).toString('hex')}:`;
  let store: MessageStore;
  let ctx: RedisContext;

  beforeAll(async () => {
    store = await openStorage(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', STORAGE_BACKEND: 'redis', REDIS_URL, REDIS_PREFIX: prefix }), { logger });
    ctx = await contextOn(prefix);
  });
  afterAll(async () => {
    await store?.close();
    ctx?.client.disconnect();
    await deleteRedisKeys(prefix);
  });

  const send = async (to: string[], text = 'hello') => (await store.send(msg({ text }), { userIds: to })).message.id;
  const ids = async (user: string, over: Partial<ListQuery> = {}) => (await store.list(user, query(over))).items.map((i) => i.message.id);
  const readAt = async (user: string, id: string) => (await store.get(user, id))?.readAt?.getTime() ?? null;
  const marks = (user: string) => ctx.client.zcard(ctx.keys.userKey(user, 'read-marks'));

  /** Every unread id through pages of one, in both directions, with their page info and totals. */
  async function unreadPaged(user: string, direction: 'forward' | 'backward') {
    const out: string[] = [];
    let cursor: string | null = null;
    for (;;) {
      const page = await store.list(user, query({ unreadOnly: true, limit: 1, direction, cursor }));
      const more = direction === 'forward' ? page.hasNextPage : page.hasPreviousPage;
      const back = direction === 'forward' ? page.hasPreviousPage : page.hasNextPage;
      expect(back).toBe(cursor !== null);
      out.push(...page.items.map((i) => i.message.id));
      if (!more) return { ids: direction === 'forward' ? out : out.reverse(), total: page.totalCount };
      cursor = page.items[0].cursor;
    }
  }

  it('keeps a send completed after a mark-all-read unread, although its id is below the watermark', async () => {
    const a = uid();
    // A journalled send (another process stops it before its deliveries) allocates its id first;
    // another message to a overtakes it.
    let late = '';
    const dying = await storeWithHooks(prefix, {
      beforeDelivery: ({ id }) => {
        late = id;
        throw new Died();
      },
    });
    const others = Array.from({ length: ATOMIC_SEND_MAX }, () => uid());
    await expect(dying.send(msg({ text: 'late' }), { userIds: [a, ...others] })).rejects.toThrow(Died);
    await dying.close();
    const early = await send([a], 'overtakes');
    expect(await store.markAllRead(a, future())).toMatchObject({ count: 1, unreadCount: 0 });
    const t1 = await readAt(a, early);

    const counts = await completeJournal(ctx, late);
    expect(counts.get(a)).toEqual({ unreadCount: 1, unseenCount: 1, groupCount: 1, superseded: null });
    const t = (await ctx.client.hget(ctx.keys.userKey(a, 'meta'), late))!.split('|')[2]; // its delivery time
    expect(await readAt(a, late)).toBeNull();
    expect(await readAt(a, early)).toBe(t1);
    expect(await store.unreadCount(a)).toBe(1);
    expect(await ids(a, { unreadOnly: true })).toEqual([late]);
    expect(await ids(a, { filter: { read: true } })).toEqual([early]);
    expect((await store.oldestUnread(a, 10)).map((x) => x.id)).toEqual([late]);
    expect((await store.list(a, query({ filter: { read: true, levels: [21] } }))).totalCount).toBe(1);

    // A mark-all-read up to the late one's delivery time reads it, although the watermark is above it.
    expect(await store.markAllRead(a, new Date(Number(t)))).toMatchObject({ count: 1, unreadCount: 0 });
    expect(await readAt(a, late)).toBeGreaterThanOrEqual(t1!);
    expect(await readAt(a, early)).toBe(t1);
    expect(await store.markAllRead(a, future())).toMatchObject({ count: 0, unreadCount: 0 });
  });

  it('lists unread messages under and above the watermark in one order, paging both ways', async () => {
    const a = uid();
    const m: string[] = [];
    for (let i = 0; i < 6; i++) m.push(await send([a], `m${i}`));
    expect(await store.markAllRead(a, future())).toMatchObject({ count: 6, unreadCount: 0 });
    const t1 = await readAt(a, m[0]);
    expect((await store.setRead(a, [m[3], m[1]], false)).changed.sort()).toEqual([m[1], m[3]].sort());
    await sleep(20);
    const until = new Date();
    await sleep(20);
    m.push(await send([a], 'm6'), await send([a], 'm7'));

    const unread = [m[7], m[6], m[3], m[1]];
    expect(await unreadPaged(a, 'forward')).toEqual({ ids: unread, total: 4 });
    expect(await unreadPaged(a, 'backward')).toEqual({ ids: unread, total: 4 });
    expect(await ids(a, { filter: { read: false, since: new Date(0) } })).toEqual(unread);
    expect(await ids(a, { filter: { read: true } })).toEqual([m[5], m[4], m[2], m[0]]);
    expect((await store.oldestUnread(a, 3)).map((x) => x.id)).toEqual([m[1], m[3], m[6]]);
    for (const i of [0, 2, 4, 5]) expect(await readAt(a, m[i])).toBe(t1);

    // Up to `until`: the two unread again under the watermark, not the two sent after it.
    expect(await store.markAllRead(a, until)).toMatchObject({ count: 2, unreadCount: 2 });
    expect(await readAt(a, m[1])).toBeGreaterThan(t1!);
    expect(await readAt(a, m[0])).toBe(t1);
    expect(await ids(a, { unreadOnly: true })).toEqual([m[7], m[6]]);
    expect(await store.markAllRead(a, future())).toMatchObject({ count: 2, unreadCount: 0 });
    expect(await readAt(a, m[0])).toBe(t1);
  });

  it('keeps a mark only while a message it read is left under it', async () => {
    const a = uid();
    const batches: string[][] = [];
    for (let round = 0; round < 3; round++) {
      batches.push([await send([a]), await send([a])]);
      expect((await store.markAllRead(a, future())).count).toBe(2);
      await sleep(5);
    }
    expect(await store.markAllRead(a, future())).toMatchObject({ count: 0, unreadCount: 0 });
    expect(await marks(a)).toBe(3); // a call that read nothing adds none
    const times = await Promise.all(batches.map((b) => readAt(a, b[0])));
    await store.deleteMessages(a, batches[0]);
    expect(await marks(a)).toBe(2);
    await store.setRead(a, [batches[2][0]], false);
    expect(await marks(a)).toBe(2);
    await store.setRead(a, [batches[2][1]], false);
    expect(await marks(a)).toBe(1);
    expect(await readAt(a, batches[1][0])).toBe(times[1]);
    expect(await readAt(a, batches[1][1])).toBe(times[1]);
    expect(await store.unreadCount(a)).toBe(2);
    expect(await ids(a, { unreadOnly: true })).toEqual([...batches[2]].reverse());
  });

  it('trims the unread and unseen indexes a large mark-all-read leaves behind in the cleanup, in bounded steps, changing no state', async () => {
    const a = uid();
    const sent: string[] = [];
    for (let i = 0; i < 1200; i += 100) sent.push(...(await Promise.all(Array.from({ length: 100 }, () => send([a])))));
    expect(await store.markAllRead(a, future())).toMatchObject({ count: 1200, unreadCount: 0 });
    const t1 = await readAt(a, sent[0]);
    const unread = await send([a], 'after');
    const n = ctx.keys.userKey(a, 'unread');
    const unseen = ctx.keys.userKey(a, 'unseen');
    // The call itself trims the first 1,000 of each and makes a due for the cleanup.
    expect(await ctx.client.zcard(n)).toBe(1 + 200);
    expect(await ctx.client.zcard(unseen)).toBe(1 + 200);
    expect(Number(await ctx.client.zscore(ctx.keys.global.usersDue, a))).toBeLessThanOrEqual(Date.now());

    const state = async () => ({
      unread: await store.unreadCount(a),
      unreadIds: await ids(a, { unreadOnly: true }),
      read: (await store.list(a, query({ filter: { read: true }, limit: 0 }))).totalCount,
      times: await Promise.all([sent[0], sent[1100], sent[1199], unread].map((id) => readAt(a, id))),
    });
    const before = await state();
    expect(before).toEqual({ unread: 1, unreadIds: [unread], read: 1200, times: [t1, t1, t1, null] });
    expect(await store.cleanupExpired(10)).toBe(0); // trims 10 × 10, reclaims nothing
    expect(await ctx.client.zcard(n)).toBe(1 + 100);
    expect(await state()).toEqual(before);
    await store.cleanupExpired(10);
    expect(await ctx.client.zcard(n)).toBe(1);
    expect(await ctx.client.zcard(unseen)).toBe(1 + 200);
    expect(await state()).toEqual(before);
    await store.cleanupExpired(10);
    await store.cleanupExpired(10);
    expect(await ctx.client.zcard(unseen)).toBe(1);
    expect(await state()).toEqual(before);
    // Nothing left to trim: the user is due again only at their earliest expiry.
    expect(Number(await ctx.client.zscore(ctx.keys.global.usersDue, a))).toBeGreaterThan(Date.now() + 86_400_000);
    expect((await store.setRead(a, [sent[1150]], false)).unreadCount).toBe(2);
    expect(await readAt(a, sent[1149])).toBe(t1);
  });
});

import { randomUUID } from 'node:crypto';
import { describe, expect } from 'vitest';
import type { MessageStore, WokenUser } from '../../../src/domain/message-store.js';
import { inMs, uid, waitUntilPast } from '../../support.js';
import { expiresSoon, ids, query, type StoreContract } from './fixture.js';

const HOUR = 3_600_000;

/**
 * Wakes everything due at `now`, `limit` at a time, until a call wakes nothing. The store is shared by the
 * suite: other tests' snoozes may wake here too, so callers look at their own users only.
 */
async function wakeAll(store: MessageStore, now: Date, limit = 1000): Promise<WokenUser[][]> {
  const calls: WokenUser[][] = [];
  for (;;) {
    const woken = await store.wakeDue(now, limit);
    if (woken.length === 0) return calls;
    calls.push(woken);
  }
}
const wokenOf = (calls: WokenUser[][], user: string) => calls.flat().filter((w) => w.userId === user);
const asleep = { readAt: null, seenAt: null, archivedAt: null, snoozedUntil: null };

/** Snoozing and waking up (section 8 of the contract). */
export function snoozeContract({ it, send, twin, expectCounts }: StoreContract): void {
  /** n messages for a fresh user, oldest first. */
  async function inbox(n: number) {
    const a = uid();
    const m: string[] = [];
    for (let i = 0; i < n; i++) m.push((await send([a], { text: `m${i}` })).message.id);
    return { a, m };
  }

  describe('snooze', () => {
    it('hides a snoozed message from lists, oldestUnread and every count but snoozed; get still returns it', async ({ store }) => {
      const { a, m } = await inbox(4);
      const others = (await send([uid()])).message.id;
      await store.markSeen(a, [m[1]]);
      await store.setRead(a, [m[2]], true);
      const until = inMs(HOUR);
      const r = await store.snooze(a, [m[2], m[0], others, m[1], 'abc'], until);
      expect(r.changed).toEqual([m[0], m[1], m[2]]);
      expect(r.messages.map((x) => [x.id, x.snoozedUntil])).toEqual([m[2], m[0], m[1]].map((id) => [id, until]));
      expect(r.notFound).toEqual([others, 'abc']);
      expect(r.counts).toEqual({ total: 1, unread: 1, unseen: 1, archived: 0, snoozed: 3 });
      expect(await store.get(a, m[1])).toMatchObject({ snoozedUntil: until, readAt: null, seenAt: r.messages[2].seenAt });
      expect(r.messages[2].seenAt).toBeInstanceOf(Date);

      expect(ids(await store.list(a, query()))).toEqual([m[3]]);
      expect(ids(await store.list(a, query({ unreadOnly: true })))).toEqual([m[3]]);
      expect(ids(await store.list(a, query({ filter: { snoozed: true } })))).toEqual([m[2], m[1], m[0]]);
      expect(ids(await store.list(a, query({ filter: { snoozed: true, read: false } })))).toEqual([m[1], m[0]]);
      expect(ids(await store.list(a, query({ filter: { snoozed: true, seen: false } })))).toEqual([m[0]]);
      expect((await store.oldestUnread(a, 10)).map((x) => x.id)).toEqual([m[3]]);

      const later = inMs(2 * HOUR);
      const again = await store.snooze(a, [m[0]], later);
      expect(again.changed).toEqual([m[0]]);
      expect(again.messages[0].snoozedUntil).toEqual(later);
      await expectCounts(a, { total: 1, unread: 1, unseen: 1, archived: 0, snoozed: 3 });
    });

    it('leaves snoozed messages as they were through markAllRead, markAllSeen and archiveAll', async ({ store }) => {
      const a = uid();
      const m = [(await send([a], { text: 'read by markAllRead' })).message.id];
      await store.markAllRead(a, new Date(Date.now() + 1000));
      for (const text of ['seen', 'unread']) m.push((await send([a], { text })).message.id);
      await store.markSeen(a, [m[1]]);
      const before = (await store.snooze(a, m, inMs(HOUR))).messages;
      expect(before[0].readAt).toBeInstanceOf(Date);
      const m3 = (await send([a], { text: 'awake' })).message.id;
      const all = new Date(Date.now() + 1000);
      expect(await store.markAllRead(a, all)).toEqual({ count: 1, unreadCount: 0, counts: { total: 1, unread: 0, unseen: 0, archived: 0, snoozed: 3 } });
      expect(await store.markAllSeen(a, all)).toMatchObject({ count: 0 });
      expect(await store.archiveAll(a, all, false)).toEqual({ count: 1, counts: { total: 1, unread: 0, unseen: 0, archived: 1, snoozed: 3 } });
      for (const [i, id] of m.entries()) expect(await store.get(a, id)).toEqual(before[i]);

      const woken = await store.snooze(a, m, null);
      expect(woken.changed).toEqual(m);
      for (const x of woken.messages) expect(x).toMatchObject(asleep);
      expect(ids(await store.list(a, query()))).toEqual([m3, m[2], m[1], m[0]]);
      await expectCounts(a, { total: 4, unread: 3, unseen: 3, archived: 1, snoozed: 0 });
    });

    it('wakes a message unread, unseen and unarchived in its place; the others under archiveAll stay as they were', async ({ store }) => {
      const { a, m } = await inbox(3);
      await store.archiveAll(a, new Date(Date.now() + 1000), false);
      const [x0, x2] = [await store.get(a, m[0]), await store.get(a, m[2])];
      await store.snooze(a, [m[1]], inMs(HOUR));
      const m3 = (await send([a], { text: 'm3' })).message.id;
      const others = (await send([uid()])).message.id;

      const r = await store.snooze(a, [m[1], m3, others], null);
      expect(r.changed).toEqual([m[1]]); // m3 was not snoozed: found, unchanged
      expect(r.messages.map((x) => x.id)).toEqual([m[1], m3]);
      expect(r.messages[0]).toMatchObject(asleep);
      expect(r.notFound).toEqual([others]);
      expect(r.counts).toEqual({ total: 4, unread: 2, unseen: 2, archived: 2, snoozed: 0 });
      expect([await store.get(a, m[0]), await store.get(a, m[2])]).toEqual([x0, x2]);
      expect(ids(await store.list(a, query()))).toEqual([m3, m[2], m[1], m[0]]);
      expect(ids(await store.list(a, query({ unreadOnly: true })))).toEqual([m3, m[1]]);
      expect((await store.oldestUnread(a, 10)).map((x) => x.id)).toEqual([m[1], m3]);

      await store.snooze(a, [m[2]], inMs(HOUR));
      const [mine] = wokenOf(await wakeAll(store, inMs(2 * HOUR)), a);
      expect(mine.messages.map((x) => x.id)).toEqual([m[2]]);
      expect(mine.messages[0]).toMatchObject(asleep);
      expect(mine.counts).toEqual({ total: 4, unread: 3, unseen: 3, archived: 1, snoozed: 0 });
      expect(await store.get(a, m[0])).toEqual(x0);
      await expectCounts(a, mine.counts);
    });

    it('wakes what is due, once, grouped by user with their counts after; nothing before its time', async ({ store }) => {
      const { a, m } = await inbox(3);
      const b = uid();
      const b0 = (await send([b])).message.id;
      await store.snooze(a, [m[0], m[1]], inMs(HOUR));
      await store.snooze(b, [b0], inMs(HOUR));
      await store.snooze(a, [m[2]], inMs(3 * HOUR));
      expect(await store.wakeDue(new Date(0), 10)).toEqual([]);

      const calls = await wakeAll(store, inMs(2 * HOUR));
      for (const woken of calls) expect(new Set(woken.map((w) => w.userId)).size).toBe(woken.length);
      const [wa, ...moreA] = wokenOf(calls, a);
      expect(moreA).toEqual([]);
      expect(wa.messages.map((x) => x.id)).toEqual([m[0], m[1]]);
      for (const x of wa.messages) expect(x).toMatchObject(asleep);
      expect(wa.counts).toEqual({ total: 2, unread: 2, unseen: 2, archived: 0, snoozed: 1 });
      expect(wokenOf(calls, b).map((w) => [w.messages.map((x) => x.id), w.counts])).toEqual([[[b0], { total: 1, unread: 1, unseen: 1, archived: 0, snoozed: 0 }]]);
      expect(wokenOf(await wakeAll(store, inMs(2 * HOUR)), a)).toEqual([]);
      await expectCounts(a, wa.counts);

      await store.snooze(a, [m[0], m[1]], inMs(HOUR));
      const one = await store.wakeDue(inMs(2 * HOUR), 1);
      expect(one.flatMap((w) => w.messages)).toHaveLength(1);
      const rest = await wakeAll(store, inMs(2 * HOUR), 1);
      expect([...one, ...rest.flat()].filter((w) => w.userId === a).flatMap((w) => w.messages.map((x) => x.id)).sort()).toEqual([m[0], m[1]].sort());
    });

    it('wakes several users in one call, lowering the watermarks of those whose message lies under one', async ({ store }) => {
      const under = await Promise.all([inbox(2), inbox(2)]);
      for (const { a } of under) await store.archiveAll(a, new Date(Date.now() + 1000), false);
      const fresh = await inbox(2);
      for (const { a, m } of [...under, fresh]) await store.snooze(a, [m[0]], inMs(HOUR));

      const calls = await wakeAll(store, inMs(2 * HOUR));
      expect(calls.some((woken) => [...under, fresh].every(({ a }) => woken.some((w) => w.userId === a)))).toBe(true);
      for (const { a, m } of under) {
        const [mine] = wokenOf(calls, a);
        expect(mine.messages.map((x) => x.id)).toEqual([m[0]]);
        expect(mine.messages[0]).toMatchObject(asleep);
        expect(mine.counts).toEqual({ total: 2, unread: 1, unseen: 1, archived: 1, snoozed: 0 });
        expect((await store.get(a, m[1]))?.archivedAt).not.toBeNull();
        await expectCounts(a, mine.counts);
      }
      expect(wokenOf(calls, fresh.a).map((w) => w.counts)).toEqual([{ total: 2, unread: 2, unseen: 2, archived: 0, snoozed: 0 }]);
    });

    it('wakes each due message exactly once when several instances wake at the same time', async ({ store }) => {
      const users = await Promise.all(Array.from({ length: 5 }, () => inbox(4)));
      for (const { a, m } of users) await store.snooze(a, m, inMs(HOUR));
      const now = inMs(2 * HOUR);
      const calls = (await Promise.all([store, twin(), store, twin()].map((s) => wakeAll(s, now, 3)))).flat();
      for (const woken of calls) expect(new Set(woken.map((w) => w.userId)).size).toBe(woken.length);
      for (const { a, m } of users) {
        const got = wokenOf(calls, a).flatMap((w) => w.messages.map((x) => x.id));
        expect(got.sort()).toEqual([...m].sort());
        await expectCounts(a, { total: 4, unread: 4, unseen: 4, archived: 0, snoozed: 0 });
      }
    });

    it('deletes snoozed messages; expired ones leave every count and are never woken, before the cleanup too', async ({ store }) => {
      const a = uid();
      const expiresAt = expiresSoon();
      const keep = (await send([a], { text: 'keep', expiresAt: null })).message.id;
      const snoozed = (await send([a], { text: 'snoozed' })).message.id;
      const soon = await Promise.all(['snoozed', 'archived', 'seen'].map(async (text) => (await send([a], { text, expiresAt })).message.id));
      await store.snooze(a, [snoozed, soon[0]], inMs(HOUR));
      await store.setArchived(a, [soon[1]], true);
      await store.markSeen(a, [soon[2]]);
      await expectCounts(a, { total: 3, unread: 2, unseen: 1, archived: 1, snoozed: 2 });
      expect((await store.deleteMessages(a, [snoozed])).counts).toEqual({ total: 3, unread: 2, unseen: 1, archived: 1, snoozed: 1 });

      await waitUntilPast(expiresAt);
      const after = { total: 1, unread: 1, unseen: 1, archived: 0, snoozed: 0 };
      await expectCounts(a, after);
      expect(wokenOf(await wakeAll(store, inMs(2 * HOUR)), a)).toEqual([]);
      const gone = (notFound: string[]) => ({ changed: [], messages: [], notFound, counts: after });
      expect(await store.snooze(a, [soon[0]], null)).toEqual(gone([soon[0]]));
      expect(await store.snooze(a, [soon[2]], inMs(HOUR))).toEqual(gone([soon[2]]));
      expect(await store.setArchived(a, [soon[1]], false)).toEqual(gone([soon[1]]));
      expect(await store.markSeen(a, soon)).toEqual(gone(soon));
      await store.cleanupExpired(1000);
      await expectCounts(a, after);
      expect(await store.get(a, keep)).toMatchObject({ id: keep });
    });

    it('treats ids that are not the caller\'s live messages as unknown in every state operation, changing nothing for their owner', async ({ store }) => {
      const [a, b] = [uid(), uid()];
      await store.ensureUser(a);
      const own = (await send([a])).message.id;
      const bm = (await send([b])).message.id;
      const foreign = [bm, randomUUID(), 'abc', '0', '987654321987654'];
      const before = await store.get(b, bm);
      const counts = { total: 1, unread: 1, unseen: 1, archived: 0, snoozed: 0 };
      const unchanged = { changed: [], messages: [], notFound: foreign, counts };
      expect(await store.markSeen(a, foreign)).toEqual(unchanged);
      expect(await store.setArchived(a, foreign, true)).toEqual(unchanged);
      expect(await store.setArchived(a, foreign, false)).toEqual(unchanged);
      expect(await store.snooze(a, foreign, inMs(HOUR))).toEqual(unchanged);
      expect(await store.snooze(a, foreign, null)).toEqual(unchanged);
      expect(await store.get(b, bm)).toEqual(before);
      await expectCounts(b, counts);
      await expectCounts(a, counts);
      expect(await store.get(a, own)).toMatchObject(asleep);

      const nobody = uid();
      const zero = { total: 0, unread: 0, unseen: 0, archived: 0, snoozed: 0 };
      expect(await store.markAllSeen(nobody, new Date())).toEqual({ count: 0, counts: zero });
      expect(await store.archiveAll(nobody, new Date(), true)).toEqual({ count: 0, counts: zero });
      expect(await store.counts(nobody)).toEqual(zero);
    });
  });
}

import { describe, expect } from 'vitest';
import { uid, waitUntilPast } from '../../support.js';
import { expiresSoon, ids, query, type StoreContract } from './fixture.js';

export function expiryContract({ it, send, broadcast, listAll, expectConsistent }: StoreContract): void {
  describe('expiry', () => {
    it('hides an expired message from everything at once; the cleanup reclaims it and counts stay exact', async ({ store }) => {
      const [a, b, idle] = [uid(), uid(), uid()];
      for (const u of [a, b, idle]) await store.ensureUser(u);
      const keep = await send([a], { text: 'keep', expiresAt: null });
      const keepRead = await send([a], { text: 'keep read' });
      await store.setRead(a, [keepRead.message.id], true);

      const expiresAt = expiresSoon();
      const soon = await send([a, b], { text: 'soon', expiresAt, level: 41 });
      const soonRead = await send([a], { text: 'soon read', expiresAt });
      await store.setRead(a, [soonRead.message.id], true);
      const soonBroadcast = await broadcast({ text: 'soon broadcast', expiresAt });
      // Before expiry: all visible (a has seen the broadcast; `idle` has not been back since).
      expect(await store.unreadCount(a)).toBe(3);
      expect((await store.list(a, query())).totalCount).toBe(5);

      await waitUntilPast(expiresAt);

      const gone = [soon.message.id, soonRead.message.id, soonBroadcast.message.id];
      for (const id of gone) {
        expect(await store.get(a, id)).toBeNull();
        expect(await store.get(b, id)).toBeNull();
        expect(await store.get(idle, id)).toBeNull();
      }
      const expectAfterExpiry = async () => {
        expect(await store.unreadCount(a)).toBe(1);
        expect(await store.unreadCount(b)).toBe(0);
        expect(await store.unreadCount(idle)).toBe(0);
        expect(ids(await store.list(a, query()))).toEqual([keepRead.message.id, keep.message.id]);
        expect((await store.list(a, query())).totalCount).toBe(2);
        expect((await store.list(a, query({ unreadOnly: true }))).totalCount).toBe(1);
        expect((await store.list(a, query({ filter: { levels: [41] } }))).totalCount).toBe(0);
        expect((await store.list(a, query({ filter: { read: true } }))).totalCount).toBe(1);
        expect((await store.list(b, query())).totalCount).toBe(0);
        expect((await store.list(idle, query())).items).toEqual([]);
        expect((await store.oldestUnread(a, 100)).map((m) => m.id)).toEqual([keep.message.id]);
        await expectConsistent(a);
        await expectConsistent(b);
        await expectConsistent(idle);
      };
      await expectAfterExpiry();
      // Writes do not see them either.
      expect((await store.setRead(a, [soon.message.id], true)).notFound).toEqual([soon.message.id]);
      expect((await store.setRead(a, [soonRead.message.id], false)).notFound).toEqual([soonRead.message.id]);
      expect((await store.deleteMessages(b, [soon.message.id])).notFound).toEqual([soon.message.id]);
      expect((await store.deleteMessages(idle, [soonBroadcast.message.id])).notFound).toEqual([soonBroadcast.message.id]);

      expect(await store.cleanupExpired(1000)).toBeGreaterThan(0);
      await expectAfterExpiry();
      expect(await store.cleanupExpired(1000)).toBe(0);

      // Counters stay exact for what comes next.
      const next = await send([a, b], { text: 'after cleanup' });
      const reported = Object.fromEntries((next.recipients ?? []).map((r) => [r.userId, r.unreadCount]));
      expect(reported).toEqual({ [a]: 2, [b]: 1 });
      expect(await store.markAllRead(a, new Date(Date.now() + 1000))).toMatchObject({ count: 2, unreadCount: 0 });
      await expectConsistent(a);
    });

    it('pages past many expired deliveries the cleanup has not reclaimed yet (more than a read checks at once)', async ({ store }) => {
      // Redis lists skip up to 256 expired deliveries by id and read each one's expiry beyond that:
      // 300 exercise the second way, interleaved with live ones at both ends and in the middle.
      const a = uid();
      const expiresAt = expiresSoon();
      const live: string[] = [];
      live.push((await send([a], { text: 'live oldest', expiresAt: null })).message.id);
      for (let i = 0; i < 300; i++) {
        await send([a], { text: `soon ${i}`, expiresAt });
        if (i === 150) live.push((await send([a], { text: 'live middle', expiresAt: null })).message.id);
      }
      const readOne = (await send([a], { text: 'live read', expiresAt: null })).message.id;
      await store.setRead(a, [readOne], true);
      live.push(readOne, (await send([a], { text: 'live newest', expiresAt: null })).message.id);
      await waitUntilPast(expiresAt);

      const newestFirst = [...live].reverse();
      expect((await listAll(a, { limit: 2 })).map((m) => m.id)).toEqual(newestFirst);
      expect((await listAll(a, { limit: 2, unreadOnly: true })).map((m) => m.id)).toEqual(newestFirst.filter((id) => id !== readOne));
      expect((await listAll(a, { filter: { read: true } })).map((m) => m.id)).toEqual([readOne]);
      const first = await store.list(a, query({ limit: 2 }));
      expect([first.totalCount, first.hasNextPage, first.hasPreviousPage]).toEqual([4, true, false]);
      const back = await store.list(a, query({ direction: 'backward', limit: 2, cursor: live[0] }));
      expect(ids(back)).toEqual([newestFirst[1], newestFirst[2]]);
      expect([back.hasNextPage, back.hasPreviousPage]).toEqual([true, true]);
      expect(await store.unreadCount(a)).toBe(3);
      await expectConsistent(a);
      // Reclaimed, nothing changes for the user (and no expired record is left for the next tests).
      for (let round = 0; round < 100 && (await store.cleanupExpired(1000)) > 0; round++);
      expect((await listAll(a)).map((m) => m.id)).toEqual(newestFirst);
      expect(await store.unreadCount(a)).toBe(3);
    });

    it('reclaims in batches of at most `limit`', async ({ store }) => {
      const users = [uid(), uid(), uid()];
      const expiresAt = expiresSoon();
      for (let i = 0; i < 3; i++) await send(users, { expiresAt });
      await waitUntilPast(expiresAt);
      let total = 0;
      for (let round = 0; round < 100; round++) {
        const n = await store.cleanupExpired(2);
        expect(n).toBeLessThanOrEqual(2 * 3); // each kind of record is bounded by the limit
        if (n === 0) break;
        total += n;
      }
      expect(total).toBeGreaterThanOrEqual(3); // at least the three messages
      expect(await store.cleanupExpired(1000)).toBe(0);
      for (const u of users) expect((await expectConsistent(u)).rows).toBe(0);
    });
  });
}

import { describe, expect } from 'vitest';
import { sleep, uid, waitUntilPast } from '../../support.js';
import { expiresSoon, ids, query, sorted, type StoreContract } from './fixture.js';

export function readStateContract({ it, send, broadcast, expectConsistent }: StoreContract): void {
  describe('read state', () => {
    it('marks read: changed, request-ordered messages, notFound, exact unread count', async ({ store }) => {
      const [a, b] = [uid(), uid()];
      const m = [];
      for (let i = 0; i < 3; i++) m.push((await send([a], { text: `m${i}` })).message.id);
      const others = (await send([b])).message.id;
      const missing = '987654321987654';
      const r = await store.setRead(a, [m[1], others, m[0], missing, m[1], 'abc'], true);
      expect(sorted(r.changed)).toEqual(sorted([m[0], m[1]]));
      expect(r.messages.map((x) => x.id)).toEqual([m[1], m[0]]);
      for (const x of r.messages) expect(x.readAt).toBeInstanceOf(Date);
      expect(r.notFound).toEqual([others, missing, 'abc']);
      expect(r.unreadCount).toBe(1);
      expect((await store.get(b, others))?.readAt).toBeNull();
      expect(await store.unreadCount(b)).toBe(1);

      const readAt = r.messages[0].readAt;
      const again = await store.setRead(a, [m[1], m[0]], true);
      expect(again.changed).toEqual([]);
      expect(again.messages.map((x) => x.id)).toEqual([m[1], m[0]]);
      expect(again.messages[0].readAt).toEqual(readAt); // reading again changes nothing
      expect(again.unreadCount).toBe(1);

      const unread = await store.setRead(a, [m[0], m[2]], false);
      expect(unread.changed).toEqual([m[0]]);
      expect(unread.messages.map((x) => [x.id, x.readAt])).toEqual([
        [m[0], null],
        [m[2], null],
      ]);
      expect(unread.unreadCount).toBe(2);
      expect((await store.setRead(a, [m[0]], false)).changed).toEqual([]);
      expect(await store.setRead(a, [], true)).toMatchObject({ changed: [], messages: [], notFound: [], unreadCount: 2 });
      expect(await store.setRead(a, [others], false)).toMatchObject({ changed: [], messages: [], notFound: [others], unreadCount: 2 });
      await expectConsistent(a);
    });

    it('marks all read only up to `until`', async ({ store }) => {
      const [a, b] = [uid(), uid()];
      const early = await send([a, b], { text: 'early' });
      const readEarlier = await send([a], { text: 'read earlier' });
      await store.setRead(a, [readEarlier.message.id], true);
      await sleep(20);
      const until = new Date();
      await sleep(20);
      const late = await send([a], { text: 'late' });
      expect(await store.markAllRead(a, until)).toMatchObject({ count: 1, unreadCount: 1 });
      expect((await store.get(a, early.message.id))?.readAt).toBeInstanceOf(Date);
      expect((await store.get(a, late.message.id))?.readAt).toBeNull();
      expect((await store.get(b, early.message.id))?.readAt).toBeNull();
      expect(await store.unreadCount(b)).toBe(1);
      expect(await store.markAllRead(a, until)).toMatchObject({ count: 0, unreadCount: 1 });
      expect(await store.markAllRead(a, new Date(Date.now() + 1000))).toMatchObject({ count: 1, unreadCount: 0 });
      expect(await store.markAllRead(uid(), new Date())).toMatchObject({ count: 0, unreadCount: 0 });
      await expectConsistent(a);
    });

    it('keeps each message\'s read time through later mark-all-reads, unreads and deletes', async ({ store }) => {
      const a = uid();
      const m1 = (await send([a], { text: 'm1' })).message.id;
      const m2 = (await send([a], { text: 'm2' })).message.id;
      expect(await store.markAllRead(a, new Date(Date.now() + 1000))).toMatchObject({ count: 2, unreadCount: 0 });
      const t1 = (await store.get(a, m1))?.readAt;
      expect(t1).toBeInstanceOf(Date);
      expect((await store.get(a, m2))?.readAt).toEqual(t1);
      await sleep(30);
      const m3 = (await send([a], { text: 'm3' })).message.id;
      const m4 = (await send([a], { text: 'm4' })).message.id;
      // Reading an already-read message changes nothing.
      expect((await store.setRead(a, [m1], true)).changed).toEqual([]);
      expect(await store.markAllRead(a, new Date(Date.now() + 1000))).toMatchObject({ count: 2, unreadCount: 0 });
      const t2 = (await store.get(a, m3))?.readAt;
      expect(t2!.getTime()).toBeGreaterThan(t1!.getTime());
      expect((await store.get(a, m1))?.readAt).toEqual(t1); // the earlier read time is kept
      expect(await store.markAllRead(a, new Date(Date.now() + 1000))).toMatchObject({ count: 0, unreadCount: 0 });
      expect((await store.get(a, m4))?.readAt).toEqual(t2);

      // Unreading an old message makes it alone unread; the others keep their read times.
      const u = await store.setRead(a, [m2], false);
      expect(u.changed).toEqual([m2]);
      expect(u.unreadCount).toBe(1);
      expect((await store.get(a, m1))?.readAt).toEqual(t1);
      expect((await store.get(a, m2))?.readAt).toBeNull();
      expect((await store.get(a, m3))?.readAt).toEqual(t2);
      expect((await store.get(a, m4))?.readAt).toEqual(t2);
      expect(ids(await store.list(a, query({ unreadOnly: true })))).toEqual([m2]);
      expect(ids(await store.list(a, query({ filter: { read: true } })))).toEqual([m4, m3, m1]);
      expect((await store.oldestUnread(a, 10)).map((x) => x.id)).toEqual([m2]);
      await expectConsistent(a);

      // Deleting read messages leaves the unread count alone; a new message after all this is unread.
      expect((await store.deleteMessages(a, [m1, m4])).unreadCount).toBe(1);
      const m5 = (await send([a], { text: 'm5' })).message.id;
      expect((await store.get(a, m5))?.readAt).toBeNull();
      expect(await store.unreadCount(a)).toBe(2);
      expect((await store.setRead(a, [m3], false)).unreadCount).toBe(3);
      expect((await store.setRead(a, [m2, m3, m5], true)).changed.length).toBe(3);
      expect((await store.get(a, m3))?.readAt!.getTime()).toBeGreaterThan(t2!.getTime());
      const c = await expectConsistent(a);
      expect(c).toMatchObject({ rows: 3, unread: 0 });
    });

    it('marks a large inbox read in one call, and messages arriving after stay unread', async ({ store }) => {
      const [a, b] = [uid(), uid()];
      const n = 250;
      for (let i = 0; i < n; i++) await send(i % 2 ? [a] : [a, b], { text: `bulk ${i}` });
      const before = await store.list(a, query({ unreadOnly: true, limit: 0 }));
      expect(before.totalCount).toBe(n);
      expect(await store.markAllRead(a, new Date(Date.now() + 1000))).toMatchObject({ count: n, unreadCount: 0 });
      const after = await send([a, b], { text: 'after' });
      expect(after.recipients?.find((r) => r.userId === a)?.unreadCount).toBe(1);
      expect(ids(await store.list(a, query({ unreadOnly: true })))).toEqual([after.message.id]);
      expect((await store.list(a, query({ filter: { read: true }, limit: 0 }))).totalCount).toBe(n);
      expect(await store.unreadCount(b)).toBe(n / 2 + 1);
      await expectConsistent(a);
      await expectConsistent(b);
    });

    it('keeps read state and counts exact when messages read in bulk expire', async ({ store }) => {
      const a = uid();
      const expiresAt = expiresSoon();
      const soon = (await send([a], { text: 'soon', expiresAt })).message.id;
      const keep = (await send([a], { text: 'keep', expiresAt: null })).message.id;
      expect(await store.markAllRead(a, new Date(Date.now() + 1000))).toMatchObject({ count: 2, unreadCount: 0 });
      const unreadLater = (await send([a], { text: 'unread, expires', expiresAt })).message.id;
      await waitUntilPast(expiresAt);
      expect(await store.get(a, soon)).toBeNull();
      expect(await store.get(a, unreadLater)).toBeNull();
      expect(await store.unreadCount(a)).toBe(0);
      await store.cleanupExpired(1000);
      const c = await expectConsistent(a);
      expect(c).toMatchObject({ rows: 1, unread: 0, ids: [keep] });
      expect((await store.setRead(a, [keep], false)).unreadCount).toBe(1);
      await expectConsistent(a);
    });

    it('leaves a broadcast sent after mark-all-read unread, even when copied on a later access', async ({ store }) => {
      const a = uid();
      await store.ensureUser(a);
      await send([a], { text: 'direct' });
      expect((await store.markAllRead(a, new Date(Date.now() + 1000))).unreadCount).toBe(0);
      const b = await broadcast({ text: 'after mark-all-read' });
      expect((await store.get(a, b.message.id))?.readAt).toBeNull();
      expect(await store.unreadCount(a)).toBe(1);
      await expectConsistent(a);
    });
  });
}

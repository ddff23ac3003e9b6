import { describe, expect } from 'vitest';
import type { SendResult } from '../../../src/domain/message-store.js';
import { inMs, uid } from '../../support.js';
import { msg, query, type StoreContract } from './fixture.js';

const none = { total: 0, unread: 0, unseen: 0, archived: 0, snoozed: 0 };
const mine = (r: SendResult, user: string) => r.recipients?.find((x) => x.userId === user);

/** Grouping (section 9 of the contract): one unread message per group key, counting on. */
export function groupingContract({ it, send, twin, listAll, expectCounts }: StoreContract): void {
  describe('grouping', () => {
    it('marks the unread message of the group read and counts on from it, per recipient', async ({ store }) => {
      const [a, b] = [uid(), uid()];
      const key = `comments on #42 ✓ ${'x'.repeat(200)}`; // any text, up to 255 characters
      const g1 = await send([a], { groupKey: key, text: 'one' });
      expect(mine(g1, a)).toEqual({ userId: a, unreadCount: 1, unseenCount: 1, groupCount: 1, superseded: null });
      const seenAt = (await store.markSeen(a, [g1.message.id])).messages[0].seenAt;
      const g2 = await send([a], { groupKey: key, text: 'two' });
      expect(mine(g2, a)).toEqual({ userId: a, unreadCount: 1, unseenCount: 1, groupCount: 2, superseded: g1.message.id });
      const g3 = await send([a, b], { groupKey: key, text: 'three', category: 'comments' });
      expect(mine(g3, a)).toEqual({ userId: a, unreadCount: 1, unseenCount: 1, groupCount: 3, superseded: g2.message.id });
      expect(mine(g3, b)).toEqual({ userId: b, unreadCount: 1, unseenCount: 1, groupCount: 1, superseded: null });

      const old = await store.get(a, g2.message.id);
      expect(old).toMatchObject({ groupKey: key, groupCount: 2 });
      expect(old?.readAt).toBeInstanceOf(Date);
      expect(old?.seenAt).toEqual(old?.readAt);
      const first = await store.get(a, g1.message.id);
      expect(first).toMatchObject({ seenAt }); // seen before: that time is kept
      expect(first?.readAt).toBeInstanceOf(Date);
      expect(await store.get(a, g3.message.id)).toMatchObject({ groupKey: key, groupCount: 3, readAt: null, category: 'comments' });
      expect(await store.get(b, g3.message.id)).toMatchObject({ groupKey: key, groupCount: 1, readAt: null });
      expect((await listAll(a)).map((m) => [m.groupCount, m.readAt === null])).toEqual([
        [3, true],
        [2, false],
        [1, false],
      ]);

      // Another key, no key, and a key that only differs in case each start their own count.
      expect(mine(await send([a], { groupKey: 'other' }), a)).toMatchObject({ groupCount: 1, superseded: null });
      expect(mine(await send([a], { groupKey: key.toUpperCase() }), a)).toMatchObject({ groupCount: 1, superseded: null });
      expect(mine(await send([a]), a)).toMatchObject({ groupCount: 1, superseded: null, unreadCount: 4 });
      expect(mine(await send([a], { groupKey: key }), a)).toMatchObject({ groupCount: 4, superseded: g3.message.id, unreadCount: 4 });
      await expectCounts(a, { ...none, total: 7, unread: 4, unseen: 4 });
      await expectCounts(b, { ...none, total: 1, unread: 1, unseen: 1 });
    });

    // (Expired: with the categories' expiry test, which waits for it anyway.)
    it('supersedes nothing read, archived or snoozed: the new one counts from 1', async ({ store }) => {
      const a = uid();
      const fresh = async (key: string) => mine(await send([a], { groupKey: key }), a);

      const read = (await send([a], { groupKey: 'read' })).message.id;
      await store.setRead(a, [read], true);
      expect(await fresh('read')).toMatchObject({ groupCount: 1, superseded: null });
      const archived = (await send([a], { groupKey: 'archived' })).message.id;
      await store.setArchived(a, [archived], true);
      expect(await fresh('archived')).toMatchObject({ groupCount: 1, superseded: null });
      const snoozed = (await send([a], { groupKey: 'snoozed' })).message.id;
      await store.snooze(a, [snoozed], inMs(3_600_000));
      expect(await fresh('snoozed')).toMatchObject({ groupCount: 1, superseded: null });
      expect(await store.get(a, snoozed)).toMatchObject({ readAt: null, groupCount: 1 });
      // Read by a cut-off: not superseded; unread alone again under it: superseded.
      const cut = (await send([a], { groupKey: 'cut' })).message.id;
      await send([a], { groupKey: 'watermark' });
      await store.markAllRead(a, inMs(1000));
      expect(await fresh('watermark')).toMatchObject({ groupCount: 1, superseded: null });
      await store.setRead(a, [cut], false);
      expect(await fresh('cut')).toMatchObject({ groupCount: 2, superseded: cut });

      await expectCounts(a, { ...none, total: 9, unread: 2, unseen: 2, archived: 1, snoozed: 1 });
    });

    it('supersedes for each recipient their own message when concurrent grouped sends go to different users (batched together)', async ({ store }) => {
      const users = Array.from({ length: 12 }, () => uid());
      const round = (r: number) => Promise.all(users.map((u, k) => store.send(msg({ text: `r${r} u${k}`, groupKey: `thread-${k % 3}` }), { userIds: [u] })));
      const first = await round(1);
      const second = await round(2);
      users.forEach((u, k) => {
        expect(mine(first[k], u)).toMatchObject({ groupCount: 1, superseded: null, unreadCount: 1 });
        expect(mine(second[k], u)).toMatchObject({ groupCount: 2, superseded: first[k].message.id, unreadCount: 1 });
      });
      for (const [k, u] of users.entries()) {
        const unread = await store.list(u, query({ unreadOnly: true }));
        expect(unread.items.map((i) => [i.message.id, i.message.groupCount])).toEqual([[second[k].message.id, 2]]);
        await expectCounts(u, { ...none, total: 2, unread: 1, unseen: 1 });
      }
    });

    it('keeps one unread message per group under concurrent sends to one user, counting 1..n without gaps', async ({ store }) => {
      const [a, b] = [uid(), uid()];
      const n = 16;
      const results = await Promise.all(
        Array.from({ length: n }, (_, k) => (k % 2 ? twin() : store).send(msg({ text: `c${k}`, groupKey: 'race' }), { userIds: k % 3 ? [a] : [a, b] })),
      );
      const byId = results.map((r) => ({ id: r.message.id, ...mine(r, a)! })).sort((p, q) => Number(p.id) - Number(q.id));
      expect(byId.map((r) => r.groupCount)).toEqual(byId.map((_, i) => i + 1));
      expect(byId.map((r) => r.superseded)).toEqual([null, ...byId.slice(0, -1).map((r) => r.id)]);
      const unread = await store.list(a, query({ unreadOnly: true }));
      expect(unread.items.map((i) => [i.message.id, i.message.groupCount])).toEqual([[byId[n - 1].id, n]]);
      await expectCounts(a, { ...none, total: n, unread: 1, unseen: 1 });
      const bCounts = results.filter((r) => mine(r, b)).map((r) => mine(r, b)!.groupCount).sort((p, q) => p - q);
      expect(bCounts).toEqual(bCounts.map((_, i) => i + 1));
    });
  });
}

import { describe, expect } from 'vitest';
import { uid } from '../../support.js';
import { ids, query, type StoreContract } from './fixture.js';

export function broadcastContract({ it, send, broadcast, expectConsistent, knownUsers }: StoreContract): void {
  describe('broadcast', () => {
    it('reaches every user known when it is sent, with one message, and not users known later', async ({ store }) => {
      const [a, b, late, lateByMessage] = [uid(), uid(), uid(), uid()];
      await store.ensureUser(a);
      await store.ensureUser(b);
      await store.ensureUser(a); // idempotent
      const first = await broadcast({ text: 'first broadcast' });
      expect(first.recipients).toBeNull();
      expect(first.replayed).toBe(false);
      expect(first.recipientCount).toBeGreaterThanOrEqual(2);
      expect(first.message).toMatchObject({ text: 'first broadcast', readAt: null, stored: true });
      for (const user of [a, b]) {
        expect(await store.get(user, first.message.id)).toEqual(first.message);
        expect(await store.unreadCount(user)).toBe(1);
      }

      await store.ensureUser(late);
      await send([lateByMessage]); // receiving a message makes a user known too
      for (const user of [late, lateByMessage]) {
        expect(await store.get(user, first.message.id)).toBeNull();
        expect(ids(await store.list(user, query()))).not.toContain(first.message.id);
      }
      expect(await store.unreadCount(late)).toBe(0);
      expect(await store.unreadCount(lateByMessage)).toBe(1);

      const second = await broadcast({ text: 'second broadcast' });
      expect(second.recipientCount).toBe(first.recipientCount + 2);
      for (const user of [a, b, late, lateByMessage]) expect(await store.get(user, second.message.id)).toEqual(second.message);
      await store.ensureUser(a);
      expect(await knownUsers()).toBe(second.recipientCount);
    });

    it('resolves many users\' views of a broadcast at once (has it, exact unread count), copying it first', async ({ store }) => {
      const [early, reader, late, stranger] = [uid(), uid(), uid(), uid()];
      await store.ensureUser(early);
      await store.ensureUser(reader);
      await send([reader]);
      const b = await broadcast({ text: 'viewed broadcast' });
      await store.ensureUser(late); // known after the broadcast: not theirs
      await store.setRead(reader, [(await store.oldestUnread(reader, 1))[0].id], true);
      // Neither early nor reader has accessed storage since the broadcast: the views copy it for them.
      const views = await store.broadcastViews(b.message.id, [early, reader, late, stranger, early]);
      expect(Object.fromEntries(views)).toEqual({
        [early]: { has: true, unreadCount: 1, unseenCount: 1 },
        [reader]: { has: true, unreadCount: 1, unseenCount: 1 },
        [late]: { has: false, unreadCount: 0, unseenCount: 0 },
        [stranger]: { has: false, unreadCount: 0, unseenCount: 0 },
      });
      expect(await store.unreadCount(early)).toBe(1);
      expect((await store.broadcastViews('not-an-id', [early])).get(early)).toEqual({ has: false, unreadCount: 1, unseenCount: 1 });
    });

    it('keeps read state and deletion per user', async ({ store }) => {
      const [a, b] = [uid(), uid()];
      await store.ensureUser(a);
      await store.ensureUser(b);
      const sent = await broadcast();
      const read = await store.setRead(a, [sent.message.id], true);
      expect(read.changed).toEqual([sent.message.id]);
      expect((await store.get(b, sent.message.id))?.readAt).toBeNull();
      expect(await store.unreadCount(b)).toBe(1);
      const del = await store.deleteMessages(b, [sent.message.id]);
      expect(del.deleted).toEqual([sent.message.id]);
      expect(await store.get(b, sent.message.id)).toBeNull();
      expect((await store.get(a, sent.message.id))?.readAt).toBeInstanceOf(Date);
      expect(await store.unreadCount(a)).toBe(0);
    });

    it('orders broadcasts with direct messages by delivery, and counts them in every operation', async ({ store }) => {
      const a = uid();
      const m1 = await send([a], { text: 'm1' });
      const b1 = await broadcast();
      // a has not been back since the broadcast: the next send still reports the exact count.
      const m2 = await send([a], { text: 'm2' });
      expect(m2.recipients).toEqual([{ userId: a, unreadCount: 3, unseenCount: 3, groupCount: 1, superseded: null }]);
      expect(ids(await store.list(a, query()))).toEqual([m2.message.id, b1.message.id, m1.message.id]);
      expect((await store.oldestUnread(a, 10)).map((m) => m.id)).toEqual([m1.message.id, b1.message.id, m2.message.id]);
      await expectConsistent(a);
    });

    it('is delivered to a user whose first access after it is a write', async ({ store }) => {
      const [a, b, c] = [uid(), uid(), uid()];
      for (const u of [a, b, c]) await store.ensureUser(u);
      const sent = await broadcast();
      // Each user's first access after the broadcast is a different write.
      expect((await store.setRead(a, [sent.message.id], true)).changed).toEqual([sent.message.id]);
      expect((await store.deleteMessages(b, [sent.message.id])).deleted).toEqual([sent.message.id]);
      expect(await store.markAllRead(c, new Date(Date.now() + 1000))).toMatchObject({ count: 1, unreadCount: 0 });
      expect(ids(await store.list(a, query()))).toEqual([sent.message.id]);
      expect(ids(await store.list(b, query()))).toEqual([]); // deleted stays deleted
      expect(ids(await store.list(c, query({ filter: { read: true } })))).toEqual([sent.message.id]);
      for (const u of [a, b, c]) await expectConsistent(u);
    });
  });
}

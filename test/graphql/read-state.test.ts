import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, errorCode, startTestApp, type TestApp } from '../harness.js';
import {
  addOwn, archive, counts, deleteMessages, deleteMessagesRaw, inbox, isoDaysAgo, markAllRead, markRead, markReadRaw, markUnread, messageById,
  newProducer, newUser, sendMany, sendTo, unknownId, type Caller,
} from '../factories.js';
import { sleep } from '../support.js';

describe.each(BACKENDS)('read state on %s', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(backend);
  });
  afterAll(async () => t?.close());

  async function userWith(n: number): Promise<{ u: Caller; p: Caller; ids: string[] }> {
    const [p, u] = [await newProducer(t), await newUser(t)];
    return { u, p, ids: (await sendMany(p, u.sub, n)).map((m) => m.id) };
  }

  describe('markRead', () => {
    it('sets readAt, counts what changed, keeps the message in the archive', async () => {
      const { u, ids } = await userWith(3);
      const before = Date.now();
      const r = await markRead(u, [ids[0], ids[2]]);
      expect(r.count).toBe(2);
      expect(r.notFound).toEqual([]);
      expect(r.unreadCount).toBe(1);
      expect(r.messages.map((m) => m.id)).toEqual([ids[0], ids[2]]);
      for (const m of r.messages) {
        expect(m.read).toBe(true);
        expect(Date.parse(m.readAt!)).toBeGreaterThanOrEqual(before - 1000);
      }
      expect((await inbox(u)).ids).toEqual([ids[1]]);
      expect((await archive(u)).ids).toEqual([ids[2], ids[1], ids[0]]);
      expect(await messageById(u, ids[0])).toEqual(r.messages[0]);
      expect(await counts(u)).toEqual({ unread: 1, inboxTotal: 1, archiveTotal: 3 });
    });

    it('an already-read message is not an error and does not count', async () => {
      const { u, ids } = await userWith(2);
      const first = await markRead(u, [ids[0]]);
      const again = await markRead(u, [ids[0]]);
      expect(again.count).toBe(0);
      expect(again.notFound).toEqual([]);
      expect(again.unreadCount).toBe(1);
      expect(again.messages[0].readAt).toBe(first.messages[0].readAt);
      const mixed = await markRead(u, [ids[0], ids[1]]);
      expect(mixed.count).toBe(1);
      expect(mixed.unreadCount).toBe(0);
    });

    it('lists unknown ids in notFound exactly as sent, once each', async () => {
      const { u, ids } = await userWith(1);
      const [x, y] = [unknownId(), unknownId()];
      const r = await markRead(u, [x, ids[0], y, x, ids[0]]);
      expect(r.count).toBe(1);
      expect(r.notFound).toEqual([x, y]);
      expect(r.messages.map((m) => m.id)).toEqual([ids[0]]);
    });

    it('a flash message id is not a stored message: notFound', async () => {
      const u = await newUser(t);
      const flash = await addOwn(u, { level: 'INFO' });
      const r = await markRead(u, [flash.message.id]);
      expect(r).toMatchObject({ count: 0, notFound: [flash.message.id], unreadCount: 0 });
    });

    it('a malformed id is BAD_USER_INPUT and changes nothing', async () => {
      const { u, ids } = await userWith(1);
      expect(errorCode(await markReadRaw(u, [ids[0], 'not-an-id!']))).toBe('BAD_USER_INPUT');
      expect(errorCode(await markReadRaw(u, [ids[0], Buffer.from('Message:0').toString('base64url')]))).toBe('BAD_USER_INPUT');
      expect(await counts(u)).toEqual({ unread: 1, inboxTotal: 1, archiveTotal: 1 });
    });

    it('an empty list changes nothing', async () => {
      const { u } = await userWith(1);
      expect(await markRead(u, [])).toEqual({ count: 0, notFound: [], unreadCount: 1, messages: [] });
    });
  });

  describe('markUnread', () => {
    it('clears readAt and puts the message back in the inbox', async () => {
      const { u, ids } = await userWith(3);
      await markRead(u, ids);
      const r = await markUnread(u, [ids[1], unknownId()]);
      expect(r.count).toBe(1);
      expect(r.notFound).toHaveLength(1);
      expect(r.unreadCount).toBe(1);
      expect(r.messages).toMatchObject([{ id: ids[1], read: false, readAt: null }]);
      expect((await inbox(u)).ids).toEqual([ids[1]]);
      expect(await counts(u)).toEqual({ unread: 1, inboxTotal: 1, archiveTotal: 3 });
      const again = await markUnread(u, [ids[1]]);
      expect(again.count).toBe(0);
      expect(again.unreadCount).toBe(1);
    });
  });

  describe('markAllRead', () => {
    it('marks everything delivered up to now by default', async () => {
      const { u, ids } = await userWith(3);
      await markRead(u, [ids[0]]);
      expect(await markAllRead(u)).toEqual({ count: 2, unreadCount: 0 });
      expect((await inbox(u)).ids).toEqual([]);
      expect((await archive(u)).nodes.every((m) => m.read)).toBe(true);
      expect(await markAllRead(u)).toEqual({ count: 0, unreadCount: 0 });
    });

    it('leaves unread what was delivered after `until`', async () => {
      const { u, p, ids } = await userWith(2);
      await sleep(20);
      const until = new Date().toISOString();
      await sleep(20);
      const late = await sendTo(p, u.sub, { text: 'arrived while the client was looking' });
      expect(await markAllRead(u, until)).toEqual({ count: 2, unreadCount: 1 });
      expect((await inbox(u)).ids).toEqual([late.message.id]);
      expect((await messageById(u, ids[0]))?.read).toBe(true);
    });

    it('keeps each message\'s read time through later mark-all-reads; markUnread of an old one unreads it alone', async () => {
      const { u, p, ids } = await userWith(2);
      await markAllRead(u);
      const firstReadAt = (await messageById(u, ids[0]))?.readAt;
      expect(firstReadAt).toBeTruthy();
      await sleep(20);
      const later = await sendTo(p, u.sub, { text: 'later' });
      expect(await markAllRead(u)).toEqual({ count: 1, unreadCount: 0 });
      const laterReadAt = (await messageById(u, later.message.id))?.readAt;
      expect(Date.parse(laterReadAt!)).toBeGreaterThan(Date.parse(firstReadAt!));
      expect((await messageById(u, ids[0]))?.readAt).toBe(firstReadAt);

      const r = await markUnread(u, [ids[0]]);
      expect(r).toMatchObject({ count: 1, unreadCount: 1, notFound: [] });
      expect(r.messages[0]).toMatchObject({ id: ids[0], read: false, readAt: null });
      expect((await inbox(u)).ids).toEqual([ids[0]]);
      expect((await messageById(u, ids[1]))?.readAt).toBe(firstReadAt);
      expect((await messageById(u, later.message.id))?.readAt).toBe(laterReadAt);
      expect(await counts(u)).toEqual({ unread: 1, inboxTotal: 1, archiveTotal: 3 });

      // Another user's mark-all-read changes nothing of this user's, and the reverse.
      const other = await newUser(t);
      await sendTo(p, other.sub, { text: 'theirs' });
      expect(await markAllRead(other)).toEqual({ count: 1, unreadCount: 0 });
      expect((await inbox(u)).ids).toEqual([ids[0]]);
      expect(await markUnread(other, [ids[1]])).toMatchObject({ count: 0, notFound: [ids[1]] });
      expect((await messageById(u, ids[1]))?.readAt).toBe(firstReadAt);
    });

    it('bounds by delivery, not by the date the producer gave', async () => {
      const [p, u] = [await newProducer(t), await newUser(t)];
      const backdated = await sendTo(p, u.sub, { date: isoDaysAgo(3) });
      expect(await markAllRead(u, isoDaysAgo(1))).toEqual({ count: 0, unreadCount: 1 });
      expect((await inbox(u)).ids).toEqual([backdated.message.id]);
    });
  });

  describe('deleteMessages', () => {
    it('removes messages from the archive and the inbox', async () => {
      const { u, ids } = await userWith(3);
      await markRead(u, [ids[0]]);
      const missing = unknownId();
      const r = await deleteMessages(u, [ids[0], ids[1], missing]);
      expect(r).toEqual({ count: 2, notFound: [missing], unreadCount: 1 });
      expect((await archive(u)).ids).toEqual([ids[2]]);
      expect((await inbox(u)).ids).toEqual([ids[2]]);
      expect(await messageById(u, ids[1])).toBeNull();
      expect(await counts(u)).toEqual({ unread: 1, inboxTotal: 1, archiveTotal: 1 });
    });

    it('a deleted message is gone for good: deleting or reading it again finds nothing', async () => {
      const { u, ids } = await userWith(1);
      await deleteMessages(u, ids);
      expect(await deleteMessages(u, ids)).toEqual({ count: 0, notFound: ids, unreadCount: 0 });
      expect(await markRead(u, ids)).toMatchObject({ count: 0, notFound: ids });
      expect(await markUnread(u, ids)).toMatchObject({ count: 0, notFound: ids });
    });

    it('deletes only for the caller: other recipients keep the message', async () => {
      const p = await newProducer(t);
      const [a, b] = [await newUser(t), await newUser(t)];
      const { message } = await sendTo(p, [a.sub, b.sub]);
      await deleteMessages(a, [message.id]);
      expect((await inbox(b)).ids).toEqual([message.id]);
    });

    it('a malformed id is BAD_USER_INPUT and deletes nothing', async () => {
      const { u, ids } = await userWith(1);
      expect(errorCode(await deleteMessagesRaw(u, [ids[0], '%%%']))).toBe('BAD_USER_INPUT');
      expect(await counts(u)).toEqual({ unread: 1, inboxTotal: 1, archiveTotal: 1 });
    });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, errorCode, startTestApp, type TestApp } from '../harness.js';
import {
  addOwn, addOwnRaw, archive, broadcast, consume, counts, inbox, isoDaysAgo, knownUser, markAllRead, markRead, messageById, newProducer, newUser,
  pending, sendTo, sendToRaw, type Caller,
} from '../factories.js';

/**
 * django-stored-messages' own tests (reference §11), ported to the GraphQL API. The app runs with
 * Django's default MESSAGE_LEVEL (INFO), as the original test settings did. Where the port decides
 * differently (CONTRACT.md), the test says so.
 */
describe.each(BACKENDS)('the original test suite, ported, on %s', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(backend, { MESSAGE_LEVEL: 'INFO' });
  });
  afterAll(async () => t?.close());

  /** The fixture view `/create`: STORED_ERROR "an error ☢" and STORED_DEBUG "a debug message ☢". */
  const create = async (u: Caller) => {
    const error = await addOwn(u, { level: 'STORED_ERROR', text: 'an error ☢' });
    const debug = await addOwn(u, { level: 'STORED_DEBUG', text: 'a debug message ☢' });
    return { error, debug };
  };
  /** The fixture view `/create_mixed`: STORED_ERROR "an error ☢" and ERROR "an error not persisted ☢". */
  const createMixed = async (u: Caller) => {
    await addOwn(u, { level: 'STORED_ERROR', text: 'an error ☢' });
    await addOwn(u, { level: 'ERROR', text: 'an error not persisted ☢' });
  };

  describe('test_api', () => {
    it('/create stores one message (STORED_DEBUG is below MESSAGE_LEVEL); mark_read empties the inbox', async () => {
      const u = await newUser(t);
      const { error, debug } = await create(u);
      expect(debug.stored).toBe(false);
      expect(await pending(u)).toHaveLength(1);
      expect((await inbox(u)).nodes.map((m) => m.text)).toEqual(['an error ☢']);
      await markRead(u, [error.message.id]);
      expect((await inbox(u)).ids).toEqual([]);
    });

    it('marking read twice is not an error in the port (the original raised MessageDoesNotExist)', async () => {
      const u = await newUser(t);
      const { error } = await create(u);
      expect((await markRead(u, [error.message.id])).count).toBe(1);
      expect(await markRead(u, [error.message.id])).toMatchObject({ count: 0, notFound: [], unreadCount: 0 });
    });

    it('add_message_for([user2, user], STORED_ERROR, "Multiple errors", "extra", yesterday, url)', async () => {
      const p = await newProducer(t);
      const [user, user2] = [await newUser(t), await newUser(t)];
      const yesterday = isoDaysAgo(1);
      await sendTo(p, [user2.sub, user.sub], {
        level: 'STORED_ERROR', text: 'Multiple errors', extraTags: 'extra', date: yesterday, url: 'http://example.com/error',
      });
      for (const u of [user, user2]) {
        expect(await counts(u)).toEqual({ unread: 1, inboxTotal: 1, archiveTotal: 1 });
        const [m] = (await inbox(u)).nodes;
        expect(m).toMatchObject({ text: 'Multiple errors', extraTags: 'extra', tags: 'extra stored error', createdAt: yesterday, url: 'http://example.com/error' });
        expect((await archive(u)).nodes[0].text).toBe('Multiple errors');
      }
    });

    it('broadcast_message(STORED_INFO, "broadcast test message", "extra", yesterday, url) reaches every user', async () => {
      const p = await newProducer(t);
      const users = [await knownUser(t), await knownUser(t), await knownUser(t), await knownUser(t)];
      const yesterday = isoDaysAgo(1);
      const url = 'http://example.com/broadcast';
      await broadcast(p, { level: 'STORED_INFO', text: 'broadcast test message', extraTags: 'extra', date: yesterday, url });
      for (const u of users) {
        const [m] = (await inbox(u)).nodes;
        expect(m).toMatchObject({ text: 'broadcast test message', extraTags: 'extra', createdAt: yesterday, url, levelValue: 21 });
        expect((await archive(u)).nodes.map((n) => n.text)).toEqual(['broadcast test message']);
      }
    });

    it('20 x add_message_for([user], INFO) are all stored (no level filter); mark_all_read empties the inbox', async () => {
      const p = await newProducer(t);
      const u = await newUser(t);
      for (let i = 0; i < 20; i++) await sendTo(p, u.sub, { level: 'INFO', text: 'unicode message ❤' });
      expect((await counts(u)).unread).toBe(20);
      expect(await markAllRead(u)).toEqual({ count: 20, unreadCount: 0 });
      expect((await inbox(u)).ids).toEqual([]);
    });
  });

  describe('test_models', () => {
    it('a STORED_ERROR message added through the storage is archived exactly once', async () => {
      const u = await newUser(t);
      await addOwn(u, { level: 'STORED_ERROR', text: 'an error' });
      expect((await archive(u)).totalCount).toBe(1);
    });
  });

  describe('test_storage', () => {
    it('a stored and a plain message: both pending, only the stored one archived', async () => {
      const u = await newUser(t);
      await addOwn(u, { level: 'STORED_ERROR', text: 'stored' });
      await addOwn(u, { level: 'INFO', text: 'plain' }); // the original set the minimum to DEBUG and added DEBUG
      expect(await pending(u)).toHaveLength(2);
      expect((await archive(u)).totalCount).toBe(1);
    });

    it('/create then /consume: the inbox empties, the archive keeps the message', async () => {
      const u = await newUser(t);
      await create(u);
      expect((await counts(u)).unread).toBe(1);
      await consume(u);
      expect(await counts(u)).toEqual({ unread: 0, inboxTotal: 0, archiveTotal: 1 });
    });

    it('/consume with keep_storage (pendingMessages) leaves the inbox as it was', async () => {
      const u = await newUser(t);
      await create(u);
      expect(await pending(u)).toHaveLength(1);
      expect(await counts(u)).toEqual({ unread: 1, inboxTotal: 1, archiveTotal: 1 });
    });

    it('an empty message is refused (the original silently added nothing)', async () => {
      const u = await newUser(t);
      expect(errorCode(await addOwnRaw(u, { level: 'DEBUG', text: '' }))).toBe('BAD_USER_INPUT');
      expect(await pending(u)).toEqual([]);
    });

    it('/create_mixed then /consume: the inbox is empty and the plain message is gone too', async () => {
      const u = await newUser(t);
      await createMixed(u);
      const consumed = await consume(u);
      expect(consumed.messages.map((m) => m.text)).toEqual(['an error not persisted ☢', 'an error ☢']);
      expect((await inbox(u)).ids).toEqual([]);
      expect(await pending(u)).toEqual([]);
    });
  });

  describe('test_default_backend', () => {
    it('inbox_list keeps the order messages were stored in (pendingMessages, oldest first)', async () => {
      const p = await newProducer(t);
      const u = await newUser(t);
      const sent = [];
      for (const text of ['A message for you ♡', 'second', 'third']) sent.push((await sendTo(p, u.sub, { level: 'STORED_ERROR', text })).message.id);
      expect((await pending(u)).map((m) => m.id)).toEqual(sent);
    });

    it('a message dated 180 days back cannot be sent: it would already be expired', async () => {
      const p = await newProducer(t);
      const u = await newUser(t);
      expect(errorCode(await sendToRaw(p, u.sub, { date: isoDaysAgo(180) }))).toBe('BAD_USER_INPUT');
      expect((await counts(u)).archiveTotal).toBe(0);
    });
  });

  describe('test_restapi', () => {
    it('inbox list, detail, read, mark_all_read', async () => {
      const u = await newUser(t);
      await create(u);
      await create(u);
      const list = await inbox(u);
      expect(list.nodes.map((m) => [m.text, m.levelValue])).toEqual([['an error ☢', 41], ['an error ☢', 41]]);
      const detail = await messageById(u, list.ids[0]);
      expect(detail).toMatchObject({ id: list.ids[0], text: 'an error ☢' });
      await markRead(u, list.ids);
      expect((await inbox(u)).ids).toEqual([]);
      await create(u);
      expect((await markAllRead(u)).count).toBe(1);
      expect((await inbox(u)).ids).toEqual([]);
    });
  });

  describe('test_templatetags', () => {
    it('of 20 messages, a page of 15 from the inbox and the archive, and a count of 20', async () => {
      const p = await newProducer(t);
      const u = await newUser(t);
      for (let i = 0; i < 20; i++) await sendTo(p, u.sub, { level: 'INFO', text: 'unicode message ❤' });
      for (const page of [await inbox(u, { first: 15 }), await archive(u, { first: 15 })]) {
        expect(page.nodes).toHaveLength(15);
        expect(page.nodes.every((m) => m.text === 'unicode message ❤')).toBe(true);
      }
      expect((await u.q('{ unreadCount }')).unreadCount).toBe(20);
    });
  });
});

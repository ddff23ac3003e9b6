import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, startTestApp, type TestApp } from '../harness.js';
import {
  addOwn, archive, consume, counts, inbox, markRead, messageById, newProducer, newUser, pending, sendMany, sendTo, unreadCount, } from '../factories.js';
import { waitFor } from '../support.js';

describe.each(BACKENDS)('flash messages, pendingMessages and consumeMessages on %s', (backend) => {
  let t: TestApp;
  let small: TestApp; // FLASH_MAX=3
  let shortLived: TestApp; // FLASH_TTL_SECONDS=3
  beforeAll(async () => {
    [t, small, shortLived] = await Promise.all([
      startTestApp(backend),
      startTestApp(backend, { FLASH_MAX: '3' }),
      startTestApp(backend, { FLASH_TTL_SECONDS: '3' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([t?.close(), small?.close(), shortLived?.close()]);
  });

  describe('flash messages', () => {
    it('are not stored: absent from messages, unreadMessages and counts', async () => {
      const u = await newUser(t);
      const r = await addOwn(u, { level: 'WARNING', text: 'careful', extraTags: 'form', url: 'https://example.com/x', data: { k: 1 } });
      expect(r).toMatchObject({
        stored: false,
        message: { stored: false, read: false, readAt: null, text: 'careful', levelValue: 30, tags: 'form warning', url: 'https://example.com/x', data: { k: 1 } },
      });
      expect(await counts(u)).toEqual({ unread: 0, inboxTotal: 0, archiveTotal: 0 });
      expect(await pending(u)).toEqual([r.message]);
    });

    it('can be fetched by id while pending, and not after they are consumed', async () => {
      const u = await newUser(t);
      const { message } = await addOwn(u, { level: 'INFO' });
      expect(await messageById(u, message.id)).toEqual(message);
      expect((await u.q('query($id: ID!) { node(id: $id) { id } }', { id: message.id })).node).toEqual({ id: message.id });
      await consume(u);
      expect(await messageById(u, message.id)).toBeNull();
    });

    it('keep at most FLASH_MAX per user, dropping the oldest', async () => {
      const u = await newUser(small);
      for (let i = 0; i < 5; i++) await addOwn(u, { level: 'INFO', text: `flash ${i}` });
      expect((await pending(u)).map((m) => m.text)).toEqual(['flash 2', 'flash 3', 'flash 4']);
    });

    it('are forgotten after FLASH_TTL_SECONDS', async () => {
      const u = await newUser(shortLived);
      const flash = await addOwn(u, { level: 'INFO', text: 'soon gone' });
      const stored = await addOwn(u, { level: 'STORED_INFO', text: 'stays' });
      expect((await pending(u)).map((m) => m.id)).toEqual([flash.message.id, stored.message.id]);
      await waitFor(async () => (await pending(u)).every((m) => m.stored));
      expect((await pending(u)).map((m) => m.id)).toEqual([stored.message.id]);
    });
  });

  describe('pendingMessages', () => {
    it('lists flash messages oldest first, then unread stored ones oldest first', async () => {
      const [p, u] = [await newProducer(t), await newUser(t)];
      const s1 = await sendTo(p, u.sub, { text: 's1' });
      const f1 = await addOwn(u, { level: 'INFO', text: 'f1' });
      const s2 = await addOwn(u, { level: 'STORED_ERROR', text: 's2' });
      const f2 = await addOwn(u, { level: 'ERROR', text: 'f2' });
      const s3 = await sendTo(p, u.sub, { text: 's3' });
      await markRead(u, [s2.message.id]);
      expect((await pending(u)).map((m) => m.text)).toEqual(['f1', 'f2', 's1', 's3']);
      expect((await pending(u)).map((m) => m.id)).toEqual([f1, f2, s1, s3].map((r) => r.message.id));
    });

    it('changes nothing', async () => {
      const [p, u] = [await newProducer(t), await newUser(t)];
      await sendMany(p, u.sub, 2);
      await addOwn(u, { level: 'INFO' });
      const first = await pending(u);
      expect(await pending(u)).toEqual(first);
      expect(await counts(u)).toEqual({ unread: 2, inboxTotal: 2, archiveTotal: 2 });
      expect(first.every((m) => !m.read)).toBe(true);
    });

    it('holds at most the 100 oldest unread stored messages', async () => {
      const [p, u] = [await newProducer(t), await newUser(t)];
      const sent = await sendMany(p, u.sub, 103);
      await markRead(u, [sent[0].id]);
      const flash = await addOwn(u, { level: 'INFO' });
      const list = await pending(u);
      expect(list.map((m) => m.id)).toEqual([flash.message.id, ...sent.slice(1, 101).map((m) => m.id)]);
    });

    it('is empty for a user with nothing pending', async () => {
      expect(await pending(await newUser(t))).toEqual([]);
    });
  });

  describe('consumeMessages', () => {
    it('returns what pendingMessages would, drops those flash messages, marks those stored ones read', async () => {
      const [p, u] = [await newProducer(t), await newUser(t)];
      await sendTo(p, u.sub, { text: 's1' });
      await addOwn(u, { level: 'INFO', text: 'f1' });
      await sendTo(p, u.sub, { text: 's2' });
      const expected = await pending(u);
      const r = await consume(u);
      expect(r.messages.map((m) => m.id)).toEqual(expected.map((m) => m.id));
      expect(r.messages.map((m) => m.text)).toEqual(['f1', 's1', 's2']);
      expect(r.unreadCount).toBe(0);
      expect(await pending(u)).toEqual([]);
      // Read, not deleted: the stored ones stay in the archive.
      const archived = await archive(u);
      expect(archived.nodes.map((m) => [m.text, m.read])).toEqual([['s2', true], ['s1', true]]);
      expect(archived.nodes.every((m) => m.readAt !== null)).toBe(true);
    });

    it('marks exactly the messages it returns: later and beyond-100 messages stay unread', async () => {
      const [p, u] = [await newProducer(t), await newUser(t)];
      const sent = await sendMany(p, u.sub, 102);
      const r = await consume(u);
      expect(r.messages.map((m) => m.id)).toEqual(sent.slice(0, 100).map((m) => m.id));
      expect(r.unreadCount).toBe(2);
      const late = await sendTo(p, u.sub, { text: 'arrived after consuming' });
      expect((await inbox(u)).ids).toEqual([late.message.id, sent[101].id, sent[100].id]);
      expect(await unreadCount(u)).toBe(3);
      const next = await consume(u);
      expect(next.messages.map((m) => m.id)).toEqual([sent[100].id, sent[101].id, late.message.id]);
      expect(next.unreadCount).toBe(0);
    });

    it('a second consume returns nothing and changes nothing', async () => {
      const [p, u] = [await newProducer(t), await newUser(t)];
      await sendTo(p, u.sub);
      await addOwn(u, { level: 'INFO' });
      await consume(u);
      expect(await consume(u)).toEqual({ messages: [], unreadCount: 0 });
      expect(await counts(u)).toEqual({ unread: 0, inboxTotal: 0, archiveTotal: 1 });
    });

    it('leaves flash messages that arrive afterwards pending', async () => {
      const u = await newUser(t);
      await addOwn(u, { level: 'INFO', text: 'before' });
      await consume(u);
      const after = await addOwn(u, { level: 'INFO', text: 'after' });
      expect((await pending(u)).map((m) => m.id)).toEqual([after.message.id]);
    });
  });
});

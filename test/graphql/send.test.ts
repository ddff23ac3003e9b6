import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, errorCode, startTestApp, type TestApp } from '../harness.js';
import {
  addOwn, addOwnRaw, archive, broadcast, counts, inbox, isoDaysAgo, knownUser, messageById, newProducer, newUser, pending, sendTo, sendToRaw,
} from '../factories.js';

const LEVELS: [string, number, string][] = [
  ['DEBUG', 10, 'debug'], ['INFO', 20, 'info'], ['SUCCESS', 25, 'success'], ['WARNING', 30, 'warning'], ['ERROR', 40, 'error'],
  ['STORED_DEBUG', 11, 'stored debug'], ['STORED_INFO', 21, 'stored info'], ['STORED_SUCCESS', 26, 'stored success'],
  ['STORED_WARNING', 31, 'stored warning'], ['STORED_ERROR', 41, 'stored error'],
];
const DAY = 86_400_000;

describe.each(BACKENDS)('sending messages on %s', (backend) => {
  let t: TestApp;
  /** STORE_LEVELS=INFO,ERROR, MESSAGE_LEVEL=INFO, MESSAGE_EXPIRE_DAYS=0. */
  let custom: TestApp;
  beforeAll(async () => {
    [t, custom] = await Promise.all([
      startTestApp(backend),
      startTestApp(backend, { STORE_LEVELS: 'INFO,ERROR', MESSAGE_LEVEL: 'INFO', MESSAGE_EXPIRE_DAYS: '0' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([t?.close(), custom?.close()]);
  });

  describe('levels and tags', () => {
    it.each(LEVELS)('%s has levelValue %i and levelTag "%s", stored or flash', async (level, value, tag) => {
      const p = await newProducer(t);
      const u = await newUser(t);
      const sent = await sendTo(p, u.sub, { level });
      const [stored] = (await archive(u)).nodes;
      const own = await addOwn(u, { level, extraTags: 'urgent' });
      for (const m of [sent.message, stored, own.message]) {
        expect(m).toMatchObject({ level, levelValue: value, levelTag: tag });
      }
      expect(sent.message.extraTags).toBe('');
      expect(stored.tags).toBe(tag);
      expect(own.message.tags).toBe(`urgent ${tag}`);
    });

    it('tags are extraTags and levelTag joined by one space, trimmed', async () => {
      const p = await newProducer(t);
      const u = await newUser(t);
      await sendTo(p, u.sub, { level: 'STORED_ERROR', extraTags: 'urgent' });
      await sendTo(p, u.sub, { level: 'STORED_ERROR' });
      const { nodes } = await archive(u);
      expect(nodes.map((m) => [m.extraTags, m.tags])).toEqual([['', 'stored error'], ['urgent', 'urgent stored error']]);
    });
  });

  describe('addMessage', () => {
    it('stores the STORED_* levels by default (inbox and archive)', async () => {
      const u = await newUser(t);
      for (const [level] of LEVELS.filter(([l]) => l.startsWith('STORED_'))) {
        const r = await addOwn(u, { level, text: level });
        expect(r.stored).toBe(true);
        expect(r.message).toMatchObject({ stored: true, read: false, readAt: null, text: level });
        expect(await messageById(u, r.message.id)).toEqual(r.message);
      }
      expect(await counts(u)).toEqual({ unread: 5, inboxTotal: 5, archiveTotal: 5 });
    });

    it('keeps other levels as flash messages: not stored, but pending', async () => {
      const u = await newUser(t);
      const r = await addOwn(u, { level: 'INFO', text: 'just so you know' });
      expect(r.stored).toBe(false);
      expect(r.message).toMatchObject({ stored: false, read: false, text: 'just so you know', level: 'INFO', levelValue: 20 });
      expect(await counts(u)).toEqual({ unread: 0, inboxTotal: 0, archiveTotal: 0 });
      expect((await pending(u)).map((m) => m.id)).toEqual([r.message.id]);
    });

    it('follows STORE_LEVELS and drops levels below MESSAGE_LEVEL', async () => {
      const u = await newUser(custom);
      const expected: Record<string, 'stored' | 'flash' | 'dropped'> = {
        INFO: 'stored', ERROR: 'stored', STORED_ERROR: 'flash', WARNING: 'flash', STORED_INFO: 'flash',
        DEBUG: 'dropped', STORED_DEBUG: 'dropped',
      };
      const results: Record<string, { stored: boolean; id: string }> = {};
      for (const level of Object.keys(expected)) {
        const r = await addOwn(u, { level, text: level });
        results[level] = { stored: r.stored, id: r.message.id };
        expect(r.message.stored).toBe(r.stored);
      }
      const byFate = (fate: string) => Object.keys(expected).filter((l) => expected[l] === fate);
      for (const level of byFate('stored')) expect(results[level].stored).toBe(true);
      for (const level of [...byFate('flash'), ...byFate('dropped')]) expect(results[level].stored).toBe(false);
      const archived = await archive(u);
      expect(archived.nodes.map((m) => m.level).sort()).toEqual(byFate('stored').sort());
      // Flash messages first (oldest first), then the unread stored ones.
      expect((await pending(u)).map((m) => m.text)).toEqual([...byFate('flash'), ...byFate('stored')]);
    });

    it('rejects empty text and an expiresAt in the past, storing nothing', async () => {
      const u = await newUser(t);
      expect(errorCode(await addOwnRaw(u, { text: '' }))).toBe('BAD_USER_INPUT');
      expect(errorCode(await addOwnRaw(u, { text: '   ' }))).toBe('BAD_USER_INPUT');
      expect(errorCode(await addOwnRaw(u, { expiresAt: isoDaysAgo(1) }))).toBe('BAD_USER_INPUT');
      expect(await counts(u)).toEqual({ unread: 0, inboxTotal: 0, archiveTotal: 0 });
      expect(await pending(u)).toEqual([]);
    });
  });

  describe('addMessageFor', () => {
    it('stores one message, with one id, for each listed user (de-duplicated)', async () => {
      const p = await newProducer(t);
      const [a, b] = [await newUser(t), await newUser(t)];
      const r = await sendTo(p, [a.sub, b.sub, a.sub, b.sub], { level: 'STORED_WARNING', text: 'heads up' });
      expect(r.recipientCount).toBe(2);
      for (const u of [a, b]) {
        expect(await counts(u)).toEqual({ unread: 1, inboxTotal: 1, archiveTotal: 1 });
        const [m] = (await inbox(u)).nodes;
        expect(m).toEqual(r.message);
      }
    });

    it('keeps concurrent sends apart (they may share one write): each its own message, every recipient all of theirs and no other', async () => {
      const p = await newProducer(t);
      const [a, b, c] = [await newUser(t), await newUser(t), await newUser(t)];
      // 40 requests at once: to a alone, to a and b, and (one in four) to c alone.
      const to = (k: number) => (k % 4 === 3 ? [c.sub] : k % 2 ? [a.sub, b.sub] : [a.sub]);
      const sent = await Promise.all(Array.from({ length: 40 }, (_, k) => sendTo(p, to(k), { text: `c${k}` })));
      expect(new Set(sent.map((r) => r.message.id)).size).toBe(40);
      expect(sent.map((r) => [r.message.text, r.recipientCount])).toEqual(sent.map((_, k) => [`c${k}`, to(k).length]));
      for (const u of [a, b, c]) {
        const mine = sent.filter((_, k) => to(k).includes(u.sub)).map((r) => r.message);
        expect(await counts(u)).toEqual({ unread: mine.length, inboxTotal: mine.length, archiveTotal: mine.length });
        const listed = (await inbox(u, { first: 100 })).nodes;
        expect(listed.map((m) => m.id).sort()).toEqual(mine.map((m) => m.id).sort());
        expect(listed.map((m) => m.text).sort()).toEqual(mine.map((m) => m.text).sort());
      }
    });

    it('returns the message as a recipient sees it before reading it', async () => {
      const p = await newProducer(t);
      const u = await newUser(t);
      const before = Date.now();
      const { message } = await sendTo(p, u.sub, { level: 'STORED_SUCCESS', text: 'done ✓' });
      expect(message).toMatchObject({ text: 'done ✓', stored: true, read: false, readAt: null, url: null, data: null, extraTags: '' });
      expect(Date.parse(message.createdAt)).toBeGreaterThanOrEqual(before - 1000);
      expect(message.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(Date.parse(message.expiresAt!) - Date.parse(message.createdAt)).toBe(120 * DAY);
    });

    it('round-trips date, url, data, extraTags and expiresAt', async () => {
      const p = await newProducer(t);
      const u = await newUser(t);
      // Three days ago, written with a +02:00 offset: output is UTC with milliseconds.
      const at = new Date(Math.floor(Date.now() / 1000) * 1000 - 3 * DAY + 789);
      const date = new Date(at.getTime() + 2 * 3_600_000).toISOString().replace('Z', '+02:00');
      const data = { orderId: 42, items: ['a', 'ü'], nested: { ok: true, none: null } };
      const input = { level: 'STORED_ERROR', text: 'Multiple errors', extraTags: 'extra', url: 'http://example.com/error', data, date };
      const now = Date.now();
      const dated = (await sendTo(p, u.sub, { ...input, date: isoDaysAgo(1, now) })).message;
      expect(dated.createdAt).toBe(isoDaysAgo(1, now));
      const given = (await sendTo(p, u.sub, { ...input, date: null, expiresAt: '2099-12-31T23:59:59.999Z' })).message;
      expect(given.expiresAt).toBe('2099-12-31T23:59:59.999Z');
      const r = (await sendTo(p, u.sub, input)).message;
      expect(r).toMatchObject({ createdAt: at.toISOString(), url: input.url, data, extraTags: 'extra', tags: 'extra stored error' });
      expect(Date.parse(r.expiresAt!)).toBe(Date.parse(r.createdAt) + 120 * DAY);
      expect(await messageById(u, r.id)).toEqual(r);
    });

    it('stores any level, even those addMessage would not store', async () => {
      const p = await newProducer(custom);
      const u = await newUser(custom);
      for (const level of ['DEBUG', 'STORED_DEBUG', 'WARNING']) await sendTo(p, u.sub, { level });
      expect((await counts(u)).unread).toBe(3);
    });

    it('sets no expiresAt when MESSAGE_EXPIRE_DAYS=0, even for an old date', async () => {
      const p = await newProducer(custom);
      const u = await newUser(custom);
      const r = await sendTo(p, u.sub, { date: isoDaysAgo(400) });
      expect(r.message.expiresAt).toBeNull();
      expect((await inbox(u)).ids).toEqual([r.message.id]);
    });

    it('refuses empty userIds and empty text, storing nothing', async () => {
      const p = await newProducer(t);
      const u = await newUser(t);
      expect(errorCode(await sendToRaw(p, []))).toBe('BAD_USER_INPUT');
      expect(errorCode(await sendToRaw(p, u.sub, { text: '' }))).toBe('BAD_USER_INPUT');
      expect(await counts(u)).toEqual({ unread: 0, inboxTotal: 0, archiveTotal: 0 });
    });

    it('lets a producer read its own inbox like any user', async () => {
      const [p, other] = [await newProducer(t), await newProducer(t)];
      expect(await counts(p)).toEqual({ unread: 0, inboxTotal: 0, archiveTotal: 0 });
      const r = await sendTo(other, p.sub, { text: 'for a producer' });
      expect((await inbox(p)).ids).toEqual([r.message.id]);
    });
  });

  describe('broadcastMessage', () => {
    it('reaches every user known when it is sent, once, with one id', async () => {
      const p = await newProducer(t);
      const [a, b] = [await knownUser(t), await knownUser(t)];
      const receiver = await newUser(t); // known by receiving a message, never called
      await sendTo(p, receiver.sub, { text: 'welcome' });
      const r = await broadcast(p, { level: 'STORED_INFO', text: 'maintenance tonight', extraTags: 'ops', url: 'https://status.example.com', data: { window: '22-23' } });
      expect(r.message).toMatchObject({ stored: true, read: false, readAt: null, tags: 'ops stored info', data: { window: '22-23' } });
      for (const u of [a, b, receiver]) {
        const page = await archive(u);
        expect(page.nodes[0]).toEqual(r.message);
        expect(page.ids.filter((id) => id === r.message.id)).toHaveLength(1);
      }
      expect((await counts(a)).unread).toBe(1);
      expect((await counts(receiver)).unread).toBe(2);
    });

    it('does not reach users known later, nor make calling producers users', async () => {
      const p = await newProducer(t);
      const first = await broadcast(p, { text: 'early' });
      const later = await knownUser(t);
      await (await newProducer(t)).q('{ unreadCount pendingMessages { id } }');
      const second = await broadcast(p, { text: 'late' });
      // Exactly one user became known between the broadcasts: the producers did not count.
      expect(second.recipientCount - first.recipientCount).toBe(1);
      expect((await archive(later)).ids).toEqual([second.message.id]);
      const notYet = await newUser(t);
      const third = await broadcast(p, { text: 'latest' });
      expect(third.recipientCount - second.recipientCount).toBe(0);
      expect(await counts(notYet)).toEqual({ unread: 0, inboxTotal: 0, archiveTotal: 0 });
    });

    it('makes a user known on any call with a valid token, even one that reads nothing', async () => {
      const p = await newProducer(t);
      const before = await broadcast(p, { text: 'before' });
      const caller = await newUser(t);
      expect(await caller.q('{ __typename }')).toEqual({ __typename: 'Query' });
      const after = await broadcast(p, { text: 'after' });
      expect(after.recipientCount - before.recipientCount).toBe(1);
      expect((await archive(caller)).ids).toEqual([after.message.id]);
    });

    it('counts recipients: every known user', async () => {
      const p = await newProducer(t);
      const before = await broadcast(p);
      for (let i = 0; i < 3; i++) await knownUser(t);
      const after = await broadcast(p);
      expect(after.recipientCount - before.recipientCount).toBe(3);
      expect(before.recipientCount).toBeGreaterThan(0);
    });

    it('orders a broadcast among direct messages by delivery', async () => {
      const p = await newProducer(t);
      const u = await knownUser(t);
      const one = await sendTo(p, u.sub, { text: 'one' });
      const b = await broadcast(p, { text: 'all' });
      const two = await sendTo(p, u.sub, { text: 'two' });
      expect((await archive(u)).ids).toEqual([two.message.id, b.message.id, one.message.id]);
      expect((await pending(u)).map((m) => m.id)).toEqual([one.message.id, b.message.id, two.message.id]);
    });
  });
});

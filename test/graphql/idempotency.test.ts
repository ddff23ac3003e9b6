import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, errorCode, startTestApp, type TestApp } from '../harness.js';
import {
  addOwn, addOwnRaw, archive, broadcast, broadcastRaw, counts, knownUser, markRead, newProducer, newUser, pending, sendTo, sendToRaw,
} from '../factories.js';
import { dropRedisPrefix, liveEnv } from '../live/helpers.js';

describe.each(BACKENDS)('idempotency keys on %s', (backend) => {
  let t: TestApp;
  /** MESSAGE_LEVEL=INFO, so DEBUG messages are dropped. */
  let strict: TestApp;
  beforeAll(async () => {
    [t, strict] = await Promise.all([startTestApp(backend), startTestApp(backend, { MESSAGE_LEVEL: 'INFO' })]);
  });
  afterAll(async () => {
    await Promise.all([t?.close(), strict?.close()]);
  });

  const key = () => `key-${randomUUID()}`;

  describe('addMessageFor', () => {
    it('replays the first result and stores nothing new', async () => {
      const p = await newProducer(t);
      const [a, b] = [await newUser(t), await newUser(t)];
      const input = { idempotencyKey: key(), text: 'once', data: { n: 1 }, url: 'https://example.com' };
      const first = await sendTo(p, [a.sub, b.sub], input);
      const again = await sendTo(p, [a.sub, b.sub], input);
      expect(again).toEqual(first);
      for (const u of [a, b]) expect(await counts(u)).toEqual({ unread: 1, inboxTotal: 1, archiveTotal: 1 });
    });

    it('replays the first result as it was, even after recipients read it', async () => {
      const p = await newProducer(t);
      const u = await newUser(t);
      const input = { idempotencyKey: key() };
      const first = await sendTo(p, u.sub, input);
      await markRead(u, [first.message.id]);
      const again = await sendTo(p, u.sub, input);
      expect(again).toEqual(first);
      expect(again.message.read).toBe(false);
      expect(await counts(u)).toEqual({ unread: 0, inboxTotal: 0, archiveTotal: 1 });
    });

    it('refuses the same key with different input, storing nothing', async () => {
      const p = await newProducer(t);
      const [a, b] = [await newUser(t), await newUser(t)];
      const k = key();
      await sendTo(p, a.sub, { idempotencyKey: k, text: 'first' });
      const changes = [
        { userIds: a.sub, input: { text: 'second' } },
        { userIds: [a.sub, b.sub], input: { text: 'first' } },
        { userIds: a.sub, input: { text: 'first', level: 'STORED_ERROR' } },
        { userIds: a.sub, input: { text: 'first', extraTags: 'x' } },
      ];
      for (const c of changes) {
        const r = await sendToRaw(p, c.userIds, { idempotencyKey: k, ...c.input });
        expect(errorCode(r)).toBe('BAD_USER_INPUT');
        expect(r.errors?.[0].extensions?.field).toBe('input.idempotencyKey');
      }
      expect((await counts(a)).archiveTotal).toBe(1);
      expect((await counts(b)).archiveTotal).toBe(0);
    });

    it('scopes keys per caller', async () => {
      const [p1, p2] = [await newProducer(t), await newProducer(t)];
      const u = await newUser(t);
      const input = { idempotencyKey: key() };
      const one = await sendTo(p1, u.sub, input);
      const two = await sendTo(p2, u.sub, input);
      expect(two.message.id).not.toBe(one.message.id);
      expect((await counts(u)).archiveTotal).toBe(2);
    });
  });

  describe('addMessage', () => {
    it('replays a stored message without storing it twice', async () => {
      const u = await newUser(t);
      const input = { level: 'STORED_INFO', idempotencyKey: key() };
      const first = await addOwn(u, input);
      const again = await addOwn(u, input);
      expect(again).toEqual(first);
      expect(again.stored).toBe(true);
      expect(await counts(u)).toEqual({ unread: 1, inboxTotal: 1, archiveTotal: 1 });
    });

    it('replays a flash message without queueing it twice', async () => {
      const u = await newUser(t);
      const input = { level: 'INFO', text: 'saved', idempotencyKey: key() };
      const first = await addOwn(u, input);
      const again = await addOwn(u, input);
      expect(again).toEqual(first);
      expect(again.stored).toBe(false);
      expect((await pending(u)).map((m) => m.id)).toEqual([first.message.id]);
    });

    it('replays a dropped message, still delivering nothing', async () => {
      const u = await newUser(strict);
      const input = { level: 'DEBUG', idempotencyKey: key() };
      const first = await addOwn(u, input);
      expect(await addOwn(u, input)).toEqual(first);
      expect(await pending(u)).toEqual([]);
    });

    it('refuses the same key with different input (stored or flash), storing nothing', async () => {
      const u = await newUser(t);
      const stored = key();
      await addOwn(u, { level: 'STORED_INFO', text: 'a', idempotencyKey: stored });
      expect(errorCode(await addOwnRaw(u, { level: 'STORED_INFO', text: 'b', idempotencyKey: stored }))).toBe('BAD_USER_INPUT');
      expect(errorCode(await addOwnRaw(u, { level: 'INFO', text: 'a', idempotencyKey: stored }))).toBe('BAD_USER_INPUT');
      const flash = key();
      await addOwn(u, { level: 'INFO', text: 'c', idempotencyKey: flash });
      expect(errorCode(await addOwnRaw(u, { level: 'INFO', text: 'd', idempotencyKey: flash }))).toBe('BAD_USER_INPUT');
      expect(errorCode(await addOwnRaw(u, { level: 'STORED_INFO', text: 'c', idempotencyKey: flash }))).toBe('BAD_USER_INPUT');
      expect(await counts(u)).toEqual({ unread: 1, inboxTotal: 1, archiveTotal: 1 });
      expect((await pending(u)).map((m) => m.text)).toEqual(['c', 'a']);
    });

    it('gives 20 concurrent flash calls with one key one message and one answer, flash kept in-process or in Redis', async () => {
      // The storage backend keeps the key; flash messages live in this process, or in Redis with REDIS_URL.
      const live = liveEnv('redis');
      const apps = backend === 'redis' ? [t] : [t, await startTestApp(backend, live.env)];
      try {
        for (const app of apps) {
          const u = await newUser(app);
          const input = { level: 'INFO', text: 'once', idempotencyKey: key() };
          const answers = await Promise.all(Array.from({ length: 20 }, () => addOwn(u, input)));
          expect(new Set(answers.map((a) => a.message.id)).size).toBe(1);
          for (const a of answers) expect(a).toEqual(answers[0]);
          expect((await pending(u)).map((m) => m.id)).toEqual([answers[0].message.id]);
        }
      } finally {
        await Promise.all(apps.slice(1).map((app) => app.close()));
        await dropRedisPrefix(live.prefix);
      }
    });

    it('scopes keys per caller', async () => {
      const [a, b] = [await newUser(t), await newUser(t)];
      const input = { level: 'STORED_INFO', text: 'same', idempotencyKey: key() };
      const one = await addOwn(a, input);
      const two = await addOwn(b, input);
      expect(two.message.id).not.toBe(one.message.id);
      expect((await archive(b)).ids).toEqual([two.message.id]);
    });
  });

  describe('broadcastMessage', () => {
    it('replays the first broadcast and delivers it once', async () => {
      const p = await newProducer(t);
      const u = await knownUser(t);
      const input = { idempotencyKey: key(), text: 'once for everyone' };
      const first = await broadcast(p, input);
      const again = await broadcast(p, input);
      expect(again).toEqual(first);
      expect((await archive(u)).ids).toEqual([first.message.id]);
      expect(errorCode(await broadcastRaw(p, { ...input, text: 'something else' }))).toBe('BAD_USER_INPUT');
      expect((await archive(u)).ids).toEqual([first.message.id]);
    });
  });

  it('scopes keys per mutation: the same key on another mutation is independent', async () => {
    const p = await newProducer(t);
    const u = await knownUser(t);
    const k = key();
    const own = await addOwn(p, { level: 'STORED_INFO', text: 'same text', idempotencyKey: k });
    const sent = await sendTo(p, u.sub, { level: 'STORED_INFO', text: 'same text', idempotencyKey: k });
    const all = await broadcast(p, { level: 'STORED_INFO', text: 'same text', idempotencyKey: k });
    expect(new Set([own.message.id, sent.message.id, all.message.id]).size).toBe(3);
    expect((await archive(u)).ids).toEqual([all.message.id, sent.message.id]);
  });

  it('an empty key is BAD_USER_INPUT', async () => {
    const u = await newUser(t);
    expect(errorCode(await addOwnRaw(u, { idempotencyKey: '' }))).toBe('BAD_USER_INPUT');
    expect(await counts(u)).toEqual({ unread: 0, inboxTotal: 0, archiveTotal: 0 });
  });
});

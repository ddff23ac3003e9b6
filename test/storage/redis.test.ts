import { connect, createServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { openStorage, type Storage } from '../../src/storage/index.js';
import { completeJournal } from '../../src/storage/redis/journal.js';
import { ATOMIC_SEND_MAX } from '../../src/storage/redis/send.js';
import type { MessageStore } from '../../src/domain/message-store.js';
import { REDIS_URL } from '../env.js';
import { deleteRedisKeys } from '../harness.js';
import { startTcpProxy } from '../tcp-proxy.js';
import { countsInIdOrder, runStoreContract, msg, idsOf as idsOfStore } from './contract.js';
import { contextOn, Died, logger, newPrefix, openOn, sleep, storeWithHooks, uid } from './redis-helpers.js';

// The storage contract on the Redis store, single server, webhooks on: a key prefix of its own, removed
// afterwards; the twin is a second store on it, as another process would open.
runStoreContract('Redis', async () => {
  const prefix = newPrefix();
  const [store, twin] = (await Promise.all([openOn(prefix), openOn(prefix)])) as Storage[];
  return {
    store,
    twin,
    outbox: store.webhooks,
    twinOutbox: twin.webhooks,
    close: async () => {
      await Promise.all([store.close(), twin.close()]);
      await deleteRedisKeys(prefix);
    },
  };
});

describe('Redis store on a single server: large sends, interrupted sends and delivery chunks', () => {
  const prefix = newPrefix();
  let store: MessageStore;
  beforeAll(async () => {
    store = await openOn(prefix);
  });
  afterAll(async () => {
    await store?.close();
    await deleteRedisKeys(prefix);
  });

  const idsOf = (user: string) => idsOfStore(store, user);

  it(`delivers a send to more than ${ATOMIC_SEND_MAX} users (journalled, in chunks) to every one of them, once`, async () => {
    const users = Array.from({ length: ATOMIC_SEND_MAX * 2 + 7 }, () => uid());
    await store.send(msg({ text: 'first' }), { userIds: users.slice(0, 3) });
    const claim = { scope: `addMessageFor:${uid('caller')}`, key: uid('key'), fingerprint: 'f'.repeat(64) };
    const sent = await store.send(msg({ text: 'to many' }), { userIds: [...users, users[0]] }, claim);
    expect(sent.recipientCount).toBe(users.length);
    const counts = new Map(sent.recipients?.map((r) => [r.userId, r.unreadCount]));
    expect(counts.size).toBe(users.length);
    users.forEach((u, i) => expect(counts.get(u)).toBe(i < 3 ? 2 : 1));
    for (const u of [users[0], users[ATOMIC_SEND_MAX], users[users.length - 1]]) expect(await idsOf(u)).toContain(sent.message.id);
    const replay = await store.send(msg({ text: 'to many' }), { userIds: users }, claim);
    expect(replay).toMatchObject({ replayed: true, recipientCount: users.length });
    expect(await store.unreadCount(users[users.length - 1])).toBe(1);
    // Every user is known now: a broadcast reaches all of them.
    const probe = await store.send(msg({ text: 'probe' }), { everyone: true });
    expect(probe.recipientCount).toBe(users.length);
  });

  it('completes an interrupted large send at the next cleanup, without bringing back what a user deleted', async () => {
    // Another process delivers a large send's first chunk (a's) and dies before the others.
    const users = Array.from({ length: ATOMIC_SEND_MAX + 50 }, () => uid()).sort();
    const [a, b, c] = [users[0], users[ATOMIC_SEND_MAX], users[users.length - 1]];
    const dying = await storeWithHooks(prefix, {
      beforeDelivery: ({ users: chunk }) => {
        if (!chunk.includes(a)) throw new Died();
      },
    });
    await expect(dying.send(msg({ text: 'interrupted' }), { userIds: users })).rejects.toThrow(Died);
    await dying.close();

    const [id] = await idsOf(a);
    expect(id).toBeDefined();
    expect(await idsOf(b)).toEqual([]);
    expect((await store.deleteMessages(a, [id])).deleted).toEqual([id]);

    await sleep(5500); // journal entries are handed over to recovery after 5 s
    await store.cleanupExpired(1000);
    expect(await idsOf(a)).toEqual([]);
    expect(await idsOf(b)).toEqual([id]);
    expect(await idsOf(c)).toEqual([id]);
    for (const [u, n] of [[a, 0], [b, 1], [c, 1]] as const) expect(await store.unreadCount(u)).toBe(n);
  });

  it('delivers once, never what a user deleted or what expired, unread below the read watermark, with exact counts', async () => {
    const ctx = await contextOn(prefix);
    try {
      // Sorted ids put a and b in the first delivery chunk, c and d in the last one.
      const [a, b, c, d] = [uid('a'), uid('b'), uid('y'), uid('z')];
      const users = [a, b, c, d, ...Array.from({ length: ATOMIC_SEND_MAX }, () => uid('m'))];
      await store.send(msg({ text: 'known' }), { userIds: [a, b, c, d] });
      await store.send(msg({ text: 'soon expired', expiresAt: new Date(Date.now() + 300) }), { userIds: [d] });
      // Journalled sends by a process that dies after its first chunk (after its first step, for `expired`).
      let onlyFirst = true;
      const begun: string[] = [];
      const dying = await storeWithHooks(prefix, {
        beforeDelivery: ({ id, users: chunk }) => {
          if (!begun.includes(id)) begun.push(id);
          if (!onlyFirst || !chunk.includes(a)) throw new Died();
        },
      });
      await expect(dying.send(msg({ text: 'journalled' }), { userIds: users })).rejects.toThrow(Died);
      onlyFirst = false;
      await expect(dying.send(msg({ text: 'expired', expiresAt: new Date(Date.now() - 1000) }), { userIds: users })).rejects.toThrow(Died);
      await dying.close();
      const [m, expired] = begun;

      for (const u of [a, b]) expect(await store.unreadCount(u)).toBe(2);
      expect((await store.deleteMessages(b, [m])).deleted).toEqual([m]);
      // c reads everything up to a later message: m then arrives below c's read watermark.
      await store.send(msg({ text: 'later' }), { userIds: [c] });
      expect((await store.markAllRead(c, new Date(Date.now() + 1000))).count).toBe(2);
      await sleep(400); // d's first delivery expires (the cleanup has not reclaimed it)

      // Completed as recovery would: again for a (has it) and b (deleted it); c and d for the first time.
      const counts = await completeJournal(ctx, m);
      expect([a, b, c, d].map((u) => counts.get(u)?.unreadCount)).toEqual([2, 1, 1, 2]);
      expect([a, b, c, d].map((u) => counts.get(u)?.unseenCount)).toEqual([2, 1, 1, 2]);
      expect((await completeJournal(ctx, expired)).get(a)?.unreadCount).toBe(2);

      const unread = async (u: string) =>
        (await store.list(u, { unreadOnly: true, filter: {}, direction: 'forward', limit: 100, cursor: null })).items.map((i) => i.message.id);
      expect(await idsOf(a)).toContain(m);
      expect(await idsOf(a)).not.toContain(expired);
      expect(await idsOf(b)).not.toContain(m);
      expect(await unread(c)).toEqual([m]);
      for (const [u, n] of [[a, 2], [b, 1], [c, 1], [d, 2]] as const) expect(await store.unreadCount(u)).toBe(n);

      // Completing them again changes nothing: their journal entries are gone.
      expect((await completeJournal(ctx, m)).size).toBe(0);
      for (const [u, n] of [[a, 2], [b, 1], [c, 1], [d, 2]] as const) expect(await store.unreadCount(u)).toBe(n);
      expect(await ctx.client.hmget(ctx.keys.global.journal, m, expired)).toEqual([null, null]);
    } finally {
      ctx.client.disconnect();
    }
  });
});

describe('Redis store: one slot per user, whatever the id', () => {
  const prefix = newPrefix();
  let store: MessageStore;
  beforeAll(async () => {
    store = await openOn(prefix);
  });
  afterAll(async () => {
    await store?.close();
    await deleteRedisKeys(prefix);
  });

  it('escapes braces and % in ids alike where scripts name keys and where the store does', async () => {
    const odd = [`a{b}%c-${uid()}`, `}{-${uid()}`, `%7B-${uid()}`];
    // A grouped send (send-batch.lua names the keys in Lua) and a large journalled one (deliver-chunk.lua).
    await Promise.all(odd.map((u) => store.send(msg({ text: 'grouped' }), { userIds: [u] })));
    const many = [...odd, ...Array.from({ length: ATOMIC_SEND_MAX }, () => uid())];
    await store.send(msg({ text: 'journalled' }), { userIds: many });
    const ctx = await contextOn(prefix);
    try {
      for (const u of odd) {
        // Read back through keys the store names in TypeScript (keys.ts, userTag).
        expect(await store.unreadCount(u)).toBe(2);
        const escaped = u.replace(/%/g, '%25').replace(/\{/g, '%7B').replace(/\}/g, '%7D');
        expect(await ctx.client.zcard(`${prefix}{user:${escaped}}:deliveries`)).toBe(2);
      }
      expect(await ctx.client.keys(`${prefix}{user:a{*`)).toEqual([]);
    } finally {
      ctx.client.disconnect();
    }
  });
});

describe('Redis store readiness', () => {
  it('fails ping and sends while Redis is unreachable, and serves both again once it is back', async () => {
    // A real TCP proxy in front of the real Redis, which the test cuts and restores.
    const proxy = await startTcpProxy(REDIS_URL);
    const prefix = newPrefix();
    const store = await openStorage(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', STORAGE_BACKEND: 'redis', REDIS_URL: proxy.url, REDIS_PREFIX: prefix }), { logger });
    try {
      await expect(store.ping()).resolves.toBeUndefined();
      proxy.cut();
      await expect(store.ping()).rejects.toThrow();
      await expect(store.unreadCount(uid())).rejects.toThrow();
      // Concurrent direct sends (grouped into batches) each fail, and leave no batch stuck behind them.
      const user = uid();
      const down = await Promise.allSettled(Array.from({ length: 20 }, (_, k) => store.send(msg({ text: `down ${k}` }), { userIds: [user] })));
      expect(down.map((r) => r.status)).toEqual(down.map(() => 'rejected'));
      proxy.restore();
      let back = false;
      for (let i = 0; i < 100 && !back; i++) back = await store.ping().then(() => true, () => sleep(100).then(() => false));
      expect(back).toBe(true);
      expect(await store.unreadCount(user)).toBe(0);
      const sent = await Promise.all(Array.from({ length: 20 }, (_, k) => store.send(msg({ text: `up ${k}` }), { userIds: [user] })));
      expect(countsInIdOrder(sent, user)).toEqual(sent.map((_, i) => i + 1));
      expect(await store.unreadCount(user)).toBe(20);
    } finally {
      await store.close();
      await proxy.close();
      await deleteRedisKeys(prefix);
    }
  });
});

describe('Redis configuration', () => {
  const base = { NODE_ENV: 'test', STORAGE_BACKEND: 'redis' } as const;
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig({ ...base, ...env });
      return [];
    } catch (err) {
      return (err as ConfigError).problems;
    }
  };

  it('accepts a single server, a redis+cluster URL, or a list of cluster nodes', () => {
    expect(problems({ REDIS_URL: 'redis://127.0.0.1:6379/2' })).toEqual([]);
    expect(problems({ REDIS_URL: 'redis+cluster://:secret@10.0.0.1:7000,10.0.0.2:7001' })).toEqual([]);
    expect(loadConfig({ ...base, REDIS_CLUSTER_NODES: '10.0.0.1:7000, [::1]:7001' }).redisClusterNodes).toBe('10.0.0.1:7000, [::1]:7001');
  });

  it('names every bad Redis variable, and refuses braces in the prefix (they would move keys between cluster slots)', () => {
    const found = problems({ REDIS_URL: 'redis+cluster://host-without-port', REDIS_CLUSTER_NODES: 'a:1,b', REDIS_PREFIX: 'sm{x}:' }).join('\n');
    for (const name of ['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_PREFIX']) expect(found).toContain(name);
  });
});

import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openStorage, type Storage } from '../../src/storage/index.js';
import { completeJournal } from '../../src/storage/redis/journal.js';
import type { MessageStore } from '../../src/domain/message-store.js';
import { startRedisCluster, type TestCluster } from '../redis-cluster.js';
import { runStoreContract, msg, idsOf as idsOfStore } from './contract.js';
import { ALL_SIGNALS, contextOn, Died, storeWithHooks } from './redis-helpers.js';
import { waitFor } from '../support.js';

const logger = pino({ level: 'silent' });
const uid = (p = 'u') => `${p}-${randomBytes(6).toString('hex')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Opens the store on the cluster, named by its redis+cluster:// URL or (byNodes) by REDIS_CLUSTER_NODES. */
const open = (cluster: TestCluster, prefix: string, byNodes = false) =>
  openStorage(
    loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      STORAGE_BACKEND: 'redis',
      ...(byNodes ? { REDIS_CLUSTER_NODES: cluster.ports.map((p) => `127.0.0.1:${p}`).join(',') } : { REDIS_URL: cluster.url }),
      REDIS_PREFIX: prefix,
    }),
    { logger, webhookSignals: ALL_SIGNALS },
  );

// One real three-node Redis Cluster for this file, started on first use and stopped at the end.
let started: Promise<TestCluster> | undefined;
const theCluster = () => (started ??= startRedisCluster());
afterAll(async () => (await started?.catch(() => undefined))?.stop());

// The same storage contract as on a single server.
runStoreContract('Redis Cluster', async () => {
  const cluster = await theCluster();
  const [store, twin] = (await Promise.all([open(cluster, 'smtest:contract:'), open(cluster, 'smtest:contract:', true)])) as Storage[];
  return { store, twin, outbox: store.webhooks, twinOutbox: twin.webhooks, close: async () => void (await Promise.all([store.close(), twin.close()])) };
});

describe('Redis store on a cluster: what a single server cannot show', () => {
  let cluster: TestCluster;
  let store: MessageStore;
  const prefix = 'smtest:cluster:';

  beforeAll(async () => {
    cluster = await theCluster();
    store = await open(cluster, prefix, true);
  });
  afterAll(async () => store?.close());

  const idsOf = (user: string) => idsOfStore(store, user);

  it('spreads users and bodies over every node, and a multi-user send still reaches all of them', async () => {
    const users = Array.from({ length: 30 }, () => uid());
    const sent = await store.send(msg({ text: 'to thirty' }), { userIds: users });
    expect(sent.recipientCount).toBe(30);
    for (const u of users) expect(await idsOf(u)).toEqual([sent.message.id]);
    const sizes = await Promise.all(
      cluster.ports.map(async (port) => {
        const r = new Redis({ host: '127.0.0.1', port });
        try {
          return await r.dbsize();
        } finally {
          r.disconnect();
        }
      }),
    );
    for (const size of sizes) expect(size).toBeGreaterThan(0);
  });

  it('completes sends interrupted midway, without resurrecting a deletion, and holds back later broadcasts until then', async () => {
    // A second process on the same cluster delivers a send to a only, starts a broadcast, and dies.
    const [a, b, c, reader] = [uid(), uid(), uid(), uid()];
    await store.ensureUser(reader);
    let id = '';
    let stuckBroadcast = '';
    const dying = await storeWithHooks(
      prefix,
      {
        beforeDelivery: async ({ id: sending, users }) => {
          id = sending;
          if (users[0] === a) return;
          // Users are delivered concurrently on a cluster: die only once a's delivery has landed, not before it ran.
          await waitFor(async () => (await idsOf(a)).length === 1, { what: "a's delivery" });
          throw new Died();
        },
        beforeFinish: ({ id: sending }) => {
          stuckBroadcast = sending;
          throw new Died();
        },
      },
      cluster.url,
    );
    await expect(dying.send(msg({ text: 'interrupted' }), { userIds: [a, b, c] })).rejects.toThrow(Died);
    await expect(dying.send(msg({ text: 'interrupted' }), { everyone: true })).rejects.toThrow(Died);
    await dying.close();

    // Midway: a has it, b and c do not yet; a deletes it.
    expect(await idsOf(a)).toEqual([id]);
    expect(await idsOf(b)).toEqual([]);
    expect((await store.deleteMessages(a, [id])).deleted).toEqual([id]);
    // A broadcast sent after the interrupted one stays invisible until that one is published.
    const later = await store.send(msg({ text: 'later broadcast' }), { everyone: true });
    expect(await idsOf(reader)).toEqual([]);

    await sleep(5500); // the journal hands entries over to recovery after 5 s
    await store.cleanupExpired(1000);

    // a, b and c became known with the interrupted send, so both broadcasts reach them too.
    const broadcasts = [later.message.id, stuckBroadcast];
    expect(await idsOf(reader)).toEqual(broadcasts);
    expect(await idsOf(a)).toEqual(broadcasts); // the deleted message stays deleted
    expect(await idsOf(b)).toEqual([...broadcasts, id]);
    expect(await idsOf(c)).toEqual([...broadcasts, id]);
    for (const u of [reader, a]) expect(await store.unreadCount(u)).toBe(2);
    for (const u of [b, c]) expect(await store.unreadCount(u)).toBe(3);
  });

  it('keeps a send or broadcast completed after a mark-all-read unread, although its id is below the read watermark', async () => {
    const ctx = await contextOn(prefix, cluster.url);
    const a = uid();
    await store.ensureUser(a);
    // Both get their ids first (another process stops each before its deliveries or its publication).
    const begun: string[] = [];
    const stop = ({ id }: { id: string }) => {
      begun.push(id);
      throw new Died();
    };
    const dying = await storeWithHooks(prefix, { beforeDelivery: stop, beforeFinish: stop }, cluster.url);
    try {
      await expect(dying.send(msg({ text: 'late' }), { userIds: [a] })).rejects.toThrow(Died);
      await expect(dying.send(msg({ text: 'late' }), { everyone: true })).rejects.toThrow(Died);
      const [direct, bcast] = begun;
      // A direct message overtakes them and a marks everything read.
      const early = (await store.send(msg({ text: 'overtakes' }), { userIds: [a] })).message.id;
      expect(await store.markAllRead(a, new Date(Date.now() + 1000))).toMatchObject({ count: 1, unreadCount: 0 });
      const t1 = (await store.get(a, early))?.readAt;
      await completeJournal(ctx, direct);
      await completeJournal(ctx, bcast);
      expect(await store.unreadCount(a)).toBe(2);
      expect((await store.get(a, direct))?.readAt).toBeNull();
      expect((await store.get(a, bcast))?.readAt).toBeNull();
      expect((await store.get(a, early))?.readAt).toEqual(t1);
      const unread = await store.list(a, { unreadOnly: true, filter: {}, direction: 'forward', limit: 10, cursor: null });
      expect(unread.items.map((i) => i.message.id)).toEqual([bcast, direct]);
      expect(await store.markAllRead(a, new Date(Date.now() + 1000))).toMatchObject({ count: 2, unreadCount: 0 });
      expect((await store.get(a, early))?.readAt).toEqual(t1);
    } finally {
      await dying.close();
      ctx.client.disconnect();
    }
  });

  it('hands the trimming of the indexes a large mark-all-read leaves to the cleanup', async () => {
    const a = uid();
    for (let i = 0; i < 1050; i += 150) await Promise.all(Array.from({ length: 150 }, () => store.send(msg(), { userIds: [a] })));
    expect(await store.markAllRead(a, new Date(Date.now() + 1000))).toMatchObject({ count: 1050, unreadCount: 0 });
    const ctx = await contextOn(prefix, cluster.url);
    try {
      const leftovers = [ctx.keys.userKey(a, 'unread'), ctx.keys.userKey(a, 'unseen')];
      for (const n of leftovers) expect(await ctx.client.zcard(n)).toBe(50);
      expect(Number(await ctx.client.zscore(ctx.keys.global.usersDue, a))).toBeLessThanOrEqual(Date.now());
      await store.cleanupExpired(1000);
      for (const n of leftovers) expect(await ctx.client.zcard(n)).toBe(0);
      expect(await store.unreadCount(a)).toBe(0);
      expect((await store.list(a, { unreadOnly: false, filter: { read: true }, direction: 'forward', limit: 0, cursor: null })).totalCount).toBe(1050);
    } finally {
      ctx.client.disconnect();
    }
  });

  it('lets a retry with the same idempotency key finish an interrupted send and answer its result', async () => {
    const [a, b] = [uid(), uid()];
    const claim = { scope: `${uid('caller')}\u0000addMessageFor`, key: uid('key'), fingerprint: 'f'.repeat(64) };
    // Another process claims the key and dies before delivering.
    let id = '';
    const dying = await storeWithHooks(
      prefix,
      {
        beforeDelivery: ({ id: sending }) => {
          id = sending;
          throw new Died();
        },
      },
      cluster.url,
    );
    await expect(dying.send(msg({ text: 'retried' }), { userIds: [a, b] }, claim)).rejects.toThrow(Died);
    await dying.close();

    const retry = await store.send(msg({ text: 'retried' }), { userIds: [a, b] }, claim);
    expect(retry.replayed).toBe(true);
    expect(retry.message.id).toBe(id);
    expect(retry.message.text).toBe('retried');
    for (const u of [a, b]) {
      expect(await idsOf(u)).toEqual([id]);
      expect(await store.unreadCount(u)).toBe(1);
    }
    const again = await store.send(msg({ text: 'retried' }), { userIds: [a, b] }, claim);
    expect(again).toMatchObject({ replayed: true, recipientCount: 2 });
    expect(again.message.id).toBe(id);
  });
});

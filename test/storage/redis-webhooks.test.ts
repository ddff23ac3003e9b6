import { describe, expect, it } from 'vitest';
import type { SignalName } from '../../src/domain/signals.js';
import { ATOMIC_SEND_MAX } from '../../src/storage/redis/send.js';
import { deleteRedisKeys } from '../harness.js';
import { msg } from './contract.js';
import { recoverJournal } from '../../src/storage/redis/journal.js';
import { churn, contextOn, Died, newPrefix, openOn, redisStoreSuite, storeWithHooks, uid } from './redis-helpers.js';
import type { Storage } from '../../src/storage/index.js';
import { Expected, bodyOf, drain, takeWritten } from './contract/outbox-support.js';

// The webhook outbox on a single Redis server, beyond the storage contract (contract/webhooks.ts and
// contract/outbox.ts, run on every backend); the Cluster's: redis-cluster-webhooks.test.ts.
describe('Redis webhook outbox: what each change writes', () => {
  const suite = redisStoreSuite();
  const store = () => suite.store() as Storage;

  it('writes each recipient’s events once for group-committed batches and for a journalled send resumed after a crash', async () => {
    await drain(store().webhooks);
    const users = Array.from({ length: ATOMIC_SEND_MAX + 20 }, () => uid()).sort();
    const batched = await Promise.all(users.slice(0, 40).map((u) => store().send(msg(), { userIds: [u, users[0]] })));
    // Another process delivers the first chunk of a large send and dies before the rest.
    const dying = await storeWithHooks(suite.prefix, {
      beforeDelivery: ({ users: chunk }) => {
        if (!chunk.includes(users[0])) throw new Died();
      },
    });
    await expect(dying.send(msg({ text: 'interrupted' }), { userIds: users })).rejects.toThrow(Died);
    await dying.close();
    // Recovery as the cleanup runs it, without waiting for the entry's age.
    await recoverJournal(suite.ctx(), 1000, 0);
    const streams = await takeWritten(store().webhooks);
    const e = new Expected();
    for (const result of batched) e.add({ op: 'send', result });
    for (const u of [users[1], users[39]]) expect(streams.get(u)!.slice(0, 2).map(bodyOf)).toEqual(e.of(u));
    const [id] = (await store().list(users.at(-1)!, { unreadOnly: false, filter: {}, direction: 'forward', limit: 1, cursor: null })).items.map((i) => i.message.id);
    for (const u of [users[0], users[ATOMIC_SEND_MAX], users.at(-1)!]) {
      expect(streams.get(u)!.filter((e) => e.messageIds.includes(id)).map((e) => e.type)).toEqual(['ARCHIVE_STORED', 'INBOX_STORED']);
    }
  });

  it('writes only the wanted signals, and drops a change none of whose signals is wanted', async () => {
    const store = (await openOn(newPrefix(), { webhookSignals: new Set<SignalName>(['INBOX_STORED']) })) as Storage;
    try {
      const u = uid();
      const sent = await store.send(msg(), { userIds: [u] });
      await store.markAllRead(u, new Date());
      expect(await store.webhooks.pending()).toBe(1);
      const streams = await takeWritten(store.webhooks);
      expect(streams.get(u)!.map((b) => b.type)).toEqual(['INBOX_STORED']);
      expect(streams.get(u)![0].messageIds).toEqual([sent.message.id]);
      expect(await store.webhooks.pending()).toBe(0);
      // A change with no wanted event at the head of a stream is dropped by the claim, which keeps its lease.
      await store.send(msg(), { userIds: [u] });
      await drain(store.webhooks);
      expect((await store.markAllRead(u, new Date())).count).toBe(1);
      const later = await store.send(msg(), { userIds: [u] });
      const now = new Date();
      const [claim] = await store.webhooks.claim({ now, streams: 10, perStream: 10, leaseMs: 60_000 });
      expect(claim.items.map((i) => [i.event.type, i.event.messageIds])).toEqual([['INBOX_STORED', [later.message.id]]]);
      expect(await store.webhooks.claim({ now: new Date(now.getTime() + 1000), streams: 10, perStream: 10, leaseMs: 60_000 })).toEqual([]);
      await store.webhooks.acknowledge(claim.items.map((i) => i.event.id));
    } finally {
      await store.close();
    }
  });
});

describe('Redis webhook outbox: off', () => {
  it('writes no key and no field when webhooks are off', async () => {
    const prefix = newPrefix();
    const store = (await openOn(prefix, { webhookSignals: null })) as Storage;
    const ctx = await contextOn(prefix);
    try {
      const u = uid();
      const { message } = await store.send(msg(), { userIds: [u] });
      await store.send(msg(), { everyone: true });
      await store.setRead(u, [message.id], true);
      const g = ctx.keys.global;
      expect(await ctx.client.exists(ctx.keys.userKey(u, 'webhooks'), g.webhooks, g.webhooksDue)).toBe(0);
      expect(await ctx.client.hget(ctx.keys.userKey(u, 'state'), 'webhook-seq')).toBeNull();
      expect(await ctx.client.hget(ctx.keys.global.sequence, 'webhook-seq')).toBeNull();
      expect(await store.webhooks.claim({ now: new Date(), streams: 10, perStream: 10, leaseMs: 1000 })).toEqual([]);
    } finally {
      ctx.client.disconnect();
      await store.close();
      await deleteRedisKeys(prefix);
    }
  });
});

describe('Redis webhook outbox: claims, retries and the index', () => {
  const suite = redisStoreSuite();
  const store = () => suite.store() as Storage;
  const claimAt = (now: Date, o: { streams?: number; perStream?: number; leaseMs?: number } = {}) =>
    store().webhooks.claim({ now, streams: o.streams ?? 100, perStream: o.perStream ?? 100, leaseMs: o.leaseMs ?? 60_000 });

  it('leases whole streams: concurrent claimers never share one, and a lapsed lease makes it due again', async () => {
    await drain(store().webhooks);
    const users = Array.from({ length: 12 }, () => uid());
    for (const u of users) await store().send(msg(), { userIds: [u] });
    const now = new Date();
    const claims = await Promise.all(Array.from({ length: 4 }, () => claimAt(now, { streams: 5, leaseMs: 1000 })));
    const streams = claims.flat().map((c) => c.stream);
    expect(new Set(streams).size).toBe(streams.length);
    expect(streams.sort()).toEqual([...users].sort());
    expect(await claimAt(now)).toEqual([]);
    expect((await claimAt(new Date(now.getTime() + 1001))).map((c) => c.stream).sort()).toEqual([...users].sort());
    await drain(store().webhooks);
  });

  it('keeps a retried first event with its attempts and delivered URLs; its stream waits until due; release and acknowledge', async () => {
    const u = uid();
    await store().send(msg(), { userIds: [u] });
    await store().send(msg(), { userIds: [u] });
    const now = new Date();
    const [first] = await claimAt(now, { perStream: 3 });
    expect(first.items.map((i) => i.event.type)).toEqual(['ARCHIVE_STORED', 'INBOX_STORED', 'ARCHIVE_STORED']);
    await store().webhooks.acknowledge([first.items[0].event.id]);
    const failed = first.items[1].event;
    await store().webhooks.retry(failed.id, { attempts: 1, delivered: ['https://a.example/hook'], dueAt: new Date(now.getTime() + 5000) });
    // Releasing the events behind it (as the dispatcher does) leaves the stream at its retry time, not due now.
    await store().webhooks.release([first.items[2].event.id]);
    expect(Number(await suite.ctx().client.zscore(suite.ctx().keys.global.webhooksDue, u))).toBe(now.getTime() + 5000);
    // A later change of the user waits behind it.
    await store().setRead(u, [first.items[0].event.messageIds[0]], true);
    expect(await claimAt(new Date(now.getTime() + 4000))).toEqual([]);
    const [again] = await claimAt(new Date(now.getTime() + 5000), { perStream: 2 });
    expect(again.items.map((i) => [i.event.id, i.attempts, i.delivered])).toEqual([
      [failed.id, 1, ['https://a.example/hook']],
      [first.items[2].event.id, 0, []],
    ]);
    await store().webhooks.release(again.items.map((i) => i.event.id));
    const [released] = await claimAt(new Date(now.getTime() + 5000));
    expect(released.items[0].event).toEqual(failed);
    await store().webhooks.acknowledge(released.items.map((i) => i.event.id));
    expect(await store().webhooks.pending()).toBe(0);
    expect(await suite.ctx().client.zscore(suite.ctx().keys.global.webhooksDue, u)).toBeNull();
  });

  it('keeps a claim’s lease while the user changes more, and indexes an emptied stream again when an event lands', async () => {
    const u = uid();
    const { message } = await store().send(msg(), { userIds: [u] });
    const now = new Date();
    const [claim] = await claimAt(now, { perStream: 2 });
    await store().setRead(u, [message.id], true);
    expect(await claimAt(new Date(now.getTime() + 1000))).toEqual([]);
    // Acknowledged: the event the claim did not take is due at once.
    await store().webhooks.acknowledge(claim.items.map((i) => i.event.id));
    const [next] = await claimAt(new Date(now.getTime() + 1000));
    expect(next.items.map((i) => i.event.type)).toEqual(['INBOX_DELETED']);
    await store().webhooks.acknowledge(next.items.map((i) => i.event.id));
    expect(await suite.ctx().client.zscore(suite.ctx().keys.global.webhooksDue, u)).toBeNull();
    await store().setRead(u, [message.id], false);
    expect((await takeWritten(store().webhooks)).get(u)!.map((b) => b.type)).toEqual(['INBOX_STORED']);
  });

  it('loses and repeats no event while writers and two dispatchers run at once', async () => {
    await drain(store().webhooks);
    const users = Array.from({ length: 6 }, () => uid());
    const taken = await churn(store(), users, 25);
    for (const u of users) expect(taken.get(u)).toEqual(Array.from({ length: 25 }, () => ['ARCHIVE_STORED', 'INBOX_STORED', 'INBOX_DELETED']).flat());
  });

  it('answers ids that survive as they are: the same event keeps its id on every claim', async () => {
    const u = uid();
    await store().send(msg(), { userIds: [u] });
    const now = new Date();
    const [one] = await claimAt(now, { leaseMs: 10 });
    const [two] = await claimAt(new Date(now.getTime() + 20));
    expect(two.items).toEqual(one.items);
    await store().webhooks.acknowledge(two.items.map((i) => i.event.id));
  });
});

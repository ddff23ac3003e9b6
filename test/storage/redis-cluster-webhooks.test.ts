import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completeJournal } from '../../src/storage/redis/journal.js';
import type { RedisContext } from '../../src/storage/redis/context.js';
import { startRedisCluster, type TestCluster } from '../redis-cluster.js';
import { msg } from './contract.js';
import { churn, contextOn, Died, openOn, storeWithHooks, uid } from './redis-helpers.js';
import type { Storage } from '../../src/storage/index.js';
import { takeWritten } from './contract/outbox-support.js';

// The webhook outbox on a real three-node Redis Cluster, beyond the storage contract (which runs there
// too: redis-cluster.test.ts): users' streams in their own slots, the index in {global}, written from the
// client around each user's step.
describe('Redis webhook outbox on a cluster', () => {
  let cluster: TestCluster;
  let store: Storage;
  let ctx: RedisContext;
  const prefix = `smtest:${randomBytes(4).toString('hex')}:`;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    [store, ctx] = await Promise.all([openOn(prefix, { url: cluster.url }) as Promise<Storage>, contextOn(prefix, cluster.url)]);
  });
  afterAll(async () => {
    await store?.close();
    ctx?.client.disconnect();
    await cluster?.stop();
  });

  it('writes each recipient’s events once when an interrupted journalled send is completed twice', async () => {
    const users = Array.from({ length: 12 }, () => uid());
    let id = '';
    const dying = await storeWithHooks(
      prefix,
      {
        beforeDelivery: ({ id: sending, users: [user] }) => {
          id = sending;
          if (user !== users[0]) throw new Died();
        },
      },
      cluster.url,
    );
    await expect(dying.send(msg({ text: 'interrupted' }), { userIds: users })).rejects.toThrow(Died);
    await dying.close();
    // Recovery and an idempotent caller may both complete it.
    await Promise.all([completeJournal(ctx, id), completeJournal(ctx, id)]);
    await completeJournal(ctx, id);
    const streams = await takeWritten(store.webhooks);
    for (const u of users) expect(streams.get(u)!.map((b) => [b.type, b.messageIds])).toEqual([
      ['ARCHIVE_STORED', [id]],
      ['INBOX_STORED', [id]],
    ]);
  });

  it('indexes a user’s stream around their step, so an event landing after a drop is claimed', async () => {
    const u = uid();
    const { message } = await store.send(msg(), { userIds: [u] });
    const [claim] = (await store.webhooks.claim({ now: new Date(), streams: 100, perStream: 10, leaseMs: 60_000 })).filter((c) => c.stream === u);
    await store.webhooks.acknowledge(claim.items.map((i) => i.event.id));
    expect(await ctx.client.zscore(ctx.keys.global.webhooksDue, u)).toBeNull();
    // Indexed around the step; a second change while the stream is claimed keeps the claim's lease.
    await store.setRead(u, [message.id], true);
    expect(Number(await ctx.client.zscore(ctx.keys.global.webhooksDue, u))).toBeLessThanOrEqual(Date.now());
    const now = new Date();
    expect((await store.webhooks.claim({ now, streams: 100, perStream: 10, leaseMs: 60_000 })).map((c) => c.stream)).toEqual([u]);
    await store.setRead(u, [message.id], false);
    expect(await store.webhooks.claim({ now: new Date(now.getTime() + 1000), streams: 100, perStream: 10, leaseMs: 60_000 })).toEqual([]);
    expect((await takeWritten(store.webhooks)).get(u)!.map((b) => b.type)).toEqual(['INBOX_DELETED', 'INBOX_STORED']);
    // A step that writes nothing leaves an empty stream indexed: the next claim drops it.
    await store.setRead(u, [message.id], false);
    expect(await takeWritten(store.webhooks)).toEqual(new Map());
    expect(await ctx.client.zscore(ctx.keys.global.webhooksDue, u)).toBeNull();
  });

  it('indexes a stream again after a step that made it non-empty, as when a dispatcher dropped the entry in between', async () => {
    const u = uid();
    const { message } = await store.send(msg(), { userIds: [u] });
    await takeWritten(store.webhooks);
    expect(await ctx.client.zscore(ctx.keys.global.webhooksDue, u)).toBeNull();
    // The step runs without its index before, as if a dispatcher had dropped the entry meanwhile.
    await ctx.userOp(u, 'setState', { op: 'read', ids: [message.id] }, undefined, { indexed: true });
    expect(await ctx.client.zscore(ctx.keys.global.webhooksDue, u)).not.toBeNull();
    expect((await takeWritten(store.webhooks)).get(u)!.map((b) => b.type)).toEqual(['INBOX_DELETED']);
  });

  it('loses and repeats no event while writers and two dispatchers run at once', async () => {
    const users = Array.from({ length: 6 }, () => uid());
    const taken = await churn(store, users, 15);
    for (const u of users) expect(taken.get(u)).toEqual(Array.from({ length: 15 }, () => ['ARCHIVE_STORED', 'INBOX_STORED', 'INBOX_DELETED']).flat());
  });
});

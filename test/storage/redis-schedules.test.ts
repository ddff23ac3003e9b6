import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IdempotencyClaim, MessageStore, Recipients } from '../../src/domain/message-store.js';
import type { NewMessage } from '../../src/domain/message.js';
import type { RedisContext } from '../../src/storage/redis/context.js';
import { RedisSchedules } from '../../src/storage/redis/schedules.js';
import { deleteRedisKeys } from '../harness.js';
import { waitUntilPast } from '../support.js';
import { idsOf, msg } from './contract.js';
import { contextOn, Died, newPrefix, openOn, uid } from './redis-helpers.js';

const LEASE_MS = 300;

/**
 * Scheduled delivery on Redis when a deliverer dies midway (schedules.ts): its claims lapse after the
 * lease and another deliverer retakes them; the idempotency claim derived from the schedule's id makes a
 * retaken send that had already happened replay instead of sending again. The contract suite covers the rest.
 */
describe('Redis scheduled delivery after a deliverer died', () => {
  const prefix = newPrefix();
  let store: MessageStore;
  let ctx: RedisContext;
  beforeAll(async () => {
    [store, ctx] = await Promise.all([openOn(prefix), contextOn(prefix)]);
  });
  afterAll(async () => {
    await store?.close();
    ctx?.client.disconnect();
    await deleteRedisKeys(prefix);
  });

  /** Another process's schedules on the same keys, whose sends die before or after sending. */
  const dying = (when: 'before' | 'after') =>
    new RedisSchedules(
      ctx,
      async (m: NewMessage, to: Recipients, idem: IdempotencyClaim) => {
        if (when === 'after') await store.send(m, to, idem);
        throw new Died();
      },
      { leaseMs: LEASE_MS },
    );
  const due = async (user: string) => store.schedule(msg({ text: 'due' }), { userIds: [user] }, new Date(Date.now() - 1000));

  it.each(['before', 'after'] as const)('delivers once, after the lease, what a deliverer claimed and died %s sending', async (when) => {
    const user = uid();
    const s = await due(user);
    const claimedAt = Date.now();
    await expect(dying(when).deliverDue(new Date(), 10)).rejects.toBeInstanceOf(Died);
    expect((await idsOf(store, user)).length).toBe(when === 'after' ? 1 : 0);
    // Held by the dead claim: neither delivered again nor cancellable (it will be delivered).
    expect(await store.deliverDue(new Date(), 10)).toEqual([]);
    expect((await store.cancelScheduled(s.id))?.cancelled).toBe(false);

    await waitUntilPast(claimedAt + LEASE_MS, 50);
    const [d, ...more] = await store.deliverDue(new Date(), 10);
    expect(more).toEqual([]);
    expect(d.scheduled.id).toBe(s.id);
    expect(d.result.replayed).toBe(when === 'after');
    expect(await idsOf(store, user)).toEqual([d.result.message.id]);
    expect(await store.unreadCount(user)).toBe(1);
    expect(await store.deliverDue(new Date(), 10)).toEqual([]);
  });
});

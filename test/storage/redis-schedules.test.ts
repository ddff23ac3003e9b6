import { beforeAll, describe, expect, it } from 'vitest';
import type { IdempotencyClaim, MessageStore, Recipients } from '../../src/domain/message-store.js';
import type { NewMessage } from '../../src/domain/message.js';
import { startScheduledDelivery } from '../../src/domain/scheduled-delivery.js';
import { Signals, type UserSignal } from '../../src/domain/signals.js';
import type { Storage } from '../../src/storage/index.js';
import type { RedisContext } from '../../src/storage/redis/context.js';
import { RedisSchedules } from '../../src/storage/redis/schedules.js';
import { waitFor, waitUntilPast } from '../support.js';
import { idsOf, msg } from './contract.js';
import { Died, gate, redisStoreSuite, uid } from './redis-helpers.js';

const LEASE_MS = 300;

/**
 * Scheduled delivery on Redis when a deliverer dies midway (schedules.ts): its claims lapse after the
 * lease and another deliverer retakes them; the idempotency claim derived from the schedule's id makes a
 * retaken send that had already happened replay instead of sending again, and whoever marks the schedule
 * delivered answers it for the job (domain/scheduled-delivery.ts) to signal, once. The contract suite covers the rest.
 */
describe('Redis scheduled delivery after a deliverer died', () => {
  const suite = redisStoreSuite();
  let store: Storage;
  let ctx: RedisContext;
  beforeAll(() => {
    [store, ctx] = [suite.store(), suite.ctx()];
  });

  /** Another process's schedules on the same keys, with claims of LEASE_MS, whose sends die before or after sending (or live). */
  const deliverer = (dies: 'before' | 'after' | 'never', held?: Promise<void>) =>
    new RedisSchedules(
      ctx,
      async (m: NewMessage, to: Recipients, idem: IdempotencyClaim) => {
        if (dies === 'before') throw new Died();
        const sent = await store.send(m, to, idem);
        if (dies === 'after') throw new Died();
        await held;
        return sent;
      },
      { leaseMs: LEASE_MS },
    );
  const due = async (user: string) => store.schedule(msg({ text: 'due' }), { userIds: [user] }, new Date(Date.now() - 1000));

  it.each(['before', 'after'] as const)('delivers once, after the lease, what a deliverer claimed and died %s sending', async (when) => {
    const user = uid();
    const s = await due(user);
    const claimedAt = Date.now();
    await expect(deliverer(when).deliverDue(new Date(), 10)).rejects.toBeInstanceOf(Died);
    expect((await idsOf(store, user)).length).toBe(when === 'after' ? 1 : 0);
    // Held by the dead claim: neither delivered again nor cancellable (it will be delivered).
    expect(await store.deliverDue(new Date(), 10)).toEqual([]);
    expect((await store.cancelScheduled(s.id))?.cancelled).toBe(false);

    await waitUntilPast(claimedAt + LEASE_MS, 50);
    const [d, ...more] = await store.deliverDue(new Date(), 10);
    expect(more).toEqual([]);
    expect(d.scheduled.id).toBe(s.id);
    // Whoever finishes a retaken send reports it as new: the dead deliverer never got to signal it.
    expect(d.result).toMatchObject({ replayed: false, recipientCount: 1, recipients: [{ userId: user, unreadCount: 1, groupCount: 1 }] });
    expect(await idsOf(store, user)).toEqual([d.result.message.id]);
    expect(await store.unreadCount(user)).toBe(1);
    expect(await store.deliverDue(new Date(), 10)).toEqual([]);
  });

  it('a live deliverer outlasting its lease and the one that retook its claim: only the one that marks it delivered answers it', async () => {
    const user = uid();
    const s = await due(user);
    const slow = gate();
    const first = deliverer('never', slow.wait).deliverDue(new Date(), 10);
    await waitFor(async () => (await idsOf(store, user)).length === 1, { what: 'the first send' });
    await waitUntilPast(Date.now() + LEASE_MS, 50);
    const retaken = await deliverer('never').deliverDue(new Date(), 10);
    slow.open();
    expect(retaken.map((d) => [d.scheduled.id, d.result.replayed])).toEqual([[s.id, false]]);
    expect(await first).toEqual([]);
  });

  it('the job delivers all that is due in one round, a batch at a time, and signals each once, also what a dead deliverer sent', async () => {
    const users = [uid(), uid(), uid(), uid()];
    const past = (ms: number) => new Date(Date.now() - ms);
    // Grouped, so the retaken signal must carry the groupCount the send gave.
    await store.send(msg({ text: 'first of the group', groupKey: 'g' }), { userIds: [users[0]] });
    await store.schedule(msg({ text: 'sent by the dead', groupKey: 'g' }), { userIds: [users[0]] }, past(2000));
    await expect(deliverer('after').deliverDue(new Date(), 1)).rejects.toBeInstanceOf(Died);
    for (const u of users.slice(1)) await store.schedule(msg({ text: 'due' }), { userIds: [u] }, past(1000));

    const signals = new Signals();
    const fired: UserSignal[] = [];
    signals.on((c) => void (c.kind === 'user' && fired.push(c)));
    const rounds: number[] = [];
    const errors: unknown[] = [];
    const live = deliverer('never');
    // The store as the app has it, delivering with claims of LEASE_MS.
    const shortLeases: MessageStore = Object.assign(Object.create(store) as MessageStore, { deliverDue: (now: Date, limit: number) => live.deliverDue(now, limit) });
    const job = startScheduledDelivery({ store: shortLeases, signals, leases: store.leases, holder: 'one', intervalMs: 100, batch: 2, onRound: (n) => rounds.push(n), onError: (e) => errors.push(e) });
    try {
      // What is due now, and (once its lease lapsed: in the same round or a later one) what the dead claim held.
      await waitFor(() => rounds.reduce((a, b) => a + b, 0) === 4, { what: 'four deliveries' });
    } finally {
      await job.stop();
    }
    expect(errors).toEqual([]);
    expect(rounds[0]).toBeGreaterThanOrEqual(3);
    for (const u of users.slice(1)) expect((await idsOf(store, u)).length).toBe(1);
    expect(fired.filter((s) => s.userId === users[0]).map((s) => [s.signal, s.unreadCount, s.message?.text, s.message?.groupCount])).toEqual([
      ['ARCHIVE_STORED', 1, 'sent by the dead', 2],
      ['INBOX_STORED', 1, 'sent by the dead', 2],
    ]);
    for (const u of users.slice(1)) {
      expect(fired.filter((s) => s.userId === u).map((s) => [s.signal, s.unreadCount, s.message?.text])).toEqual([
        ['ARCHIVE_STORED', 1, 'due'],
        ['INBOX_STORED', 1, 'due'],
      ]);
    }
  });
});

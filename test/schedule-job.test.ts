import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IdempotencyClaim, MessageStore, Recipients, SendResult } from '../src/domain/message-store.js';
import type { NewMessage } from '../src/domain/message.js';
import { startScheduledDelivery } from '../src/domain/scheduled-delivery.js';
import { Signals, type UserSignal } from '../src/domain/signals.js';
import type { Storage } from '../src/storage/index.js';
import type { RedisContext } from '../src/storage/redis/context.js';
import { RedisSchedules } from '../src/storage/redis/schedules.js';
import { deleteRedisKeys } from './harness.js';
import { idsOf, msg } from './storage/contract.js';
import { contextOn, Died, newPrefix, openOn, uid } from './storage/redis-helpers.js';
import { waitFor } from './support.js';

const LEASE_MS = 300;

/**
 * startScheduledDelivery (domain/scheduled-delivery.ts) on real Redis storage, without an app: one round
 * delivers everything due, a batch at a time, and fires each send's signals; a delivery that a deliverer
 * which died had already made comes back replayed and fires nothing. The app and several processes:
 * graphql/schedule.test.ts and schedule-processes.test.ts.
 */
describe('the scheduled-delivery job', () => {
  const prefix = newPrefix();
  let storage: Storage;
  let ctx: RedisContext;
  beforeAll(async () => {
    [storage, ctx] = await Promise.all([openOn(prefix), contextOn(prefix)]);
  });
  afterAll(async () => {
    await storage?.close();
    ctx?.client.disconnect();
    await deleteRedisKeys(prefix);
  });

  /** Schedules whose claims last LEASE_MS, sending through `send`. */
  const schedulesWith = (send: (m: NewMessage, to: Recipients, idem: IdempotencyClaim) => Promise<SendResult>) => new RedisSchedules(ctx, send, { leaseMs: LEASE_MS });

  it('delivers all that is due in one round, a batch at a time, and signals each once, but not what a dead deliverer sent', async () => {
    const users = [uid(), uid(), uid(), uid()];
    const past = (ms: number) => new Date(Date.now() - ms);
    await storage.schedule(msg({ text: 'sent by the dead' }), { userIds: [users[0]] }, past(2000));
    const dying = schedulesWith(async (m, to, idem) => {
      await storage.send(m, to, idem);
      throw new Died();
    });
    await expect(dying.deliverDue(new Date(), 1)).rejects.toBeInstanceOf(Died);
    for (const u of users.slice(1)) await storage.schedule(msg({ text: 'due' }), { userIds: [u] }, past(1000));

    const signals = new Signals();
    const fired: UserSignal[] = [];
    signals.on((c) => void (c.kind === 'user' && fired.push(c)));
    const rounds: number[] = [];
    const errors: unknown[] = [];
    const live = schedulesWith((m, to, idem) => storage.send(m, to, idem));
    const store: MessageStore = Object.assign(Object.create(storage) as MessageStore, { deliverDue: (now: Date, limit: number) => live.deliverDue(now, limit) });
    const job = startScheduledDelivery({ store, signals, leases: storage.leases, holder: 'one', intervalMs: 100, batch: 2, onRound: (n) => rounds.push(n), onError: (e) => errors.push(e) });
    try {
      // What is due now, and (once its lease lapsed: in the same round or a later one) what the dead claim held.
      await waitFor(() => rounds.reduce((a, b) => a + b, 0) === 4, { what: 'four deliveries' });
    } finally {
      await job.stop();
    }
    expect(errors).toEqual([]);
    expect(rounds[0]).toBeGreaterThanOrEqual(3);
    for (const u of users) expect((await idsOf(storage, u)).length).toBe(1);
    expect(fired.filter((s) => s.userId === users[0])).toEqual([]);
    for (const u of users.slice(1)) {
      expect(fired.filter((s) => s.userId === u).map((s) => [s.signal, s.unreadCount, s.message?.text])).toEqual([
        ['ARCHIVE_STORED', 1, 'due'],
        ['INBOX_STORED', 1, 'due'],
      ]);
    }
  });
});

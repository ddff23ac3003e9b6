import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import type { NewMessage } from '../src/domain/message.js';
import { Signals, type UserSignal } from '../src/domain/signals.js';
import { startSnoozeWake } from '../src/domain/snooze-wake.js';
import { openStorage, type Storage } from '../src/storage/index.js';
import { REDIS_URL } from './env.js';
import { createTestDatabase, deleteRedisKeys } from './harness.js';
import { inMs, uid, waitFor, waitUntilPast } from './support.js';

/**
 * startSnoozeWake (domain/snooze-wake.ts) on real storage, without an app: two holders in one
 * process stand for two instances, with batches small enough that a round takes several. The
 * app-level and cross-process behaviour is snooze-wake.test.ts's and snooze-wake-processes.test.ts's.
 */

const INTERVAL_MS = 200;

const message = (text: string): NewMessage => ({ level: 25, text, extraTags: '', url: null, data: null, createdAt: new Date(), expiresAt: null, category: null, critical: false, groupKey: null });

/** Two jobs on `storage` under one lease (batch 2), recording their rounds and signals. */
function twoHolders(storage: Storage) {
  const signals = new Signals();
  const fired: UserSignal[] = [];
  signals.on((c) => void (c.kind === 'user' && fired.push(c)));
  const rounds: number[] = [];
  const errors: unknown[] = [];
  const jobs = ['a', 'b'].map((holder) =>
    startSnoozeWake({ store: storage, signals, leases: storage.leases, holder, intervalMs: INTERVAL_MS, batch: 2, onRound: (n) => rounds.push(n), onError: (e) => errors.push(e) }),
  );
  return { fired, rounds, errors, stop: () => Promise.all(jobs.map((j) => j.stop())) };
}

const storages: [string, () => Promise<{ storage: Storage; drop(): Promise<unknown> }>][] = [
  [
    'postgres',
    async () => {
      const db = await createTestDatabase();
      const storage = await openStorage(loadConfig({ NODE_ENV: 'test', DATABASE_URL: db.url }), { logger: pino({ level: 'silent' }) });
      return { storage, drop: db.drop };
    },
  ],
  [
    'redis',
    async () => {
      const prefix = `smtest:${uid('wake')}:`;
      const storage = await openStorage(loadConfig({ NODE_ENV: 'test', STORAGE_BACKEND: 'redis', REDIS_URL, REDIS_PREFIX: prefix }), { logger: pino({ level: 'silent' }) });
      return { storage, drop: () => deleteRedisKeys(prefix) };
    },
  ],
];

describe.each(storages)('the snooze wake-up job on %s', (_name, open) => {
  let storage: Storage;
  let drop = async (): Promise<unknown> => undefined;
  beforeAll(async () => {
    ({ storage, drop } = await open());
  });
  afterAll(async () => {
    await storage?.close();
    await drop();
  });

  it('wakes everything due in one round, a batch at a time, each message once between two holders', async () => {
    const users = [uid('user'), uid('user')];
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await storage.send(message(`m${i}`), { userIds: users })).message.id);
    const until = inMs(1000);
    for (const user of users) expect((await storage.snooze(user, ids, until)).changed).toHaveLength(5);

    const jobs = twoHolders(storage);
    try {
      await waitFor(() => jobs.fired.flatMap((s) => s.messageIds).length >= 10, { what: 'ten wake-ups' });
      await waitUntilPast(Date.now() + INTERVAL_MS * 3, 0);
    } finally {
      await jobs.stop();
    }
    expect(jobs.errors).toEqual([]);
    // One round (a full batch goes on at once), on one holder.
    expect(jobs.rounds).toEqual([10]);
    for (const user of users) {
      const theirs = jobs.fired.filter((s) => s.userId === user);
      expect(theirs.flatMap((s) => s.messageIds).sort()).toEqual([...ids].sort());
      for (const s of theirs) {
        expect(s.signal).toBe('INBOX_STORED');
        expect(s.message?.id).toBe(s.messageIds.at(-1));
        expect(s.message?.snoozedUntil).toBeNull();
      }
      expect([theirs.at(-1)!.unreadCount, theirs.at(-1)!.unseenCount]).toEqual([5, 5]);
      expect(await storage.counts(user)).toEqual({ total: 5, unread: 5, unseen: 5, archived: 0, snoozed: 0 });
    }
  });

  it('fires nothing and reports no round while nothing is due', async () => {
    const user = uid('user');
    const { message: m } = await storage.send(message('later'), { userIds: [user] });
    await storage.snooze(user, [m.id], inMs(60_000));
    const jobs = twoHolders(storage);
    await waitUntilPast(Date.now() + INTERVAL_MS * 4, 0);
    await jobs.stop();
    expect([jobs.fired, jobs.rounds, jobs.errors]).toEqual([[], [], []]);
    expect((await storage.counts(user)).snoozed).toBe(1);
  });
});

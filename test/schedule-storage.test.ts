import { Redis } from 'ioredis';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { IDEMPOTENCY_TTL_SECONDS, type MessageStore } from '../src/domain/message-store.js';
import { openStorage } from '../src/storage/index.js';
import { REDIS_URL } from './env.js';
import { createTestDatabase, deleteRedisKeys } from './harness.js';
import { msg } from './storage/contract.js';
import { uid, waitFor } from './support.js';

const logger = pino({ level: 'silent' });
const OLD_MS = (IDEMPOTENCY_TTL_SECONDS + 3600) * 1000;

interface Opened {
  store: MessageStore;
  /** Makes finished schedules look finished OLD_MS ago, as a day passing would. */
  age(ids: string[]): Promise<void>;
  drop(): Promise<unknown>;
}

const stores: [string, () => Promise<Opened>][] = [
  [
    'PostgreSQL',
    async () => {
      const db = await createTestDatabase();
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      return {
        store: await openStorage(loadConfig({ NODE_ENV: 'test', DATABASE_URL: db.url }), { logger }),
        age: async (ids) => void (await client.query(`update sm_schedule set done_at = done_at - make_interval(secs => $2) where id = any($1::bigint[])`, [ids, OLD_MS / 1000])),
        drop: async () => {
          await client.end();
          await db.drop();
        },
      };
    },
  ],
  [
    'Redis',
    async () => {
      const prefix = `smtest:${uid('schedules')}:`;
      const client = new Redis(REDIS_URL);
      return {
        store: await openStorage(loadConfig({ NODE_ENV: 'test', STORAGE_BACKEND: 'redis', REDIS_URL, REDIS_PREFIX: prefix }), { logger }),
        age: async (ids) => void (await Promise.all(ids.map((id) => client.zadd(`${prefix}{global}:schedules-done`, 'XX', Date.now() - OLD_MS, id)))),
        drop: async () => {
          client.disconnect();
          await deleteRedisKeys(prefix);
        },
      };
    },
  ],
];

/**
 * What the contract suite leaves to each backend's storage: one deliverDue call writes a bounded number
 * of deliveries (20,000), and the expiry cleanup reclaims finished schedules after IDEMPOTENCY_TTL_SECONDS.
 */
describe.each(stores)('scheduled messages kept on %s', (_name, open) => {
  let o: Opened;
  beforeAll(async () => {
    o = await open();
  });
  afterAll(async () => {
    await o?.store.close();
    await o?.drop();
  });

  it('delivers sends of 7,000 users two per call, each once, the rest staying due meanwhile', async () => {
    const { store } = o;
    const users = Array.from({ length: 7000 }, (_, i) => `${uid('big')}-${i}`);
    const due = new Date(Date.now() - 1000);
    const made = [];
    for (let k = 0; k < 3; k++) made.push(await store.schedule(msg({ text: `big ${k}` }), { userIds: users }, due));
    made.push(await store.schedule(msg({ text: 'to all' }), { everyone: true }, due));
    const calls = [await store.deliverDue(new Date(), 10), await store.deliverDue(new Date(), 10), await store.deliverDue(new Date(), 10)];
    // A broadcast counts one delivery: it goes with the last large send.
    expect(calls.map((c) => c.map((d) => d.scheduled.id))).toEqual([made.slice(0, 2).map((s) => s.id), made.slice(2).map((s) => s.id), []]);
    for (const d of calls.flat().slice(0, 3)) expect(d.result.recipientCount).toBe(7000);
    expect(calls[1][1].result.recipientCount).toBeGreaterThanOrEqual(7000);
    for (const u of [users[0], users[6999]]) expect(await store.counts(u)).toMatchObject({ total: 4, unread: 4 });
  });

  it('reclaims delivered and cancelled schedules once they finished a day ago, and only those', async () => {
    const { store } = o;
    const due = new Date(Date.now() - 1000);
    const [delivered, cancelled, recent, pending] = [
      await store.schedule(msg(), { userIds: [uid()] }, due),
      await store.schedule(msg(), { userIds: [uid()] }, new Date(Date.now() + 3_600_000)),
      await store.schedule(msg(), { userIds: [uid()] }, new Date(Date.now() + 3_600_000)),
      await store.schedule(msg(), { userIds: [uid()] }, new Date(Date.now() + 3_600_000)),
    ];
    expect((await store.deliverDue(new Date(), 10)).map((d) => d.scheduled.id)).toEqual([delivered.id]);
    for (const s of [cancelled, recent]) expect((await store.cancelScheduled(s.id))?.cancelled).toBe(true);
    await o.age([delivered.id, cancelled.id]);
    expect(await store.cleanupExpired(1000)).toBeGreaterThanOrEqual(2);
    expect(await store.cancelScheduled(delivered.id)).toBeNull();
    expect(await store.cancelScheduled(cancelled.id)).toBeNull();
    expect((await store.cancelScheduled(recent.id))?.cancelled).toBe(false);
    expect((await store.cancelScheduled(pending.id))?.cancelled).toBe(true);
  });
});

/**
 * PostgreSQL: a deliverer that dies midway (its connection cut while its transaction waits inside the
 * send) leaves nothing behind: its claim, and any delivery it made, roll back, and another instance,
 * which skipped the claimed row meanwhile, delivers it once.
 */
describe('scheduled delivery on PostgreSQL when a deliverer dies mid-transaction', () => {
  it('rolls back the claim and the send; another instance delivers once', async () => {
    const db = await createTestDatabase();
    const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: db.url });
    const [store, twin] = [await openStorage(config, { logger }), await openStorage(config, { logger })];
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    try {
      const [a, b] = [uid(), uid()];
      await store.ensureUser(b);
      const s = await store.schedule(msg({ text: 'once' }), { userIds: [a, b] }, new Date(Date.now() - 1000));
      // Holding b's row makes the deliverer's SEND wait after its claim, with a delivered to nobody yet.
      await locker.query('begin');
      await locker.query('select 1 from sm_user where id = $1 for update', [b]);
      const dying = store.deliverDue(new Date(), 10);
      const waiting = async () => (await locker.query(`select pid from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database() and pid <> pg_backend_pid()`)).rows;
      await waitFor(async () => (await waiting()).length === 1, { what: 'the deliverer waiting inside its send' });
      expect(await twin.deliverDue(new Date(), 10)).toEqual([]); // the claimed row is skipped, not delivered twice
      // Heard before the backend dies: its failure can arrive before pg_terminate_backend's answer.
      const died = expect(dying).rejects.toThrow();
      await locker.query('select pg_terminate_backend($1)', [(await waiting())[0].pid]);
      await died;
      await locker.query('commit');

      const [d, ...more] = await twin.deliverDue(new Date(), 10);
      expect(more).toEqual([]);
      expect(d.scheduled.id).toBe(s.id);
      for (const u of [a, b]) expect(await twin.counts(u)).toMatchObject({ total: 1, unread: 1 });
      expect(await twin.deliverDue(new Date(), 10)).toEqual([]);
    } finally {
      await locker.end();
      await Promise.all([store.close(), twin.close()]);
      await db.drop();
    }
  });
});

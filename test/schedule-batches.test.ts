import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import type { MessageStore } from '../src/domain/message-store.js';
import { openStorage } from '../src/storage/index.js';
import { REDIS_URL } from './env.js';
import { createTestDatabase, deleteRedisKeys } from './harness.js';
import { msg } from './storage/contract.js';
import { uid } from './support.js';

const logger = pino({ level: 'silent' });

const stores: [string, () => Promise<{ store: MessageStore; drop(): Promise<unknown> }>][] = [
  [
    'PostgreSQL',
    async () => {
      const db = await createTestDatabase();
      return { store: await openStorage(loadConfig({ NODE_ENV: 'test', DATABASE_URL: db.url }), { logger }), drop: db.drop };
    },
  ],
  [
    'Redis',
    async () => {
      const prefix = `smtest:${uid('batches')}:`;
      const store = await openStorage(loadConfig({ NODE_ENV: 'test', STORAGE_BACKEND: 'redis', REDIS_URL, REDIS_PREFIX: prefix }), { logger });
      return { store, drop: () => deleteRedisKeys(prefix) };
    },
  ],
];

/**
 * One deliverDue call writes a bounded number of deliveries (20,000 on both backends): due sends to
 * thousands of users each go over several calls, each once, the rest staying due meanwhile.
 */
describe.each(stores)('scheduled delivery of large sends on %s', (_name, open) => {
  let store: MessageStore;
  let drop = async (): Promise<unknown> => undefined;
  beforeAll(async () => {
    ({ store, drop } = await open());
  });
  afterAll(async () => {
    await store?.close();
    await drop();
  });

  it('delivers sends of 7,000 users two per call, and a broadcast with them', async () => {
    const users = Array.from({ length: 7000 }, (_, i) => `${uid('big')}-${i}`);
    const due = new Date(Date.now() - 1000);
    const made = [];
    for (let k = 0; k < 3; k++) made.push(await store.schedule(msg({ text: `big ${k}` }), { userIds: users }, due));
    made.push(await store.schedule(msg({ text: 'to all' }), { everyone: true }, due));
    const calls = [await store.deliverDue(new Date(), 10), await store.deliverDue(new Date(), 10), await store.deliverDue(new Date(), 10)];
    expect(calls.map((c) => c.map((d) => d.scheduled.id))).toEqual([made.slice(0, 2).map((s) => s.id), made.slice(2).map((s) => s.id), []]);
    for (const d of calls.flat().slice(0, 3)) expect(d.result.recipientCount).toBe(7000);
    expect(calls[1][1].result.recipientCount).toBeGreaterThanOrEqual(7000);
    for (const u of [users[0], users[6999]]) expect(await store.counts(u)).toMatchObject({ total: 4, unread: 4 });
  });
});

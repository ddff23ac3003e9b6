import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { Leases } from '../../src/domain/leases.js';
import { openStorage, type Storage } from '../../src/storage/index.js';
import { REDIS_URL } from '../env.js';
import { createTestDatabase, deleteRedisKeys } from '../harness.js';
import { uid } from '../support.js';
import { startRedisCluster, type TestCluster } from '../redis-cluster.js';

const logger = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const env = { NODE_ENV: 'test', LOG_LEVEL: 'silent' };

/** Opens a backend's storage; `close` ends it and removes what the suite left. */
type Open = () => Promise<{ storage: Storage; close(): Promise<void> }>;

/** The lease contract (domain/leases.ts) every backend keeps. Each test uses jobs of its own. */
function runLeaseContract(name: string, open: Open): void {
  describe(`Leases contract: ${name}`, () => {
    let close = async () => {};
    let leases: Leases;
    beforeAll(async () => {
      const opened = await open();
      leases = opened.storage.leases;
      close = opened.close;
    });
    afterAll(() => close());

    it('is taken when free, renewed by its holder and refused to another holder while it lasts', async () => {
      const job = uid('job');
      expect(await leases.acquire(job, 'a', 10_000)).toBe(true);
      expect(await leases.acquire(job, 'a', 10_000)).toBe(true);
      expect(await leases.acquire(job, 'b', 10_000)).toBe(false);
      // Another job is another lease.
      expect(await leases.acquire(uid('job'), 'b', 10_000)).toBe(true);
    });

    it('is taken over by another holder once it lapses, and then refused to the old holder', async () => {
      const job = uid('job');
      expect(await leases.acquire(job, 'a', 300)).toBe(true);
      await sleep(700);
      expect(await leases.acquire(job, 'b', 10_000)).toBe(true);
      expect(await leases.acquire(job, 'a', 10_000)).toBe(false);
    });

    it('lasts from the renewal, not from the first acquisition', async () => {
      const job = uid('job');
      expect(await leases.acquire(job, 'a', 1500)).toBe(true);
      await sleep(1000);
      expect(await leases.acquire(job, 'a', 1500)).toBe(true);
      await sleep(1000);
      // 2 s after it was first taken: lapsed but for the renewal.
      expect(await leases.acquire(job, 'b', 10_000)).toBe(false);
    });

    it('is released only by its holder, and free for anyone after that', async () => {
      const job = uid('job');
      expect(await leases.acquire(job, 'a', 10_000)).toBe(true);
      await leases.release(job, 'b');
      expect(await leases.acquire(job, 'b', 10_000)).toBe(false);
      await leases.release(job, 'a');
      expect(await leases.acquire(job, 'b', 10_000)).toBe(true);
      // Releasing a lease one does not hold, or one that does not exist, is harmless.
      await leases.release(job, 'a');
      await leases.release(uid('job'), 'a');
      expect(await leases.acquire(job, 'a', 10_000)).toBe(false);
    });

    it('goes to exactly one of many holders asking at once', async () => {
      const job = uid('job');
      const holders = Array.from({ length: 8 }, (_, i) => `h${i}`);
      const answers = await Promise.all(holders.map((h) => leases.acquire(job, h, 10_000)));
      expect(answers.filter(Boolean)).toHaveLength(1);
      const winner = holders[answers.indexOf(true)];
      expect(await leases.acquire(job, winner, 10_000)).toBe(true);
    });
  });
}

runLeaseContract('PostgreSQL', async () => {
  const db = await createTestDatabase();
  try {
    const storage = await openStorage(loadConfig({ ...env, DATABASE_URL: db.url }), { logger });
    return {
      storage,
      close: async () => {
        await storage.close();
        await db.drop();
      },
    };
  } catch (err) {
    await db.drop();
    throw err;
  }
});

runLeaseContract('embedded PGlite', async () => {
  const storage = await openStorage(loadConfig(env), { logger, embeddedInMemory: true });
  return { storage, close: () => storage.close() };
});

runLeaseContract('Redis', async () => {
  const prefix = `smtest:${uid('lease')}:`;
  const storage = await openStorage(loadConfig({ ...env, STORAGE_BACKEND: 'redis', REDIS_URL, REDIS_PREFIX: prefix }), { logger });
  return {
    storage,
    close: async () => {
      await storage.close();
      await deleteRedisKeys(prefix);
    },
  };
});

// Leases are single-key scripts: on a cluster they run on whichever node owns `{lease}`.
let cluster: TestCluster | undefined;
afterAll(async () => cluster?.stop());
runLeaseContract('Redis Cluster', async () => {
  cluster = await startRedisCluster();
  const storage = await openStorage(loadConfig({ ...env, STORAGE_BACKEND: 'redis', REDIS_URL: cluster.url, REDIS_PREFIX: 'smtest:leases:' }), { logger });
  return { storage, close: () => storage.close() };
});

import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { leaseTtlMs, startLeasedJob, type LeasedJob } from '../src/domain/leased-job.js';
import { openStorage, type Storage } from '../src/storage/index.js';
import { createTestDatabase } from './harness.js';
import { uid } from './support.js';

/**
 * startLeasedJob (domain/leased-job.ts) on real PostgreSQL leases: two holders in one process stand
 * for two instances. The cross-process behaviour is periodic-jobs.test.ts's.
 */

const INTERVAL_MS = 300;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let storage: Storage;
let drop = async () => {};
beforeAll(async () => {
  const db = await createTestDatabase();
  drop = db.drop;
  storage = await openStorage(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: db.url }), { logger: pino({ level: 'silent' }) });
});
afterAll(async () => {
  await storage?.close();
  await drop();
});

/** A job whose rounds are timestamped per holder; errors fail the test. */
function holderOf(job: string, holder: string, roundMs = 0) {
  const rounds: number[] = [];
  const errors: unknown[] = [];
  const running = { now: 0, most: 0 };
  const started: LeasedJob = startLeasedJob({
    job,
    holder,
    leases: storage.leases,
    intervalMs: INTERVAL_MS,
    round: async () => {
      rounds.push(Date.now());
      running.most = Math.max(running.most, ++running.now);
      await sleep(roundMs);
      running.now--;
    },
    onError: (err) => errors.push(err),
  });
  return { rounds, errors, running, stop: () => started.stop() };
}

describe('a leased periodic job', () => {
  it('runs on one holder only, and moves to the other at its next interval when that one stops', async () => {
    const job = uid('job');
    const [a, b] = [holderOf(job, 'a'), holderOf(job, 'b')];
    try {
      await sleep(INTERVAL_MS * 6);
      const [first, second] = a.rounds.length > 0 ? [a, b] : [b, a];
      expect(first.rounds.length).toBeGreaterThanOrEqual(2);
      expect(second.rounds).toEqual([]);

      const stoppedAt = Date.now();
      await first.stop();
      await sleep(INTERVAL_MS * 4);
      // Released, not left to lapse: taken at the other's next interval, when the lease had a second or more to run.
      expect(leaseTtlMs(INTERVAL_MS) - INTERVAL_MS).toBeGreaterThanOrEqual(1000);
      expect(second.rounds.length).toBeGreaterThanOrEqual(1);
      expect(second.rounds[0] - stoppedAt).toBeLessThan(INTERVAL_MS * 2);
      expect([...a.errors, ...b.errors]).toEqual([]);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('never runs two rounds at once in one instance, and stop() waits for the round running', async () => {
    const job = uid('job');
    const roundMs = INTERVAL_MS * 5;
    const slow = holderOf(job, 'slow', roundMs);
    // Two more intervals pass while the first round runs.
    await sleep(INTERVAL_MS * 3.5);
    expect(slow.rounds).toHaveLength(1);
    expect(slow.running.now).toBe(1);
    await slow.stop();
    expect(slow.running).toEqual({ now: 0, most: 1 });
    expect(Date.now() - slow.rounds[0]).toBeGreaterThanOrEqual(roundMs);
    expect(slow.errors).toEqual([]);
    // Released once the round ended: another holder gets the lease now.
    expect(await storage.leases.acquire(job, 'next', 10_000)).toBe(true);
  });
});

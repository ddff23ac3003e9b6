import { describe, expect, it } from 'vitest';
import { REDIS_URL, TEST_SECRET } from './env.js';
import { createTestDatabase, deleteRedisKeys } from './harness.js';
import { uid } from './support.js';
import { startSource, type Running } from './processes.js';

/**
 * Several server processes on one storage run the periodic expiry cleanup once per interval between
 * them (the "expiry-cleanup" lease), and when the holder dies another takes the job over. Real
 * processes (src/main.ts), killed with SIGKILL; margins are wide for a loaded 2-core machine.
 */

const ROUND = /"msg":"expiry cleanup: \d+ reclaimed"/;
const WINDOW_S = 8;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const serverEnv = (storage: Record<string, string>) => ({
  ...storage,
  NODE_ENV: 'test',
  AUTH_JWT_SECRET: TEST_SECRET,
  HOST: '127.0.0.1',
  PORT: '0',
  LOG_LEVEL: 'debug',
  CLEANUP_INTERVAL_SECONDS: '1',
});

/** Waits until `server` has logged `n` more rounds than `from`, or fails after `timeoutMs`. */
async function roundsAfter(server: Running, from: number, n: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (server.count(ROUND) < from + n) {
    if (Date.now() > deadline) throw new Error(`no ${n} cleanup rounds within ${timeoutMs} ms (had ${server.count(ROUND) - from})`);
    await sleep(100);
  }
}

async function twoServersShareTheCleanup(storage: Record<string, string>): Promise<void> {
  const servers = [startSource('src/main.ts', [], serverEnv(storage)), startSource('src/main.ts', [], serverEnv(storage))];
  try {
    const urls = await Promise.all(servers.map(async (s) => (await s.waitFor(/listening on (http:\S+)\/graphql/))[1]));
    // The lease is held (a first round logged) before the window opens.
    await Promise.any(servers.map((s) => roundsAfter(s, 0, 1, 15_000)));

    const before = servers.map((s) => s.count(ROUND));
    await sleep(WINDOW_S * 1000);
    const rounds = servers.map((s, i) => s.count(ROUND) - before[i]);
    const total = rounds[0] + rounds[1];
    // One round a second between them; without the lease each would run its own (about 2 x WINDOW_S).
    expect(total, `rounds per server ${rounds}`).toBeLessThanOrEqual(WINDOW_S * 1.5);
    expect(total, `rounds per server ${rounds}`).toBeGreaterThanOrEqual(WINDOW_S / 2);
    for (const url of urls) expect((await fetch(`${url}/health`)).status).toBe(200);

    // The one that ran most of them holds the lease: killed, it cannot release it, so it lapses (2 s here).
    const holder = rounds[0] >= rounds[1] ? 0 : 1;
    const other = servers[1 - holder];
    const otherAtKill = other.count(ROUND);
    await servers[holder].stop('SIGKILL');
    await roundsAfter(other, otherAtKill, 2, 15_000);
    expect((await fetch(`${urls[1 - holder]}/health`)).status).toBe(200);
  } finally {
    await Promise.all(servers.map((s) => s.stop('SIGKILL')));
  }
}

// The backends run at the same time: each spends most of its time waiting on processes and timers.
describe.concurrent('periodic expiry cleanup across two server processes', () => {
  it('on PostgreSQL: about one round per interval between them, taken over after the holder is killed', async () => {
    const db = await createTestDatabase();
    try {
      await twoServersShareTheCleanup({ DATABASE_URL: db.url });
    } finally {
      await db.drop();
    }
  }, 120_000);

  it('on Redis: the same', async () => {
    const prefix = `smtest:${uid('jobs')}:`;
    try {
      await twoServersShareTheCleanup({ STORAGE_BACKEND: 'redis', REDIS_URL, REDIS_PREFIX: prefix });
    } finally {
      await deleteRedisKeys(prefix);
    }
  }, 120_000);
});

import { describe, expect, it } from 'vitest';
import { REDIS_URL, TEST_SECRET } from './env.js';
import { createTestDatabase, dataOf, deleteRedisKeys } from './harness.js';
import { httpClient } from './live/helpers.js';
import { startServerProcess, type ServerProcess } from './processes.js';
import { eventsOf, liveEvents, type Person } from './snooze-wake-support.js';
import { inMs, producerToken, sleep, uid, userToken, waitFor, waitUntilPast } from './support.js';

/**
 * Scheduled delivery across real server processes (src/main.ts) sharing one storage: each scheduled
 * message is delivered exactly once whichever process holds the "scheduled-delivery" lease, also when
 * the holder is killed (SIGKILL) as its time comes, and when the time passes while no server runs.
 * Live events go through Redis (REDIS_URL), so a subscriber on either process sees every delivery.
 */

const DELIVERED = /"msg":"scheduled delivery: \d+ delivered"/;
const SEND_AT = 'mutation($u: [ID!]!, $t: String!, $at: DateTime!) { addMessageFor(input: { userIds: $u, level: STORED_INFO, text: $t, deliverAt: $at }) { recipientCount } }';
const TEXTS = '{ messages(first: 100) { totalCount edges { node { id text } } } }';

const at = (s: ServerProcess) => Object.assign(httpClient(s.url), { baseUrl: s.url });

/** Schedules one message for `user` per text, all at `deliverAt`, through `on`, a few requests at a time. */
async function scheduleAll(on: ServerProcess, producer: Person, user: Person, texts: string[], deliverAt: Date): Promise<void> {
  for (let i = 0; i < texts.length; i += 10) {
    await Promise.all(texts.slice(i, i + 10).map(async (t) => dataOf(await at(on).gql(producer.token, SEND_AT, { u: [user.sub], t, at: deliverAt.toISOString() }))));
  }
  // Otherwise delivery began before everything was scheduled: a machine too loaded for this test.
  expect(deliverAt.getTime() - Date.now(), 'ms left after scheduling').toBeGreaterThan(0);
}

/** The texts of `user`'s messages that start with `prefix`, sorted, once there are at least `n` (waiting, bounded). */
async function delivered(on: ServerProcess, user: Person, prefix: string, n: number): Promise<string[]> {
  const texts = async () => (dataOf(await at(on).gql(user.token, TEXTS)).messages.edges as { node: { text: string } }[]).map((e) => e.node.text).filter((t) => t.startsWith(prefix));
  await waitFor(async () => (await texts()).length >= n, { timeoutMs: 30_000, everyMs: 200, what: `${n} messages "${prefix}..."` });
  return (await texts()).sort();
}

const numbered = (prefix: string, n: number) => Array.from({ length: n }, (_, k) => `${prefix}${String(k).padStart(2, '0')}`);

async function deliveredOnceAcrossProcesses(storage: Record<string, string>): Promise<void> {
  const producer = await producerToken();
  const user = await userToken();
  const servers = await Promise.all([startServerProcess(storage, TEST_SECRET), startServerProcess(storage, TEST_SECRET)]);
  const live = await liveEvents(at(servers[1]), user, producer);
  try {
    // Two processes: each delivered once, its events seen once on the other process.
    const first = numbered('two ', 12);
    await scheduleAll(servers[0], producer, user, first, inMs(4000));
    expect(await delivered(servers[1], user, 'two ', 12)).toEqual(first);
    const ids = (dataOf(await at(servers[1]).gql(user.token, TEXTS)).messages.edges as { node: { id: string; text: string } }[]).filter((e) => e.node.text.startsWith('two ')).map((e) => e.node.id);

    // The holder (the one that logged deliveries) killed as the next ones come due: the other delivers them.
    const holder = servers.findIndex((s) => s.count(DELIVERED) > 0);
    const survivor = servers[1 - holder];
    const second = numbered('kill ', 40);
    const due = inMs(4000);
    await scheduleAll(survivor, producer, user, second, due);
    const stored = eventsOf(live).flatMap((e) => (e.signal === 'INBOX_STORED' ? e.messageIds.filter((id) => ids.includes(id)) : []));
    expect(stored.sort()).toEqual([...ids].sort());
    await waitUntilPast(due, 0);
    await servers[holder].stop('SIGKILL');
    expect(await delivered(survivor, user, 'kill ', 40)).toEqual(second);

    // Due while no server runs: delivered once the next one starts.
    const third = numbered('restart ', 3);
    const later = inMs(3000);
    await scheduleAll(survivor, producer, user, third, later);
    await survivor.stop('SIGTERM');
    expect(later.getTime() - Date.now(), 'ms left after the server stopped').toBeGreaterThan(0);
    await waitUntilPast(later, 500);
    servers[holder] = await startServerProcess(storage, TEST_SECRET);
    await delivered(servers[holder], user, 'restart ', 3);
    // A few more rounds, which could deliver one twice: each exactly once.
    await sleep(1500);
    for (const [prefix, texts] of [['two ', first], ['kill ', second], ['restart ', third]] as const) expect(await delivered(servers[holder], user, prefix, 0)).toEqual(texts);
  } finally {
    live.close();
    await Promise.all(servers.map((s) => s.stop('SIGKILL')));
  }
}

// The backends run at the same time: each spends most of its time waiting on processes and timers.
describe.concurrent('scheduled delivery across server processes', () => {
  it('on PostgreSQL with Redis live events: once with two processes, after the holder is killed, and after a restart', async () => {
    const db = await createTestDatabase();
    const prefix = `smtest:${uid('schedule')}:`;
    try {
      await deliveredOnceAcrossProcesses({ DATABASE_URL: db.url, REDIS_URL, REDIS_PREFIX: prefix });
    } finally {
      await db.drop();
      await deleteRedisKeys(prefix);
    }
  }, 180_000);

  it('on Redis storage: the same', async () => {
    const prefix = `smtest:${uid('schedule')}:`;
    try {
      await deliveredOnceAcrossProcesses({ STORAGE_BACKEND: 'redis', REDIS_URL, REDIS_PREFIX: prefix });
    } finally {
      await deleteRedisKeys(prefix);
    }
  }, 180_000);
});

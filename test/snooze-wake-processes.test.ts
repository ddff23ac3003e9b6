import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REDIS_URL, TEST_SECRET } from './env.js';
import { createTestDatabase, deleteRedisKeys } from './harness.js';
import { httpClient, type LiveSubscription, subscribeOver } from './live/helpers.js';
import { startServerProcess, type Running, type ServerProcess } from './processes.js';
import { eventsOf, liveEvents, send, snooze, stateOf, storedIds, WAKE_EVENTS, waitWoken, wokenIds, type Person } from './snooze-wake-support.js';
import { inMs, producerToken, sleep, uid, userToken, waitFor, waitUntilPast } from './support.js';

/**
 * Snooze wake-ups across real server processes (src/main.ts) sharing one storage: each message wakes
 * exactly once whichever process holds the "snooze-wake" lease, also when the holder is killed
 * (SIGKILL) before the time, and also when the time passes while no server runs. Live events go
 * through Redis (REDIS_URL), so a subscriber on either process sees every wake-up.
 */

const WOKEN = /"msg":"snooze wake: (\d+) woken"/;

type Server = ServerProcess;
const startServer = (storage: Record<string, string>) => startServerProcess(storage, TEST_SECRET);

/** How many messages `servers` logged as woken, every round summed (rounds of up to `most` messages). */
function wokenBy(servers: Running[], most: number): number {
  const rounds = servers.reduce((n, s) => n + s.count(WOKEN), 0);
  let woken = 0;
  let counted = 0;
  for (let k = 1; k <= most; k++) {
    const r = servers.reduce((n, s) => n + s.count(new RegExp(`"msg":"snooze wake: ${k} woken"`)), 0);
    woken += k * r;
    counted += r;
  }
  if (counted !== rounds) throw new Error(`a round woke more than ${most} messages`);
  return woken;
}

const at = (s: Server) => Object.assign(httpClient(s.url), { baseUrl: s.url });

/** Snoozes one message for each user until `until` through `on`; answers each user's ids. */
async function snoozeOne(on: Server, producer: Person, users: Person[], until: Date, text: string): Promise<string[]> {
  const ids: string[] = [];
  for (const user of users) {
    const id = await send(at(on), producer, [user.sub], text);
    await snooze(at(on), user, [id], until);
    ids.push(id);
  }
  return ids;
}

/** Asserts each subscription received exactly one INBOX_STORED for each of its user's ids, after a few more rounds could have added a second. */
async function expectWokenOnce(subs: { sub: LiveSubscription; ids: string[] }[]): Promise<void> {
  await sleep(1500);
  for (const { sub, ids } of subs) {
    await waitFor(() => wokenIds(eventsOf(sub), ids).length >= ids.length, { what: 'the wake-up events' });
    expect(wokenIds(eventsOf(sub), ids).sort()).toEqual([...ids].sort());
  }
}

async function twoServersWakeOnce(storage: Record<string, string>): Promise<void> {
  const servers = [await startServer(storage), await startServer(storage)];
  const subs: LiveSubscription[] = [];
  try {
    const producer = await producerToken();
    const users = [await userToken(), await userToken()];
    // A subscriber of each user on each server.
    const live = [];
    for (const server of servers) for (const user of users) live.push({ server, user, sub: await liveEvents(at(server), user, producer) });
    subs.push(...live.map((l) => l.sub));

    const until = inMs(3000);
    const ids = await snoozeOne(servers[1], producer, users, until, 'wakes once');
    for (const [i, user] of users.entries()) await waitWoken(at(servers[0]), user, [ids[i]]);
    await expectWokenOnce(live.map((l) => ({ sub: l.sub, ids: [ids[users.indexOf(l.user)]] })));
    expect(wokenBy(servers, 10)).toBe(2);
    for (const [i, user] of users.entries()) expect((await stateOf(at(servers[1]), user, ids[i])).message?.read).toBe(false);

    // The holder is the one that logged the wake-ups; killed, its lease lapses and the other takes the job.
    const holder = servers.findIndex((s) => s.count(WOKEN) > 0);
    const survivor = servers[1 - holder];
    const before = wokenBy([survivor], 10);
    const later = inMs(5000);
    const more = await snoozeOne(survivor, producer, users, later, 'wakes after the holder died');
    await servers[holder].stop('SIGKILL');
    for (const [i, user] of users.entries()) await waitWoken(at(survivor), user, [more[i]]);
    await expectWokenOnce(live.filter((l) => l.server === survivor).map((l) => ({ sub: l.sub, ids: [more[users.indexOf(l.user)]] })));
    expect(wokenBy([survivor], 10) - before).toBe(2);
  } finally {
    for (const sub of subs) sub.close();
    await Promise.all(servers.map((s) => s.stop('SIGKILL')));
  }
}

/** Snoozes, stops the only server, lets the time pass, starts it again: the message wakes at once, its INBOX_STORED in the event log when there is one. */
async function wakesAfterRestart(storage: Record<string, string>, o: { replay: boolean }): Promise<void> {
  const producer = await producerToken();
  const user = await userToken();
  let server = await startServer(storage);
  let until: Date;
  let id: string;
  let cursor: string | null = null;
  try {
    const sub = o.replay ? await liveEvents(at(server), user, producer) : null;
    // Time enough to stop the server first, on a loaded machine.
    until = inMs(8000);
    [id] = await snoozeOne(server, producer, [user], until, 'wakes after a restart');
    if (sub) {
      await waitFor(() => eventsOf(sub).some((e) => e.signal === 'INBOX_SNOOZED'), { what: 'INBOX_SNOOZED' });
      cursor = eventsOf(sub).find((e) => e.signal === 'INBOX_SNOOZED')!.cursor;
      sub.close();
    }
  } finally {
    await server.stop('SIGTERM');
  }
  // Otherwise the first server woke it, and this test proves nothing: a machine too loaded to run it.
  expect(until.getTime() - Date.now(), 'ms left after the server stopped').toBeGreaterThan(0);
  await waitUntilPast(until, 1000);
  server = await startServer(storage);
  try {
    await waitWoken(at(server), user, [id]);
    expect(await stateOf(at(server), user, id)).toMatchObject({ message: { read: false, seen: false, archived: false }, counts: { snoozed: 0 } });
    await waitFor(() => wokenBy([server], 1) === 1, { what: 'the wake-up logged' });
    if (cursor) {
      const replay = subscribeOver('sse', server.url, user.token, WAKE_EVENTS, { after: cursor });
      try {
        await waitFor(() => storedIds(eventsOf(replay), [id]).length > 0, { what: 'INBOX_STORED replayed' });
        expect(storedIds(eventsOf(replay), [id])).toEqual([id]);
      } finally {
        replay.close();
      }
    }
  } finally {
    await server.stop('SIGTERM');
  }
}

// The backends run at the same time: each spends most of its time waiting on processes and timers.
describe.concurrent('snooze wake-ups across server processes', () => {
  it('on PostgreSQL with Redis live events: once, whichever process holds the lease, also after the holder is killed; and after a restart', async () => {
    const db = await createTestDatabase();
    const prefix = `smtest:${uid('wake')}:`;
    try {
      const storage = { DATABASE_URL: db.url, REDIS_URL, REDIS_PREFIX: prefix };
      await twoServersWakeOnce(storage);
      await wakesAfterRestart(storage, { replay: true });
    } finally {
      await db.drop();
      await deleteRedisKeys(prefix);
    }
  }, 180_000);

  it('on Redis storage: the same', async () => {
    const prefix = `smtest:${uid('wake')}:`;
    try {
      const storage = { STORAGE_BACKEND: 'redis', REDIS_URL, REDIS_PREFIX: prefix };
      await twoServersWakeOnce(storage);
      await wakesAfterRestart(storage, { replay: true });
    } finally {
      await deleteRedisKeys(prefix);
    }
  }, 180_000);

  it('on the embedded database: after a restart that spanned the time', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'sm-wake-'));
    try {
      await wakesAfterRestart({ DATA_DIR: dataDir }, { replay: false });
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});

import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageRecord } from '../../src/domain/message.js';
import { LOG_START, type EventTransport, type LogEntry, type LoggedEvent, type UserEvents, type Wire, type WireTarget } from '../../src/realtime/log.js';
import { MemoryTransport } from '../../src/realtime/memory-transport.js';
import { connectRedis, redisNames, type RedisClient } from '../../src/realtime/redis.js';
import { RedisTransport, USER_BATCH } from '../../src/realtime/redis-transport.js';
import { REDIS_URL } from '../env.js';
import { dataOf, startTestApp, type TestApp } from '../harness.js';
import { uid, waitFor } from '../support.js';
import { startRedisCluster, type TestCluster } from '../redis-cluster.js';
import { dropRedisPrefix, INBOX_EVENTS, liveEnv, payload, subscribeOver, waitForSubscriber } from './helpers.js';

/**
 * appendUsers, the batched append of one flush (one script per USER_BATCH users on a single Redis
 * server, one script per user on a cluster), against what the per-user path and the in-process
 * transport give: the same entries in the same order, the predecessor chain, trimming, live delivery.
 */
const logger = pino({ level: 'silent' });

const message = (n: number): MessageRecord => ({
  id: String(n),
  level: 30,
  text: `message "${n}" \\ with JSON to escape`,
  extraTags: 'a b',
  url: null,
  data: { n },
  createdAt: new Date(1_800_000_000_000 + n),
  expiresAt: null,
  readAt: null,
  seenAt: null,
  archivedAt: null,
  snoozedUntil: null,
  category: null,
  groupKey: null,
  groupCount: 1,
  stored: true,
});

/** One send's events for each user (ARCHIVE_STORED and INBOX_STORED, as the domain emits them); unseen is unread + 100, to tell them apart. */
function sendEvents(userIds: string[], m: MessageRecord, unread: (i: number) => number): UserEvents[] {
  const ids = [m.id];
  return userIds.map((userId, i) => ({
    userId,
    events: (['ARCHIVE_STORED', 'INBOX_STORED'] as const).map((signal) => userEvent({ signal, message: m, messageIds: ids, unreadCount: unread(i), unseenCount: unread(i) + 100 })),
  }));
}

/** A user's event: no cut-off, no category unless given. */
const userEvent = (e: Pick<LoggedEvent, 'signal' | 'message' | 'messageIds' | 'unreadCount' | 'unseenCount'> & Partial<LoggedEvent>): LoggedEvent => ({ until: null, category: null, ...e });

/** Events as they come back from JSON (dates as Date again). */
const plain = (e: LoggedEvent) => JSON.parse(JSON.stringify(e));

function collect(t: EventTransport) {
  const got = new Map<string, LogEntry[]>();
  t.onWire((target: WireTarget, wire: Wire) => {
    if (target === 'broadcast' || wire.kind !== 'entry') return;
    got.set(target.userId, [...(got.get(target.userId) ?? []), wire.entry]);
  });
  return got;
}

/** A log as read back: ids increase, each entry names the one before it, the first names `first`. */
function expectChain(entries: LogEntry[], first: string) {
  let prev = first;
  for (const e of entries) {
    expect(e.prev).toBe(prev);
    prev = e.id;
  }
}

describe('batched appends on a single Redis server', () => {
  const { prefix } = liveEnv('redis');
  let commands: RedisClient;
  let subscriber: RedisClient;
  let admin: Redis;
  const target = { kind: 'single' as const, url: REDIS_URL };
  const open = (limits = { keep: 1000, ttlSeconds: 3600 }, p = prefix) =>
    new RedisTransport(commands, subscriber, { prefix: p, limits, logger, cluster: false });

  beforeAll(async () => {
    commands = await connectRedis(target, { logger, name: 'test-commands' });
    subscriber = await connectRedis(target, { logger, name: 'test-subscriber' });
    admin = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    await dropRedisPrefix(prefix);
    commands?.disconnect();
    subscriber?.disconnect();
    admin?.disconnect();
  });

  it('appends each user the same entries, in order, as one append per user does, and publishes them', async () => {
    const t = open();
    const got = collect(t);
    const users = Array.from({ length: 5 }, () => uid('batch'));
    // Users 0-2 have entries already (made by the per-user path); 3 and 4 start their logs here.
    for (const u of users.slice(0, 3)) await t.appendUsers(sendEvents([u], message(1), () => 1));
    for (const u of users) await t.subscribeUser(u);
    const before = new Map(await Promise.all(users.map(async (u) => [u, await t.read('user', u, LOG_START, 100)] as const)));

    const m = message(2);
    const batch = sendEvents(users, m, (i) => 10 + i);
    // Several events for one user in one flush, including one without a message, and "all" operations with their cut-off.
    batch[1].events.push(userEvent({ signal: 'INBOX_DELETED', message: null, messageIds: ['7', '8'], unreadCount: 0, unseenCount: 3 }));
    const until = new Date(1_800_000_000_123);
    for (const b of [batch[2], batch[3]]) b.events.push(userEvent({ signal: 'INBOX_SEEN', message: null, messageIds: [], until, unreadCount: 4, unseenCount: 0 }));
    batch[3].events.push(userEvent({ signal: 'INBOX_ARCHIVED', message: null, messageIds: [], until: new Date(1_800_000_000_456), unreadCount: 2, unseenCount: 0 }));
    await t.appendUsers(batch);

    await waitFor(() => users.every((u, i) => (got.get(u)?.length ?? 0) === batch[i].events.length), { everyMs: 10, what: 'the live entries' });
    for (const [i, u] of users.entries()) {
      const old = before.get(u)!;
      const read = await t.read('user', u, LOG_START, 100);
      const added = read.entries.slice(old.entries.length);
      expect(read.entries.slice(0, old.entries.length)).toEqual(old.entries);
      expect(added.map((e) => plain(e.event))).toEqual(batch[i].events.map(plain));
      expectChain(added, old.last ?? LOG_START);
      expectChain(read.entries, LOG_START);
      expect(read.last).toBe(added.at(-1)!.id);
      // Live: the same entries, ids and predecessors as the log.
      expect(got.get(u)).toEqual(added);
    }
    // The stored JSON is byte for byte what the per-user script stores.
    const [stored] = await admin.xrevrange(redisNames(prefix).userLog(users[0]), '+', '-', 'COUNT', 1);
    expect(stored[1][3]).toBe(
      `{"signal":"INBOX_STORED","message":${JSON.stringify(m)},"messageIds":["2"],"until":null,"category":null,"unreadCount":10,"unseenCount":110}`,
    );
    const [seen] = await admin.xrevrange(redisNames(prefix).userLog(users[2]), '+', '-', 'COUNT', 1);
    expect(seen[1][3]).toBe('{"signal":"INBOX_SEEN","message":null,"messageIds":[],"until":"2027-01-15T08:00:00.123Z","category":null,"unreadCount":4,"unseenCount":0}');
    const [one] = (await t.read('user', users[2], LOG_START, 100)).entries.slice(-1);
    expect(one.event).toEqual({ signal: 'INBOX_SEEN', message: null, messageIds: [], until, category: null, unreadCount: 4, unseenCount: 0 });
  });

  it('reads entries logged before inbox states: no cut-off, category or unseen count', async () => {
    const t = open();
    const u = uid('old');
    const m = message(9);
    await admin.xadd(redisNames(prefix).userLog(u), '*', 'prev', LOG_START, 'event', JSON.stringify({ signal: 'INBOX_STORED', message: m, messageIds: ['9'], unreadCount: 5 }));
    const [entry] = (await t.read('user', u, LOG_START, 10)).entries;
    expect(entry.event).toEqual({ signal: 'INBOX_STORED', message: m, messageIds: ['9'], until: null, category: null, unreadCount: 5, unseenCount: null });
  });

  it('gives the same logs as the in-process transport, across many users and flushes', async () => {
    const redis = open({ keep: 3, ttlSeconds: 3600 });
    const memory = new MemoryTransport({ keep: 3, ttlSeconds: 3600 });
    try {
      const users = Array.from({ length: USER_BATCH + 7 }, () => uid('many'));
      for (let round = 0; round < 3; round++) {
        const batch = sendEvents(users.slice(0, USER_BATCH + 7 - round * 100), message(100 + round), (i) => round + i);
        for (let i = 0; i < batch.length; i += USER_BATCH) {
          await redis.appendUsers(batch.slice(i, i + USER_BATCH));
          await memory.appendUsers(batch.slice(i, i + USER_BATCH));
        }
      }
      for (const u of [users[0], users[150], users[USER_BATCH + 6]]) {
        const [r, m] = await Promise.all([redis.read('user', u, LOG_START, 100), memory.read('user', u, LOG_START, 100)]);
        // keep = 3: MAXLEN trims the oldest in both.
        expect(r.entries.map((e) => plain(e.event))).toEqual(m.entries.map((e) => plain(e.event)));
        expect(r.entries.length).toBe(m.entries.length);
        expectChain(r.entries, r.entries[0].prev);
        expect(r.entries[0].prev === LOG_START).toBe(m.entries[0].prev === LOG_START);
        expect(r.last).toBe(r.entries.at(-1)!.id);
      }
    } finally {
      await memory.close();
    }
  });

  it('drops entries older than the TTL and sets the log to expire, as the per-user path does', async () => {
    const t = open({ keep: 1000, ttlSeconds: 60 });
    const names = redisNames(prefix);
    const [oldUser, oneEvent, freshUser] = [uid('ttl'), uid('ttl'), uid('ttl')];
    // Entries from two minutes and from one second ago, as if the logs had been written then (and kept alive since).
    const oldId = `${Date.now() - 120_000}-0`;
    const recentId = `${Date.now() - 1000}-0`;
    const old = JSON.stringify(sendEvents([oldUser], message(1), () => 1)[0].events[0]);
    for (const u of [oldUser, oneEvent]) {
      await admin.xadd(names.userLog(u), oldId, 'prev', LOG_START, 'event', old);
      await admin.xadd(names.userLog(u), recentId, 'prev', oldId, 'event', old);
    }
    const deleted = userEvent({ signal: 'INBOX_DELETED', message: null, messageIds: ['1'], unreadCount: 0, unseenCount: 0 });
    await t.appendUsers([...sendEvents([oldUser], message(3), () => 2), { userId: oneEvent, events: [deleted] }, ...sendEvents([freshUser], message(3), () => 1)]);

    // The old entry goes (whether the user had one event or several), the recent one stays, and the
    // first new entry names it: a reader after it sees a gap-free chain.
    const read = await t.read('user', oldUser, LOG_START, 100);
    expect(read.entries.map((e) => e.event.signal)).toEqual(['ARCHIVE_STORED', 'ARCHIVE_STORED', 'INBOX_STORED']);
    expect(read.entries[0].id).toBe(recentId);
    expectChain(read.entries, oldId);
    const single = await t.read('user', oneEvent, LOG_START, 100);
    expect(single.entries.map((e) => [e.prev, e.event.signal])).toEqual([[oldId, 'ARCHIVE_STORED'], [recentId, 'INBOX_DELETED']]);
    for (const u of [oldUser, oneEvent, freshUser]) {
      const ttl = await admin.ttl(names.userLog(u));
      expect(ttl).toBeGreaterThan(50);
      expect(ttl).toBeLessThanOrEqual(60);
    }
  });

  it('keeps at least one entry with EVENTS_KEEP=0, so the chain survives', async () => {
    const t = open({ keep: 0, ttlSeconds: 3600 });
    const u = uid('keep0');
    await t.appendUsers([...sendEvents([u], message(4), () => 1), ...sendEvents([uid('keep0')], message(4), () => 1)]);
    const first = await t.read('user', u, LOG_START, 100);
    expect(first.entries).toHaveLength(1);
    await t.appendUsers([...sendEvents([u], message(5), () => 2), ...sendEvents([uid('keep0')], message(5), () => 2)]);
    const second = await t.read('user', u, LOG_START, 100);
    expect(second.entries).toHaveLength(1);
    expect(second.entries[0].event.signal).toBe('INBOX_STORED');
    // ARCHIVE_STORED of message 5 followed INBOX_STORED of message 4 and is trimmed: INBOX_STORED names it.
    expect(second.entries[0].prev).not.toBe(first.last);
    expect(second.entries[0].prev).not.toBe(LOG_START);
  });
});

describe('appends on a Redis Cluster: one script per user', () => {
  let cluster: TestCluster;
  let commands: RedisClient;
  let subscriber: RedisClient;
  const prefix = 'smlive:appendcluster:';

  beforeAll(async () => {
    cluster = await startRedisCluster();
    const target = { kind: 'cluster' as const, nodes: cluster.ports.map((port) => ({ host: '127.0.0.1', port })) };
    commands = await connectRedis(target, { logger, name: 'test-commands' });
    subscriber = await connectRedis(target, { logger, name: 'test-subscriber' });
  }, 120_000);
  afterAll(async () => {
    commands?.disconnect();
    subscriber?.disconnect();
    await cluster?.stop();
  });

  it('appends and publishes users of different slots, each with its own chain', async () => {
    const t = new RedisTransport(commands, subscriber, { prefix, limits: { keep: 1000, ttlSeconds: 3600 }, logger, cluster: true });
    expect(t.userBatch).toBe(1);
    await t.start();
    const got = collect(t);
    const users = Array.from({ length: 6 }, (_, i) => `cluster-user-${i}`);
    for (const u of users) await t.subscribeUser(u);
    // The publisher calls with one user at a time here; more in one call still works (one script each).
    await t.appendUsers(sendEvents(users, message(1), (i) => i));
    await t.appendUsers(sendEvents(users.slice(0, 1), message(2), () => 9));
    await waitFor(() => users.every((u, i) => (got.get(u)?.length ?? 0) === (i === 0 ? 4 : 2)), { everyMs: 10, what: 'the live entries' });
    for (const u of users) {
      const read = await t.read('user', u, LOG_START, 100);
      expectChain(read.entries, LOG_START);
      expect(got.get(u)).toEqual(read.entries);
    }
  });
});

describe('a send to 10,000 users on the Redis backend with Redis pub/sub', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('redis');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('reaches the subscribers of users in different batches, in order, and replays after a cursor', async () => {
    const SEND_FOR = 'mutation($u: [ID!]!, $t: String!) { addMessageFor(input: { userIds: $u, level: STORED_INFO, text: $t }) { recipientCount message { id } } }';
    const run = uid('w2');
    const userIds = Array.from({ length: 10_000 }, (_, i) => `${run}-${i}`);
    const watched = [0, USER_BATCH + 1, 4321, 9999].map((i) => userIds[i]);
    const producer = await t.producerToken();
    const tokens = await Promise.all(watched.map((u) => t.userToken(u)));
    const subs = tokens.map((u) => subscribeOver('ws', t.baseUrl, u.token, INBOX_EVENTS));
    try {
      for (const u of watched) await waitForSubscriber(t.app, u);
      const sent: string[] = [];
      for (const text of ['first', 'second']) {
        const r = dataOf(await t.gql(producer.token, SEND_FOR, { u: userIds, t: text })).addMessageFor;
        expect(r.recipientCount).toBe(10_000);
        sent.push(r.message.id);
      }
      const seen = await Promise.all(subs.map(async (s) => (await s.results.take(4, 30_000)).map((r) => payload(r, 'inboxEvents'))));
      for (const events of seen) {
        expect(events.map((e) => [e.signal, e.messageIds, e.unreadCount, e.message.text])).toEqual([
          ['ARCHIVE_STORED', [sent[0]], 1, 'first'],
          ['INBOX_STORED', [sent[0]], 1, 'first'],
          ['ARCHIVE_STORED', [sent[1]], 2, 'second'],
          ['INBOX_STORED', [sent[1]], 2, 'second'],
        ]);
      }
      // Resuming after the first event replays the other three from the user's log, gap-free.
      const resumed = subscribeOver('ws', t.baseUrl, tokens[2].token, INBOX_EVENTS, { after: seen[2][0].cursor });
      try {
        const replayed = (await resumed.results.take(3)).map((r) => payload(r, 'inboxEvents'));
        expect(replayed.map((e) => [e.signal, e.messageIds, e.cursor])).toEqual(seen[2].slice(1).map((e) => [e.signal, e.messageIds, e.cursor]));
      } finally {
        resumed.close();
      }
    } finally {
      for (const s of subs) s.close();
    }
  }, 60_000);
});

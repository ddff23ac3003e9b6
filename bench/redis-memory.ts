/**
 * Memory used by the Redis store, per stored message and per recipient.
 *
 *   npx tsx bench/redis-memory.ts [--url redis://127.0.0.1:6379] [--users 1000] [--per-user 20]
 *
 * Writes under a prefix of its own (smbench:<random>:) through the real store, measures with
 * MEMORY USAGE (SAMPLES 0: every element) summed over its keys, and with the change of INFO
 * used_memory (noisy when others use the server), then deletes exactly its keys (SCAN MATCH).
 * Four shapes: few messages per user (Redis keeps small sets as compact listpacks), many per user
 * (skiplists and hash tables), one message to many users, and broadcasts once every user has read them.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import pino from 'pino';
import { loadConfig } from '../src/config.js';
import type { NewMessage } from '../src/domain/message.js';
import { openStorage } from '../src/storage/index.js';
import type { MessageStore } from '../src/domain/message-store.js';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
    users: { type: 'string', default: '1000' },
    'per-user': { type: 'string', default: '20' },
  },
});
const USERS = Number(args.users);
const PER_USER = Number(args['per-user']);
const CONCURRENCY = 100;

const text = 'Your export "quarterly-report.csv" is ready to download.'; // 56 characters, a typical notification
const message = (i: number): NewMessage => ({
  level: 21,
  text: `${text} #${i}`,
  extraTags: 'export',
  url: `https://example.com/exports/${i}`,
  data: null,
  createdAt: new Date(),
  expiresAt: new Date(Date.now() + 120 * 86_400_000),
  category: null,
  critical: false,
  groupKey: null,
});

async function inBatches<T>(items: T[], f: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += CONCURRENCY) await Promise.all(items.slice(i, i + CONCURRENCY).map(f));
}

async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

async function usage(redis: Redis, keys: string[]): Promise<number> {
  let total = 0;
  for (let i = 0; i < keys.length; i += 500) {
    const pipe = redis.pipeline();
    for (const k of keys.slice(i, i + 500)) pipe.memory('USAGE', k, 'SAMPLES', 0);
    for (const [err, n] of (await pipe.exec()) ?? []) if (!err) total += Number(n ?? 0);
  }
  return total;
}

const usedMemory = async (redis: Redis) => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? 0);

interface Shape {
  name: string;
  messages: number;
  deliveries: number;
  write(store: MessageStore, users: string[]): Promise<void>;
  users: number;
}

const shapes: Shape[] = [
  {
    name: `${USERS} known users, no message (per-user baseline: counters, watermark, registry)`,
    users: USERS,
    messages: 0,
    deliveries: 0,
    async write(store, users) {
      await inBatches(users, (u) => store.ensureUser(u));
    },
  },
  {
    name: `${USERS} users x ${PER_USER} direct messages (small per-user sets: listpacks)`,
    users: USERS,
    messages: USERS * PER_USER,
    deliveries: USERS * PER_USER,
    async write(store, users) {
      const jobs = users.flatMap((u) => Array.from({ length: PER_USER }, (_, i) => [u, i] as const));
      await inBatches(jobs, ([u, i]) => store.send(message(i), { userIds: [u] }));
      // Half read, so both the unread set and the read-time hash hold entries.
      await inBatches(users, async (u) => {
        const page = await store.list(u, { unreadOnly: false, filter: {}, direction: 'forward', limit: Math.ceil(PER_USER / 2), cursor: null });
        await store.setRead(u, page.items.map((i) => i.message.id), true);
      });
    },
  },
  {
    name: `${Math.max(1, Math.round(USERS / 20))} users x 500 direct messages (large per-user sets)`,
    users: Math.max(1, Math.round(USERS / 20)),
    messages: Math.max(1, Math.round(USERS / 20)) * 500,
    deliveries: Math.max(1, Math.round(USERS / 20)) * 500,
    async write(store, users) {
      const jobs = users.flatMap((u) => Array.from({ length: 500 }, (_, i) => [u, i] as const));
      await inBatches(jobs, ([u, i]) => store.send(message(i), { userIds: [u] }));
      await inBatches(users, (u) => store.markAllRead(u, new Date(Date.now() + 60_000)).then(() => undefined));
    },
  },
  {
    name: `200 messages x ${USERS} recipients each (body stored once)`,
    users: USERS,
    messages: 200,
    deliveries: 200 * USERS,
    async write(store, users) {
      await inBatches(Array.from({ length: 200 }, (_, i) => i), (i) => store.send(message(i), { userIds: users }));
    },
  },
  {
    name: `20 broadcasts to ${USERS} users, after every user has read their inbox`,
    users: USERS,
    messages: 20,
    deliveries: 20 * USERS,
    async write(store, users) {
      await inBatches(users, (u) => store.ensureUser(u));
      for (let i = 0; i < 20; i++) await store.send(message(i), { everyone: true });
      await inBatches(users, (u) => store.unreadCount(u)); // each user's next access materialises them
    },
  },
];

async function main() {
  const redis = new Redis(args.url!);
  const logger = pino({ level: 'silent' });
  console.log(`Redis store memory, ${args.url} (${(await redis.info('server')).match(/redis_version:(\S+)/)?.[1]})\n`);
  const rows: string[][] = [['shape', 'messages', 'deliveries', 'bodies B/msg', 'user keys B/delivery', 'global B/msg', 'total B/delivery', 'INFO delta B/delivery']];
  const per = (bytes: number, n: number) => (n ? (bytes / n).toFixed(0) : '-');
  let baseline = '';
  for (const shape of shapes) {
    const prefix = `smbench:${randomBytes(4).toString('hex')}:`;
    const store = await openStorage(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', STORAGE_BACKEND: 'redis', REDIS_URL: args.url, REDIS_PREFIX: prefix }), { logger });
    try {
      const before = await usedMemory(redis);
      const users = Array.from({ length: shape.users }, (_, i) => `user-${i}-${randomBytes(3).toString('hex')}`);
      await shape.write(store, users);
      const after = await usedMemory(redis);
      const bodies = await usage(redis, await scanKeys(redis, `${prefix}{message:*`));
      const userKeys = await usage(redis, await scanKeys(redis, `${prefix}{user:*`));
      const global = await usage(redis, await scanKeys(redis, `${prefix}{global}*`));
      if (!shape.deliveries) {
        baseline = `per known user: ${per(userKeys, shape.users)} B in the user's keys + ${per(global, shape.users)} B in the global registry (INFO delta ${per(after - before, shape.users)} B)`;
        continue;
      }
      rows.push([
        shape.name,
        String(shape.messages),
        String(shape.deliveries),
        per(bodies, shape.messages),
        per(userKeys, shape.deliveries),
        per(global, shape.messages),
        per(bodies + userKeys + global, shape.deliveries),
        per(after - before, shape.deliveries),
      ]);
    } finally {
      await store.close();
      const keys = await scanKeys(redis, `${prefix}*`);
      for (let i = 0; i < keys.length; i += 1000) await redis.unlink(...keys.slice(i, i + 1000));
    }
  }
  redis.disconnect();
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) console.log(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
  console.log(`\n${baseline}`);
  console.log('\nbodies: message bodies (one per message); user keys: per-user sets, hashes and counters; global: id sequence,');
  console.log('broadcast records, known users, expiry indexes (the per-user registry is spread over the messages of a shape).');
  console.log('INFO delta includes allocator overhead and whatever else the server did meanwhile (noisy on a shared server).');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

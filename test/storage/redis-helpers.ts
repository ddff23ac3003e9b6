import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { MessageStore } from '../../src/domain/message-store.js';
import type { SignalName } from '../../src/domain/signals.js';
import { openRedis } from '../../src/redis/connection.js';
import { resolveRedisTarget } from '../../src/redis/target.js';
import { RedisContext } from '../../src/storage/redis/context.js';
import { openStorage, type Storage } from '../../src/storage/index.js';
import { openRedisStore } from '../../src/storage/redis/index.js';
import type { JournalHooks } from '../../src/storage/redis/journal.js';
import { REDIS_URL } from '../env.js';
import { msg } from './contract.js';
import { ALL_SIGNALS } from './contract/outbox-support.js';
import { deleteRedisKeys } from '../harness.js';

/**
 * Helpers for the Redis store's tests: stores on key prefixes of their own, and for interrupted sends,
 * stores whose real send code stops where a process could die (JournalHooks) and a context to inspect
 * keys and complete the journal as recovery does.
 */
export const logger = pino({ level: 'silent' });
export const uid = (p = 'u') => `${p}-${randomBytes(6).toString('hex')}`;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const newPrefix = () => `smtest:${randomBytes(4).toString('hex')}:`;

/** The Redis tests run with webhooks on (every signal), so the outbox writes ride along with every change. */
export { ALL_SIGNALS };

/** The Redis store on the test server, as the app opens it, with its keys under `prefix` (webhooks on unless `webhookSignals` says otherwise). */
export const openOn = (prefix: string, o: { webhookSignals?: ReadonlySet<SignalName> | null; url?: string } = {}) =>
  openStorage(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', STORAGE_BACKEND: 'redis', REDIS_URL: o.url ?? REDIS_URL, REDIS_PREFIX: prefix }), {
    logger,
    webhookSignals: o.webhookSignals === undefined ? ALL_SIGNALS : o.webhookSignals,
  });

/** Thrown by a hook: the send stops there, as if its process had died. */
export class Died extends Error {
  constructor() {
    super('the process died');
  }
}

/** Another process's store on the same prefix (url: a redis:// or redis+cluster:// URL), whose journalled sends stop where `hooks` say. */
export function storeWithHooks(prefix: string, hooks: JournalHooks, url = REDIS_URL): Promise<MessageStore> {
  return openRedisStore(resolveRedisTarget(url, null)!, { prefix, logger, journalHooks: hooks, webhookSignals: ALL_SIGNALS });
}

/** A context on the prefix, to read keys and complete journal entries; disconnect its client afterwards. */
export async function contextOn(prefix: string, url = REDIS_URL): Promise<RedisContext> {
  const target = resolveRedisTarget(url, null)!;
  return new RedisContext(await openRedis(target, { logger, name: 'test', role: 'storage' }), target.kind === 'cluster', prefix, { webhooks: true });
}

/** A promise and its resolve, for a hook that holds a send until the test lets it go. */
export function gate(): { wait: Promise<void>; open: () => void } {
  let open = () => {};
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}

/**
 * For a describe block: the Redis store and a context on a key prefix of its own, opened before its
 * tests and closed (keys removed) after; `prefix` for more stores on the same keys.
 */
export function redisStoreSuite(): { prefix: string; store: () => Storage; ctx: () => RedisContext } {
  const prefix = newPrefix();
  let store: Storage | undefined;
  let ctx: RedisContext | undefined;
  beforeAll(async () => {
    [store, ctx] = await Promise.all([openOn(prefix), contextOn(prefix)]);
  });
  afterAll(async () => {
    await store?.close();
    ctx?.client.disconnect();
    await deleteRedisKeys(prefix);
  });
  return { prefix, store: () => store!, ctx: () => ctx! };
}

/**
 * Writers and dispatchers at once on one outbox (the index rule's races): `users` each get `rounds`
 * changes (a send, then reading it) from concurrent writers while two dispatchers claim a few events per
 * stream and acknowledge them; answers every event they took, by stream, once the writers are done and the
 * outbox is drained.
 */
export async function churn(store: Storage, users: readonly string[], rounds: number): Promise<Map<string, string[]>> {
  const taken = new Map<string, string[]>();
  let writing = true;
  const dispatch = async () => {
    while (writing || (await store.webhooks.pending()) > 0) {
      const claims = await store.webhooks.claim({ now: new Date(), streams: 4, perStream: 3, leaseMs: 60_000 });
      for (const c of claims) taken.set(c.stream, [...(taken.get(c.stream) ?? []), ...c.items.map((i) => i.event.type)]);
      await store.webhooks.acknowledge(claims.flatMap((c) => c.items.map((i) => i.event.id)));
      if (!claims.length) await sleep(5);
    }
  };
  const dispatchers = [dispatch(), dispatch()];
  await Promise.all(
    users.map(async (u) => {
      for (let i = 0; i < rounds; i++) {
        const { message } = await store.send(msg({ text: `round ${i}` }), { userIds: [u] });
        await store.setRead(u, [message.id], true);
      }
    }),
  );
  writing = false;
  await Promise.all(dispatchers);
  return taken;
}

import { randomBytes } from 'node:crypto';
import type { RedisContext } from './context.js';

/** How long a grouped send may hold its recipients before their locks lapse (a process died holding them). */
const LOCK_MS = 10_000;
const MAX_BACKOFF_MS = 50;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A journalled send allocates its id in one step and delivers in others (send.ts), so two grouped
 * sends to one user could reach them out of id order and count the group out of order. A grouped
 * journalled send runs `send` holding a lock per recipient (`{user:<id>}:group-lock`) from before its
 * id is allocated until it has delivered: per user, grouped deliveries then follow their ids. The
 * locks are taken all at once, or none (released, then retried after a random pause), so two sends
 * never wait on each other in a cycle. A lock lapses after LOCK_MS: a send left midway by a process
 * that died is completed later by the journal, possibly out of that order.
 */
export async function inGroupOrder<T>(ctx: RedisContext, users: readonly string[], send: () => Promise<T>): Promise<T> {
  const token = randomBytes(8).toString('hex');
  const keys = users.map((u) => ctx.keys.groupLock(u));
  for (let attempt = 0; ; attempt++) {
    const got = await Promise.all(keys.map((k) => ctx.client.set(k, token, 'PX', LOCK_MS, 'NX')));
    const held = keys.filter((_, i) => got[i] === 'OK');
    if (held.length === keys.length) break;
    await release(ctx, held, token);
    await sleep(Math.random() * Math.min(MAX_BACKOFF_MS, 2 ** attempt));
  }
  try {
    return await send();
  } finally {
    await release(ctx, keys, token);
  }
}

async function release(ctx: RedisContext, keys: readonly string[], token: string): Promise<void> {
  await Promise.all(keys.map((k) => ctx.scripts.unlock({ key: k, token })));
}

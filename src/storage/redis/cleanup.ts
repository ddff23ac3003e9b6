import type { RedisContext } from './context.js';
import { recoverJournal } from './journal.js';

/**
 * Reclaims expired data in bounded steps; reads never wait for it (they skip expired deliveries and
 * correct the counts on their own). Per call: at most `limit` deliveries and `limit` bodies.
 *
 * - Deliveries: the global zset `ux` holds, per user, a time at or before their earliest expiry
 *   (ZADD LT, written after each per-user step that adds an expiring delivery). A due user is
 *   cleaned in one per-user script, then `ux` is set to their next expiry and re-checked: a
 *   delivery added in between may have lowered `ux` before our write, and it is already in the
 *   user's keys, so the re-check (ZADD LT of the user's current earliest expiry) restores it.
 * - Bodies: the global zset `mx` (message id -> expiry); an expired body is deleted (all its
 *   deliveries are expired too: the expiry belongs to the message), then forgotten with its
 *   broadcast record.
 * - Idempotency records expire by themselves (key TTL, 24 h). Send journal entries left by a
 *   process that died midway are completed first (send.ts).
 */
export async function cleanupExpired(ctx: RedisContext, limit: number): Promise<number> {
  const g = ctx.keys.g;
  await recoverJournal(ctx, limit);

  let deliveries = 0;
  const users = await ctx.scripts.run('smDue', [g.ux], [limit]);
  for (const user of users) {
    if (deliveries >= limit) break;
    const u = ctx.keys.user(user);
    const [n, next] = await ctx.scripts.run('smCleanUser', u, [limit - deliveries]);
    deliveries += Number(n);
    if (next === '') await ctx.client.zrem(g.ux, user);
    else await ctx.client.zadd(g.ux, next, user);
    const [, earliest] = await ctx.client.zrange(u[5], 0, 0, 'WITHSCORES');
    if (earliest !== undefined) await ctx.client.zadd(g.ux, 'LT', earliest, user);
  }

  let bodies = 0;
  const ids = await ctx.scripts.run('smDue', [g.mx], [limit]);
  if (ids.length) {
    const keys = ids.map((id) => ctx.keys.body(id));
    bodies = ctx.cluster ? (await Promise.all(keys.map((k) => ctx.client.del(k)))).reduce((a, b) => a + b, 0) : await ctx.client.del(...keys);
    await ctx.scripts.run('smForget', [g.mx, g.b, g.bm], ids);
  }
  return deliveries + bodies;
}

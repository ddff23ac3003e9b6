import type { RedisContext } from './context.js';
import { recoverJournal } from './journal.js';

/** Leftover unread-index entries (a mark-all-read leaves them, see lua/lib/read-state.lua) trimmed per script. */
const TRIM_PER_SCRIPT = 1000;
/** Leftover entries trimmed per call, as a multiple of `limit`: one costs far less than reclaiming a delivery. */
const TRIM_PER_LIMIT = 10;

/**
 * Reclaims expired data in bounded steps; reads never wait for it (they skip expired deliveries and
 * correct the counts on their own). Per call: at most `limit` deliveries and `limit` bodies (and
 * 10 × `limit` leftover index entries, which are not counted in the answer).
 *
 * - Deliveries: the global zset `users-due` holds, per user, a time at or before their earliest expiry
 *   (ZADD LT, written after each per-user step that adds an expiring delivery), or before a
 *   mark-all-read left more index entries than it trimmed itself. A due user is cleaned in
 *   per-user scripts, then `users-due` is set to when they are next due and re-checked: a delivery
 *   added (or a mark-all-read) in between may have lowered `users-due` before our write, and it is
 *   already in the user's keys, so the re-check (ZADD LT of the user's current earliest expiry,
 *   or of now while there is trimming left) restores it.
 * - Bodies: the global zset `bodies-due` (message id -> expiry); an expired body is deleted (all its
 *   deliveries are expired too: the expiry belongs to the message), then forgotten with its
 *   broadcast record.
 * - Idempotency records expire by themselves (key TTL, 24 h). Send journal entries left by a
 *   process that died midway are completed first (send.ts).
 */
export async function cleanupExpired(ctx: RedisContext, limit: number): Promise<number> {
  const g = ctx.keys.global;
  await recoverJournal(ctx, limit);

  let deliveries = 0;
  let trimmed = 0;
  const trimLimit = limit * TRIM_PER_LIMIT;
  const users = await ctx.scripts.due({ schedule: 'usersDue', limit });
  for (const user of users) {
    if (deliveries >= limit) break;
    let next: string;
    let trim: number;
    let done: number;
    do {
      trim = Math.min(TRIM_PER_SCRIPT, trimLimit - trimmed);
      const [n, t, due] = await ctx.scripts.cleanUser({ userId: user, maxDeliveries: limit - deliveries, maxTrim: trim });
      deliveries += Number(n);
      done = Number(t);
      trimmed += done;
      next = due;
    } while (done === trim && trim > 0 && trimmed < trimLimit && deliveries < limit);
    if (next === '') await ctx.client.zrem(g.usersDue, user);
    else await ctx.client.zadd(g.usersDue, next, user);
    const recheck = await ctx.scripts.nextDue({ userId: user });
    if (recheck !== '') await ctx.client.zadd(g.usersDue, 'LT', recheck, user);
  }

  let bodies = 0;
  const ids = await ctx.scripts.due({ schedule: 'bodiesDue', limit });
  if (ids.length) {
    const keys = ids.map((id) => ctx.keys.body(id));
    bodies = ctx.cluster ? (await Promise.all(keys.map((k) => ctx.client.del(k)))).reduce((a: number, b: number) => a + b, 0) : await ctx.client.del(...keys);
    await ctx.scripts.forgetBodies({ ids });
  }
  return deliveries + bodies;
}

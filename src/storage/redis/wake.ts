import type { MessageRecord } from '../../domain/message.js';
import type { WokenUser } from '../../domain/message-store.js';
import type { RedisContext } from './context.js';
import { COUNT_FIELDS, parseChange, parseCounts, parseItems, type StoredItem } from './replies.js';

/**
 * Snooze wake-ups. Each user's snoozed deliveries wake in a per-user script (lua/wake.lua), which
 * wakes only what is still snoozed and due: atomic, so each wakes exactly once however many processes
 * call wakeDue at once. Finding the users is the global zset `wake-due` (user -> a time at or before
 * their next wake, ZADD LT), one probe when nothing is due. Every snooze indexes its time before and
 * after its per-user step (a process dying in between loses nothing; a waker rewriting the user's time
 * meanwhile is corrected), and the waker re-checks after rewriting, as the expiry cleanup does.
 */
async function indexWake(ctx: RedisContext, userId: string, at: string): Promise<void> {
  await ctx.client.zadd(ctx.keys.global.wakeDue, 'LT', at, userId);
}

/** snooze.lua on the user's live deliveries among ids (distinct), with the wake index kept around it. */
export async function snoozeIndexed(ctx: RedisContext, userId: string, ids: readonly string[], until: Date | null): Promise<ReturnType<typeof parseChange>> {
  // Indexed before the user's step too, so that a process dying between the two loses no wake-up.
  if (until && ids.length) await indexWake(ctx, userId, String(until.getTime()));
  const r = parseChange(await ctx.userOp(userId, 'snooze', { until, ids }), true);
  if (r.nextWake) await indexWake(ctx, userId, r.nextWake);
  return r;
}

export async function wakeDue(
  ctx: RedisContext,
  now: Date,
  limit: number,
  records: (items: readonly StoredItem[]) => Promise<MessageRecord[]>,
): Promise<WokenUser[]> {
  const g = ctx.keys.global;
  const users = await ctx.client.zrangebyscore(g.wakeDue, '-inf', now.getTime(), 'LIMIT', 0, limit);
  const out: WokenUser[] = [];
  let left = limit;
  for (const userId of users) {
    if (left <= 0) break;
    const r = await ctx.userOp(userId, 'wake', { now, limit: left });
    const next = r[COUNT_FIELDS];
    if (next === '') await ctx.client.zrem(g.wakeDue, userId);
    else await ctx.client.zadd(g.wakeDue, next, userId);
    // A snooze that landed after our step may have had its index entry overwritten above: restore it.
    const [, recheck] = await ctx.client.zrange(ctx.keys.userKey(userId, 'wakes'), 0, 0, 'WITHSCORES');
    if (recheck !== undefined) await indexWake(ctx, userId, recheck);
    const messages = await records(parseItems(r.slice(COUNT_FIELDS + 1)));
    left -= messages.length;
    if (messages.length) out.push({ userId, messages, counts: parseCounts(r) });
  }
  return out;
}

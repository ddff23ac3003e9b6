import { setTimeout as sleep } from 'node:timers/promises';
import { isMessageId } from '../../domain/message.js';
import type { MessageStore, RetractedRecipient, RetractedView, RetractResult } from '../../domain/message-store.js';
import type { RedisContext, UserOp } from './context.js';
import { parseCounts } from './replies.js';

/** Users per pipeline of per-user retraction steps (each one script; a pipeline is one round trip). */
const USERS_PER_ROUND = 500;
/** While a schedule is claimed by a deliverer (neither cancellable nor delivered yet), how often and how long to wait for it. */
const CLAIMED_WAIT_MS = 100;
const CLAIMED_TRIES = 50;

/**
 * Retraction on Redis (lua/lib/retract.lua). A broadcast: one global step (retract.lua) takes it out of
 * the published broadcasts (nobody catches up with it any more) and numbers it in `retractions`; each
 * user who had it loses it in their next script's prelude, so every read and count is exact once this
 * returns, and `retracted` remembers for the live consumers who had it. Its recipientCount is the users
 * known when it was sent (kept per broadcast): those who deleted it since are not subtracted. A direct
 * message: the global mark, then one atomic step per addressed user (its `:to` list, kept beside the
 * body), then its body and list go.
 */
export async function retract(ctx: RedisContext, cancelScheduled: MessageStore['cancelScheduled'], id: string): Promise<RetractResult | null> {
  if (!isMessageId(id)) return null;
  for (let tries = 0; tries < CLAIMED_TRIES; tries++) {
    const [what, value] = await ctx.scripts.retractGlobal({ id, schedule: `${ctx.keys.prefix}{global}:schedule:${id}` });
    if (what === 'again') return { recipientCount: 0, broadcast: false, recipients: [] };
    if (what === 'delivered') return retract(ctx, cancelScheduled, value);
    if (what === 'broadcast') {
      await ctx.client.del(ctx.keys.body(id));
      return { recipientCount: Number(value), broadcast: true, recipients: null };
    }
    if (what === 'other') return retractDirect(ctx, id);
    const cancel = await cancelScheduled(id);
    // Cancelled in time: nobody ever had it, so no signal (recipients [] even for a broadcast).
    if (cancel?.cancelled) return { recipientCount: 0, broadcast: cancel.scheduled.broadcast, recipients: [] };
    // Claimed by a deliverer: it becomes delivered (then retracted) within its lease.
    await sleep(CLAIMED_WAIT_MS);
  }
  throw new Error('retract: the scheduled message is still being delivered; try again');
}

async function retractDirect(ctx: RedisContext, id: string): Promise<RetractResult | null> {
  const raw = await ctx.client.get(ctx.keys.recipients(id));
  if (raw === null) return null;
  // Marked first, so a second call answers 0 even while this one is midway; the per-user steps are idempotent.
  await ctx.client.zadd(ctx.keys.global.retractions, 0, id);
  const users = JSON.parse(raw) as string[];
  const recipients: RetractedRecipient[] = [];
  for (let i = 0; i < users.length; i += USERS_PER_ROUND) {
    const chunk = users.slice(i, i + USERS_PER_ROUND);
    const replies = await ctx.userOps(chunk.map((userId): UserOp => ({ userId, name: 'retract', args: { messageId: id } })));
    chunk.forEach((userId, j) => {
      const [had, ...counts] = replies[j];
      if (had !== '') recipients.push({ userId, wasUnread: had === '1', counts: parseCounts(counts) });
    });
  }
  await ctx.client.del(ctx.keys.body(id), ctx.keys.recipients(id));
  return { recipientCount: recipients.length, broadcast: false, recipients };
}

/** Whether each user had the retracted broadcast (their prelude removes it first): one per-user script each, pipelined. */
export async function retractedViews(ctx: RedisContext, id: string, userIds: readonly string[]): Promise<Map<string, RetractedView>> {
  const unique = [...new Set(userIds)];
  const none: RetractedView = { had: false, wasUnread: false, unreadCount: 0, unseenCount: 0 };
  if (!isMessageId(id)) return new Map(unique.map((u) => [u, none]));
  const replies = await ctx.userOps(unique.map((userId): UserOp => ({ userId, name: 'retracted', args: { messageId: id } })));
  return new Map(
    unique.map((userId, i): [string, RetractedView] => {
      const [had, ...counts] = replies[i];
      const c = parseCounts(counts);
      return [userId, { had: had !== '', wasUnread: had === '1', unreadCount: c.unread, unseenCount: c.unseen }];
    }),
  );
}

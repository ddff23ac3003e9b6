import { deliveredRecord, type NewMessage } from '../../domain/message.js';
import { IdempotencyMismatch, type IdempotencyClaim, type Recipients, type SendResult } from '../../domain/message-store.js';
import { encodeBody, metaArgs, replayedSend, specTail } from './codec.js';
import { parseUserReply, type UserDelivery } from './replies.js';
import type { RedisContext } from './context.js';
import { completeJournal, encodeEntry, type JournalEntry, type JournalHooks } from './journal.js';
import { GroupCommit } from '../group.js';
import { groupLock, groupPause, LOCK_MS } from './group-order.js';

/**
 * Recipients a single-server send delivers in one atomic script. A script blocks Redis while it
 * runs, so larger sends are journalled and delivered in chunks.
 */
export const ATOMIC_SEND_MAX = 200;

/**
 * Stores one message for each listed user, or one broadcast for every known user.
 *
 * Guarantee. A broadcast is one atomic script (on a cluster: one atomic step of the global slot,
 * the body, and a publishing step; later broadcasts stay invisible until it is published, so none
 * is ever skipped). A send to at most ATOMIC_SEND_MAX users on a single server is one script:
 * idempotency claim, id, body, every delivery, counters and indexes happen entirely or not at all
 * (a direct send to a few users, without a key, may share that script with others: sendGroup).
 * Larger sends, and every multi-user send on Redis Cluster (a script may not span hash slots), are
 * *eventually all*: step 1 claims the idempotency key, allocates the id, registers the recipients
 * and writes a journal entry in one atomic step; then come the body, the deliveries (per chunk on a
 * single server, per user on a cluster; each atomic and idempotent: a delivery the user already
 * has, has deleted, or that has expired is skipped) and a last step that clears the journal. When
 * the process dies midway, any server process completes the entry (at start, and in every cleanup
 * run once it is 5 s old); a call with the same idempotency key completes it at once. Meanwhile
 * some recipients may see the message before others; none ever sees it twice, and every count
 * stays exact because each delivery updates its user's counters in the same script.
 */
export class RedisSends {
  /** Direct sends grouped into one script under load (see sendGroup). */
  private readonly direct: GroupCommit<DirectSend, SendResult>;

  constructor(
    private readonly ctx: RedisContext,
    private readonly hooks: JournalHooks = {},
    onBatch?: (size: number) => void,
  ) {
    this.direct = sendGroup(ctx, onBatch);
  }

  send(message: NewMessage, to: Recipients, idem?: IdempotencyClaim): Promise<SendResult> {
    const { ctx } = this;
    const users = 'everyone' in to ? null : [...new Set(to.userIds)].sort();
    if (users && !idem && !ctx.cluster && users.length <= GROUPED_MAX_USERS) return this.direct.submit({ message, users });
    const journalled = ctx.cluster || (users !== null && users.length > ATOMIC_SEND_MAX);
    return journalled ? sendJournalled(ctx, message, users, idem, this.hooks) : sendAtomically(ctx, message, users, idem);
  }
}

/**
 * Group commit. Direct sends without idempotency keys, to at most GROUPED_MAX_USERS users each, on a
 * single server wait while a batch of them runs and then go together as one script (send-batch.lua):
 * Redis and this process pay a script call, a write and a reply once for many sends. A send that fails
 * in Redis fails alone, as it would in a script of its own (pcall in the script). A batch holds at
 * most ATOMIC_SEND_MAX deliveries, so a script blocks Redis no longer than one large send does. A
 * batch whose script call fails as a whole (the connection dropped) fails all its sends: whether it
 * ran is unknown, and sending again could deliver twice.
 */
export const GROUPED_MAX_USERS = 16;

type DirectSend = { message: NewMessage; users: string[] };

function sendGroup(ctx: RedisContext, onBatch?: (size: number) => void): GroupCommit<DirectSend, SendResult> {
  return new GroupCommit<DirectSend, SendResult>({
    onBatch,
    running: 1,
    max: 64,
    weight: (s) => s.users.length,
    maxWeight: ATOMIC_SEND_MAX,
    run: async (batch) => {
      if (batch.length === 1) return batch[0].resolve(await sendAtomically(ctx, batch[0].item.message, batch[0].item.users));
      const r = await ctx.scripts.sendBatch({ sends: batch.map(({ item }) => item) });
      let at = 0;
      // In the order of their ids, so live events of one user follow their counts.
      for (const { item, resolve, reject } of batch) {
        if (r[at] === 'e') {
          // This send failed in Redis (as it would have alone); the others of the batch stand.
          reject(new Error(r[at + 1]));
          at += 2;
          continue;
        }
        resolve(directResult(r[at], item.message, item.users, r.slice(at + 1, at + 1 + item.users.length)));
        at += 1 + item.users.length;
      }
    },
  });
}

function answer(r: readonly string[]): void {
  if (r[0] === 'mismatch') throw new IdempotencyMismatch('idempotency key reused with different input');
}

async function sendAtomically(ctx: RedisContext, message: NewMessage, users: string[] | null, idem?: IdempotencyClaim): Promise<SendResult> {
  const r = users ? await ctx.scripts.sendDirect({ users, message, idempotency: idem }) : await ctx.scripts.broadcast({ message, idempotency: idem });
  answer(r);
  if (r[0] === 'replay') return replayedSend(r);
  const [, id, rc, ...replies] = r;
  if (users) return directResult(id, message, users, replies);
  return { message: deliveredRecord(id, message), recipientCount: Number(rc), recipients: null, replayed: false };
}

/** A direct send's result from the scripts' answer per user (lua/lib/delivery.lua user_reply), in the users' order. */
function directResult(id: string, message: NewMessage, users: readonly string[], replies: readonly string[]): SendResult {
  return sentTo(id, message, users.map((userId, i) => [userId, parseUserReply(replies[i])]));
}

/** The recipients are the users the message reached: those their preference skipped (null) are left out. */
function sentTo(id: string, message: NewMessage, per: readonly [string, UserDelivery | null][]): SendResult {
  const recipients = per.flatMap(([userId, d]) => (d ? [{ userId, ...d }] : []));
  return { message: deliveredRecord(id, message), recipientCount: recipients.length, recipients, replayed: false };
}

async function sendJournalled(ctx: RedisContext, message: NewMessage, users: string[] | null, idem: IdempotencyClaim | undefined, hooks: JournalHooks): Promise<SendResult> {
  const [level, createdAt, expiresAt] = metaArgs(message);
  const draft: Omit<JournalEntry, 'id' | 'deliveredAt'> = {
    kind: users ? 'direct' : 'broadcast',
    body: encodeBody(message),
    level,
    createdAt,
    expiresAt,
    tail: specTail(message),
    users: users ?? [],
    idempotencyKey: idem ? ctx.scripts.idempotencyKey(idem) : '',
    groupLock: users ? groupLock(ctx.keys, message) : '',
  };
  for (let attempt = 0, waits = 0; attempt < 5; ) {
    const r = await ctx.scripts.beginSend({ kind: draft.kind, users: draft.users, message, entry: encodeEntry(draft), idempotency: idem, groupLock: draft.groupLock ?? '', groupMs: LOCK_MS });
    answer(r);
    if (r[0] === 'busy') {
      await groupPause(waits++);
      continue;
    }
    attempt++;
    if (r[0] === 'replay') return replayedSend(r);
    if (r[0] === 'pending') {
      // Another call with this key is midway (or died midway): finish its send, then replay it.
      await completeJournal(ctx, r[1], { hooks });
      continue;
    }
    const [, id, deliveredAt, top, rc, ...registered] = r;
    const done = await completeJournal(ctx, { ...draft, id, deliveredAt }, { top, registered, hooks });
    if (!users) return { message: deliveredRecord(id, message), recipientCount: Number(rc), recipients: null, replayed: false };
    return sentTo(id, message, users.map((userId) => [userId, done.has(userId) ? (done.get(userId) ?? null) : parseUserReply(undefined)]));
  }
  throw new Error('idempotent send did not settle');
}

import { isMessageId, type MessageRecord, type NewMessage } from '../../domain/message.js';
import {
  IdempotencyMismatch,
  checkListCursor,
  type BroadcastView,
  type DeleteResult,
  type IdempotencyClaim,
  type ListPage,
  type ListQuery,
  type MessageStore,
  type RememberedFlash,
  reviveRememberedFlash,
  type Recipients,
  type SendResult,
  type SetReadResult,
  countsWithoutStates,
  type AllChange,
  type InboxCounts,
  type StateChange,
  type WokenUser,
} from '../../domain/message-store.js';
import { KnownUsers } from '../known-users.js';
import { cleanupExpired } from './cleanup.js';
import { decodeBody } from './codec.js';
import { closeRedis } from '../../redis/connection.js';
import type { RedisContext, UserOp } from './context.js';
import type { JournalHooks } from './journal.js';
import { RedisSends } from './send.js';

const PING_TIMEOUT_MS = 2000;

/** Message ids are positive integers (INCR); anything else cannot be the caller's message. */
const byId = (a: string, b: string) => Number(a) - Number(b);

/**
 * MessageStore on Redis (one server or a Redis Cluster), with the semantics of the PostgreSQL store.
 * Every operation is one Lua script on one user's keys (plus, on a single server, the global keys it
 * reads for broadcasts); sends are described in send.ts, expiry in cleanup.ts, keys in keys.ts, scripts in lua/.
 * Message bodies are fetched by id after the script (one MGET), never copied per recipient.
 */
export class RedisMessageStore implements MessageStore {
  private readonly known = new KnownUsers();
  private readonly sends: RedisSends;

  constructor(
    private readonly ctx: RedisContext,
    o: { journalHooks?: JournalHooks; onSendBatch?: (size: number) => void } = {},
  ) {
    this.sends = new RedisSends(ctx, o.journalHooks, o.onSendBatch);
  }

  async ensureUser(userId: string): Promise<void> {
    if (this.known.has(userId)) return;
    const { keys, scripts, client } = this.ctx;
    if (this.ctx.cluster) {
      const registered = await scripts.registerUser({ userId });
      await client.hsetnx(keys.userKey(userId, 'state'), 'broadcasts-upto', registered);
    } else {
      await scripts.ensureUser({ userId });
    }
    this.known.add(userId);
  }

  send(message: NewMessage, to: Recipients, idem?: IdempotencyClaim): Promise<SendResult> {
    return this.sends.send(message, to, idem);
  }

  async list(userId: string, query: ListQuery): Promise<ListPage> {
    checkListCursor(query.cursor);
    const f = query.filter;
    const unread = query.unreadOnly || f.read === false;
    const plain = !f.levels && !f.since && !f.until;
    const [more, other, total, ...flat] = await this.ctx.userOp(userId, 'list', {
      source: unread ? 'unread' : 'all',
      readOnly: !unread && f.read === true,
      levels: f.levels ?? null,
      since: f.since ?? null,
      until: f.until ?? null,
      direction: query.direction,
      limit: query.limit,
      cursor: query.cursor ?? null,
      totalBy: plain ? 'counters' : 'scan',
    });
    const records = await this.records(pairs(flat));
    if (query.direction === 'backward') records.reverse();
    const forward = query.direction === 'forward';
    return {
      items: records.map((message) => ({ cursor: message.id, message })),
      hasNextPage: forward ? more === '1' : other === '1',
      hasPreviousPage: forward ? other === '1' : more === '1',
      totalCount: Number(total),
    };
  }

  async get(userId: string, messageId: string): Promise<MessageRecord | null> {
    if (!isMessageId(messageId)) return null;
    const [found, readAt] = await this.ctx.userOp(userId, 'get', { messageId });
    if (found !== '1') return null;
    return (await this.records([[messageId, readAt]]))[0] ?? null;
  }

  /** Two per-user scripts per user, all in one pipeline on a single server (cost per subscriber, not per user). */
  async broadcastViews(messageId: string, userIds: readonly string[]): Promise<Map<string, BroadcastView>> {
    const unique = [...new Set(userIds)];
    const valid = isMessageId(messageId);
    const replies = await this.ctx.userOps(
      unique.flatMap((userId): UserOp[] => [...(valid ? [{ userId, name: 'get' as const, args: { messageId } }] : []), { userId, name: 'count', args: {} }]),
    );
    const per = valid ? 2 : 1;
    return new Map(
      unique.map((userId, i): [string, BroadcastView] => {
        const found = valid && replies[i * per][0] === '1';
        const unread = Number(replies[i * per + per - 1][0]);
        return [userId, { has: found, unreadCount: unread, unseenCount: unread }];
      }),
    );
  }

  async unreadCount(userId: string): Promise<number> {
    const [unread] = await this.ctx.userOp(userId, 'count', {});
    return Number(unread);
  }

  async setRead(userId: string, ids: readonly string[], read: boolean): Promise<SetReadResult> {
    const wanted = [...new Set(ids.filter(isMessageId))];
    const [unread, nChanged, ...rest] = await this.ctx.userOp(userId, 'setRead', { read, ids: wanted });
    const changed = rest.slice(0, Number(nChanged)).sort(byId);
    const found = new Map((await this.records(pairs(rest.slice(Number(nChanged))))).map((m) => [m.id, m]));
    return {
      changed,
      messages: [...new Set(ids)].flatMap((id) => found.get(id) ?? []),
      notFound: [...new Set(ids.filter((id) => !found.has(id)))],
      unreadCount: Number(unread),
      counts: countsWithoutStates(Number(unread)),
    };
  }

  async markAllRead(userId: string, until: Date): Promise<{ count: number; unreadCount: number; counts: InboxCounts }> {
    const [count, unread] = await this.ctx.userOp(userId, 'markAllRead', { until });
    return { count: Number(count), unreadCount: Number(unread), counts: countsWithoutStates(Number(unread)) };
  }

  async deleteMessages(userId: string, ids: readonly string[]): Promise<DeleteResult> {
    const wanted = [...new Set(ids.filter(isMessageId))];
    // Tombstones stop a send journal being completed again from resurrecting a deletion.
    const [unread, ...deleted] = await this.ctx.userOp(userId, 'delete', { ids: wanted, tombstones: this.ctx.cluster ? 'always' : 'while-journalled' });
    const gone = new Set(deleted);
    return {
      deleted: deleted.sort(byId),
      notFound: [...new Set(ids.filter((id) => !gone.has(id)))],
      unreadCount: Number(unread),
      counts: countsWithoutStates(Number(unread)),
    };
  }

  async counts(userId: string): Promise<InboxCounts> {
    return countsWithoutStates(await this.unreadCount(userId));
  }

  markSeen(): Promise<StateChange> {
    throw new Error('markSeen: not built yet (issue 19)');
  }

  markAllSeen(): Promise<AllChange> {
    throw new Error('markAllSeen: not built yet (issue 19)');
  }

  setArchived(): Promise<StateChange> {
    throw new Error('setArchived: not built yet (issue 19)');
  }

  archiveAll(): Promise<AllChange> {
    throw new Error('archiveAll: not built yet (issue 19)');
  }

  snooze(): Promise<StateChange> {
    throw new Error('snooze: not built yet (issue 19)');
  }

  async wakeDue(): Promise<WokenUser[]> {
    return [];
  }

  async oldestUnread(userId: string, limit: number): Promise<MessageRecord[]> {
    const ids = await this.ctx.userOp(userId, 'oldestUnread', { limit });
    return this.records(ids.map((id) => [id, '']));
  }

  async remember(claim: IdempotencyClaim, result: RememberedFlash): Promise<RememberedFlash> {
    const r = await this.ctx.scripts.remember({ claim, result: JSON.stringify(result) });
    if (r[0] === 'mismatch') throw new IdempotencyMismatch('idempotency key reused with different input');
    if (r[0] === 'new') return result;
    const [, id, , message, saved] = r;
    return reviveRememberedFlash(saved ? JSON.parse(saved) : { message: { ...(JSON.parse(message) as object), id, readAt: null, stored: true } });
  }

  async forget(claim: IdempotencyClaim): Promise<void> {
    await this.ctx.scripts.forgetResult({ claim });
  }

  cleanupExpired(limit: number): Promise<number> {
    return cleanupExpired(this.ctx, limit);
  }

  async ping(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('redis ping timed out')), PING_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.ctx.client.ping(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await closeRedis(this.ctx.client);
  }

  /** Builds records from (id, readAt) pairs, keeping their order; a body gone meanwhile (expired) drops its item. */
  private async records(items: readonly (readonly [string, string])[]): Promise<MessageRecord[]> {
    const bodies = await this.ctx.bodies(items.map(([id]) => id));
    return items.flatMap(([id, readAt]) => {
      const raw = bodies.get(id);
      return raw === undefined ? [] : [decodeBody(id, raw, readAt)];
    });
  }
}

function pairs(flat: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i], flat[i + 1]]);
  return out;
}

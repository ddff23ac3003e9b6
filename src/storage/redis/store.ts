import { isMessageId, type MessageRecord, type NewMessage } from '../../domain/message.js';
import {
  type CategoryPreference,
  checkListCursor,
  type BroadcastView,
  type DeleteResult,
  type IdempotencyClaim,
  type ListPage,
  type ListQuery,
  type MessageStore,
  type RememberedFlash,
  type Recipients,
  type SendResult,
  type SetReadResult,
  type AllChange,
  type InboxCounts,
  type StateChange,
  type WokenUser,
} from '../../domain/message-store.js';
import { KnownUsers } from '../known-users.js';
import { cleanupExpired } from './cleanup.js';
import { decodeBody } from './codec.js';
import { COUNT_FIELDS, parseChange, parseCounts, parseItems, type StoredItem } from './replies.js';
import type { AllKind, StateOp } from './user-args.js';
import { snoozeIndexed, wakeDue } from './wake.js';
import { closeRedis } from '../../redis/connection.js';
import type { RedisContext, UserOp } from './context.js';
import type { JournalHooks } from './journal.js';
import { RedisSchedules } from './schedules.js';
import { preferences, setPreference } from './preferences.js';
import { forget, remember } from './remembered.js';
import { retract, retractedViews } from './retract.js';
import { RedisSends } from './send.js';

/** Message ids are positive integers (INCR); anything else cannot be the caller's message. */
const byId = (a: string, b: string) => Number(a) - Number(b);

/**
 * MessageStore on Redis (one server or a Redis Cluster), with the semantics of the PostgreSQL store.
 * Every operation is one Lua script on one user's keys (plus, on a single server, the global keys it
 * reads for broadcasts); sends are described in send.ts, expiry in cleanup.ts, snooze wake-ups in wake.ts,
 * the inbox states in lua/lib/read-state.lua, keys in keys.ts, scripts in lua/.
 * Message bodies are fetched by id after the script (one MGET), never copied per recipient.
 */
export class RedisMessageStore implements MessageStore {
  private readonly known = new KnownUsers();
  private readonly sends: RedisSends;
  private readonly schedules: RedisSchedules;

  constructor(
    private readonly ctx: RedisContext,
    o: { journalHooks?: JournalHooks; onSendBatch?: (size: number) => void } = {},
  ) {
    this.sends = new RedisSends(ctx, o.journalHooks, o.onSendBatch);
    this.schedules = new RedisSchedules(ctx, (message, to, idem) => this.sends.send(message, to, idem));
  }

  async ensureUser(userId: string): Promise<void> {
    if (this.known.has(userId)) return;
    const { keys, scripts, client } = this.ctx;
    if (this.ctx.cluster) {
      const registered = await scripts.registerUser({ userId });
      const state = keys.userKey(userId, 'state');
      // A new user's keys have every index from the start (lua/lib/read-state.lua upgrade: nothing to do).
      if ((await client.hsetnx(state, 'broadcasts-upto', registered)) === 1) await client.hsetnx(state, 'states', '1');
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
    const [more, other, total, ...flat] = await this.ctx.userOp(userId, 'list', {
      read: query.unreadOnly ? false : (f.read ?? null),
      seen: f.seen ?? null,
      archived: f.archived ?? null,
      snoozed: f.snoozed === true,
      levels: f.levels ?? null,
      since: f.since ?? null,
      until: f.until ?? null,
      direction: query.direction,
      limit: query.limit,
      cursor: query.cursor ?? null,
      totalBy: !f.levels && !f.since && !f.until ? 'counters' : 'scan',
      categories: f.categories ?? null,
    });
    const records = await this.records(parseItems(flat));
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
    const [found, ...states] = await this.ctx.userOp(userId, 'get', { messageId });
    if (found !== '1') return null;
    return (await this.records([[messageId, ...states]]))[0] ?? null;
  }

  /** Two per-user scripts per user, all in one pipeline on a single server (cost per subscriber, not per user). */
  async broadcastViews(messageId: string, userIds: readonly string[]): Promise<Map<string, BroadcastView>> {
    const unique = [...new Set(userIds)];
    const valid = isMessageId(messageId);
    const replies = await this.ctx.userOps(
      unique.flatMap((userId): UserOp[] => [...(valid ? [{ userId, name: 'get' as const, args: { messageId } }] : []), { userId, name: 'count', args: { category: null } }]),
    );
    const per = valid ? 2 : 1;
    return new Map(
      unique.map((userId, i): [string, BroadcastView] => {
        const found = valid && replies[i * per][0] === '1';
        const c = parseCounts(replies[i * per + per - 1]);
        return [userId, { has: found, unreadCount: c.unread, unseenCount: c.unseen }];
      }),
    );
  }

  async unreadCount(userId: string): Promise<number> {
    return (await this.counts(userId)).unread;
  }

  async counts(userId: string, category?: string | null): Promise<InboxCounts> {
    return parseCounts(await this.ctx.userOp(userId, 'count', { category: category ?? null }));
  }

  async setRead(userId: string, ids: readonly string[], read: boolean): Promise<SetReadResult> {
    const r = await this.change(userId, ids, read ? 'read' : 'unread');
    return { ...r, unreadCount: r.counts.unread };
  }

  markSeen(userId: string, ids: readonly string[]): Promise<StateChange> {
    return this.change(userId, ids, 'seen');
  }

  setArchived(userId: string, ids: readonly string[], archived: boolean): Promise<StateChange> {
    return this.change(userId, ids, archived ? 'archive' : 'unarchive');
  }

  async markAllRead(userId: string, until: Date, category?: string | null): Promise<{ count: number; unreadCount: number; counts: InboxCounts }> {
    const r = await this.markAll(userId, 'read', until, category);
    return { ...r, unreadCount: r.counts.unread };
  }

  markAllSeen(userId: string, until: Date, category?: string | null): Promise<AllChange> {
    return this.markAll(userId, 'seen', until, category);
  }

  archiveAll(userId: string, until: Date, onlyRead: boolean, category?: string | null): Promise<AllChange> {
    return this.markAll(userId, onlyRead ? 'archive-read' : 'archive', until, category);
  }

  async snooze(userId: string, ids: readonly string[], until: Date | null): Promise<StateChange> {
    return this.changeResult(ids, await snoozeIndexed(this.ctx, userId, [...new Set(ids.filter(isMessageId))], until));
  }

  wakeDue(now: Date, limit: number): Promise<WokenUser[]> {
    return wakeDue(this.ctx, now, limit, (items) => this.records(items));
  }

  async deleteMessages(userId: string, ids: readonly string[]): Promise<DeleteResult> {
    const wanted = [...new Set(ids.filter(isMessageId))];
    // Tombstones stop a send journal being completed again from resurrecting a deletion.
    const r = await this.ctx.userOp(userId, 'delete', { ids: wanted, tombstones: this.ctx.cluster ? 'always' : 'while-journalled' });
    const counts = parseCounts(r);
    const deleted = r.slice(COUNT_FIELDS);
    const gone = new Set(deleted);
    return {
      deleted: deleted.sort(byId),
      notFound: [...new Set(ids.filter((id) => !gone.has(id)))],
      unreadCount: counts.unread,
      counts,
    };
  }

  async oldestUnread(userId: string, limit: number): Promise<MessageRecord[]> {
    const r = await this.ctx.userOp(userId, 'oldestUnread', { limit });
    const items: StoredItem[] = [];
    for (let i = 0; i + 1 < r.length; i += 2) items.push([r[i], '', '', '', '', r[i + 1]]);
    return this.records(items);
  }

  remember(claim: IdempotencyClaim, result: RememberedFlash): Promise<RememberedFlash> {
    return remember(this.ctx, claim, result);
  }

  forget(claim: IdempotencyClaim): Promise<void> {
    return forget(this.ctx, claim);
  }

  async cleanupExpired(limit: number): Promise<number> {
    return (await cleanupExpired(this.ctx, limit)) + (await this.schedules.cleanup(limit));
  }

  ping(): Promise<void> {
    return this.ctx.ping();
  }

  preferences(userId: string): Promise<CategoryPreference[]> {
    return preferences(this.ctx, userId);
  }

  setPreference(userId: string, category: string, enabled: boolean): Promise<CategoryPreference> {
    return setPreference(this.ctx, userId, category, enabled);
  }

  schedule: MessageStore['schedule'] = (...a) => this.schedules.schedule(...a);
  scheduled: MessageStore['scheduled'] = (q) => this.schedules.scheduled(q);
  cancelScheduled: MessageStore['cancelScheduled'] = (id) => this.schedules.cancelScheduled(id);
  deliverDue: MessageStore['deliverDue'] = (now, limit) => this.schedules.deliverDue(now, limit);
  retract: MessageStore['retract'] = (id) => retract(this.ctx, this.cancelScheduled, id);
  retractedViews: MessageStore['retractedViews'] = (id, userIds) => retractedViews(this.ctx, id, userIds);

  async close(): Promise<void> {
    await closeRedis(this.ctx.client);
  }

  /** A per-delivery state change (set-state.lua) of the user's live deliveries among ids. */
  private async change(userId: string, ids: readonly string[], op: StateOp): Promise<StateChange> {
    const wanted = [...new Set(ids.filter(isMessageId))];
    return this.changeResult(ids, parseChange(await this.ctx.userOp(userId, 'setState', { op, ids: wanted }), false));
  }

  private async changeResult(ids: readonly string[], r: { counts: InboxCounts; changed: string[]; items: StoredItem[] }): Promise<StateChange> {
    const found = new Map((await this.records(r.items)).map((m) => [m.id, m]));
    return {
      changed: r.changed.sort(byId),
      messages: [...new Set(ids)].flatMap((id) => found.get(id) ?? []),
      notFound: [...new Set(ids.filter((id) => !found.has(id)))],
      counts: r.counts,
    };
  }

  private async markAll(userId: string, kind: AllKind, until: Date, category: string | null | undefined): Promise<AllChange> {
    const [count, ...counts] = await this.ctx.userOp(userId, 'markAll', { kind, until, category: category ?? null });
    return { count: Number(count), counts: parseCounts(counts) };
  }

  /** Builds records from stored items, keeping their order; a body gone meanwhile (expired) drops its item. */
  private async records(items: readonly StoredItem[]): Promise<MessageRecord[]> {
    const bodies = await this.ctx.bodies(items.map((item) => item[0]));
    const out: MessageRecord[] = [];
    for (const item of items) {
      const raw = bodies.get(item[0]);
      if (raw !== undefined) out.push(decodeBody(item, raw));
    }
    return out;
  }
}

import type { MikroORM } from '@mikro-orm/postgresql';
import { isMessageId, type MessageRecord, type NewMessage } from '../../domain/message.js';
import {
  IDEMPOTENCY_TTL_SECONDS,
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
  type CategoryPreference,
  type InboxCounts,
  type StateChange,
  type WokenUser,
} from '../../domain/message-store.js';
import type { StoreChange } from '../../domain/changes.js';
import type { WebhookSignals } from '../../domain/webhooks.js';
import { KnownUsers } from '../known-users.js';
import { categoryCountsIn, markAllInCategory, preferencesOf, setPreferenceIn } from './categories.js';
import { UserAccess } from './access.js';
import { claimKey, forgetKey, rememberFlash } from './idempotency.js';
import { jsonList, type Db, type Sql } from './db.js';
import { NO_COUNTS, countsOf, listPage, toRecord } from './reads.js';
import { DELETE_MANY, DELETE_ONE, type DeleteRow } from './sql/delete.js';
import { LOCK_FOR_MARK_ALL } from './sql/mark-all.js';
import * as maintenance from './sql/maintenance.js';
import { GET_MESSAGE, OLDEST_UNREAD } from './sql/messages.js';
import { OutboxWriter } from './outbox.js';
import { ReadMarks } from './read-marks.js';
import { OrmRetraction } from './retraction.js';
import { OrmSchedules } from './schedules.js';
import { OrmSends } from './sends.js';
import { TableUpkeep, type UpkeepOptions } from './upkeep.js';
import { ALL_KINDS, archiving, changeIn, found, raiseIn, seeing, snoozing, unarchiving, waking, type Change, type Kinds } from './states.js';
import { BEHIND_OF, BROADCAST_VIEWS, REGISTER_USERS, USER_STATE } from './sql/users.js';
import { wakeDue } from './wake.js';

/**
 * MessageStore on PostgreSQL (a server, or the embedded PGlite). Every operation is one statement, or a
 * few set-based ones in one transaction (sql/), run on the store's own pool (db.ts); MikroORM owns the
 * entities and migrations (entities.ts describes the model). close() ends both.
 */
export class OrmMessageStore implements MessageStore {
  private readonly known = new KnownUsers();
  /** Sends and broadcasts (sends.ts); idempotency keys are idempotency.ts's. */
  private readonly sends: OrmSends;
  private readonly access: UserAccess;
  /** markRead and markUnread (read-marks.ts). */
  private readonly readMarks: ReadMarks;
  /** Scheduled messages (schedules.ts), delivered through this store's own claim and sends. */
  private readonly schedules: OrmSchedules;
  /** Retraction (retraction.ts). */
  private readonly retraction: OrmRetraction;
  /** Each committed change's webhook events, written in its transaction when webhooks are on. */
  private readonly outbox: OutboxWriter;
  private readonly upkeep: TableUpkeep;

  constructor(
    private readonly orm: MikroORM,
    private readonly db: Db,
    private readonly opts: UpkeepOptions & {
      onClose?: () => Promise<void>;
      /** Told the size of each batch of direct sends (metrics). */
      onSendBatch?: (size: number) => void;
      /** The signals written to the webhook outbox with each change; null or absent: webhooks off. */
      webhookSignals?: WebhookSignals;
    } = {},
  ) {
    this.access = new UserAccess(db);
    this.upkeep = new TableUpkeep(db, opts);
    this.outbox = new OutboxWriter(opts.webhookSignals ?? null);
    this.readMarks = new ReadMarks(db, this.access, this.outbox);
    this.sends = new OrmSends(db, {
      outbox: this.outbox,
      known: this.known,
      catchUp: (sql, userIds) => this.access.catchUp(sql, userIds),
      grew: (n) => this.upkeep.grew(n),
      onSendBatch: (n) => this.opts.onSendBatch?.(n),
    });
    this.schedules = new OrmSchedules(db, {
      claim: claimKey,
      sendMany: (sql, sends) => this.sends.sendMany(sql, sends),
      broadcast: (sql, m) => this.sends.broadcast(sql, m),
      record: (sql, results) => this.sends.record(sql, results),
    });
    this.retraction = new OrmRetraction(db, { access: this.access, outbox: this.outbox, cancelScheduled: (id) => this.cancelScheduled(id), counts: (userId) => this.counts(userId) });
  }

  async ensureUser(userId: string): Promise<void> {
    if (this.known.has(userId)) return;
    await this.db.sql(REGISTER_USERS, { userIds: jsonList([userId]) });
    this.known.add(userId);
  }

  send(message: NewMessage, to: Recipients, idem?: IdempotencyClaim): Promise<SendResult> {
    return this.sends.send(message, to, idem);
  }

  remember(idem: IdempotencyClaim, result: RememberedFlash): Promise<RememberedFlash> {
    return rememberFlash(this.db, idem, result);
  }

  forget(idem: IdempotencyClaim): Promise<void> {
    return forgetKey(this.db, idem);
  }

  async list(userId: string, query: ListQuery): Promise<ListPage> {
    checkListCursor(query.cursor);
    return (await this.access.caughtUp(userId, (sql) => listPage(sql, userId, query))).value;
  }

  async get(userId: string, messageId: string): Promise<MessageRecord | null> {
    if (!isMessageId(messageId)) return null;
    await this.counts(userId);
    const [row] = await this.db.sql(GET_MESSAGE, { userId, messageId });
    return row ? toRecord(row) : null;
  }

  async unreadCount(userId: string): Promise<number> {
    return (await this.counts(userId)).unread;
  }

  setRead(userId: string, ids: readonly string[], read: boolean): Promise<SetReadResult> {
    return this.readMarks.setRead(userId, ids, read);
  }

  async markAllRead(userId: string, until: Date, category?: string | null): Promise<{ count: number; unreadCount: number; counts: InboxCounts }> {
    const r = await this.raise('markAllRead', userId, until, { seen: true, read: true, archived: false }, false, category ?? null);
    return { ...r, unreadCount: r.counts.unread };
  }

  async markAllSeen(userId: string, until: Date, category?: string | null): Promise<AllChange> {
    return this.raise('markAllSeen', userId, until, { seen: true, read: false, archived: false }, false, category ?? null);
  }

  async archiveAll(userId: string, until: Date, onlyRead: boolean, category?: string | null): Promise<AllChange> {
    // With onlyRead nothing becomes read or seen: only the archived watermark moves (up to the read one).
    return this.raise('archiveAll', userId, until, onlyRead ? { seen: false, read: false, archived: true } : ALL_KINDS, onlyRead, category ?? null);
  }

  /**
   * The "all" operations: raise the watermarks of `kinds` to the newest delivery at or before `until`
   * (RAISE_UPTO); limited to a category, mark that category's deliveries (categories.ts).
   */
  private async raise(op: 'markAllRead' | 'markAllSeen' | 'archiveAll', userId: string, until: Date, kinds: Kinds, onlyRead: boolean, category: string | null): Promise<AllChange> {
    const written = async (sql: Sql, result: AllChange) => {
      await this.outbox.record(sql, [{ op, userId, until, category, result }]);
      return result;
    };
    if (category !== null) {
      return (await this.access.locked(userId, async (sql) => written(sql, await markAllInCategory(sql, userId, category, until, kinds, onlyRead)))) ?? { count: 0, counts: NO_COUNTS };
    }
    return this.db.tx(async (sql) => {
      let [user] = await sql(LOCK_FOR_MARK_ALL, { userId, until });
      if (!user) return { count: 0, counts: NO_COUNTS };
      if (user.behind) {
        await this.access.catchUp(sql, [userId]);
        [user] = await sql(LOCK_FOR_MARK_ALL, { userId, until }); // the broadcasts just copied count too
      }
      return user.upto === null ? { count: 0, counts: countsOf((await sql(USER_STATE, { userId }))[0]) } : written(sql, await raiseIn(sql, userId, { ...user, upto: user.upto }, kinds, onlyRead));
    });
  }

  async deleteMessages(userId: string, ids: readonly string[]): Promise<DeleteResult> {
    const wanted = ids.filter(isMessageId);
    const statement = wanted.length === 1 ? DELETE_ONE : DELETE_MANY;
    const resultOf = (row: DeleteRow): DeleteResult => {
      const deleted = new Set(row.deleted ?? []);
      const counts = countsOf(row);
      return { deleted: [...deleted], notFound: [...new Set(ids.filter((id) => !deleted.has(id)))], unreadCount: counts.unread, counts };
    };
    const after = this.outbox.on ? (sql: Sql, row: DeleteRow) => this.outbox.record(sql, [{ op: 'deleteMessages', userId, result: resultOf(row) }]) : undefined;
    return resultOf(await this.access.caughtUp(userId, async (sql) => (await sql(statement, { userId, ids: jsonList(wanted), waitsForBroadcasts: true }))[0], { ids: wanted.length, after }));
  }

  async markSeen(userId: string, ids: readonly string[]): Promise<StateChange> {
    return this.changeStates(userId, ids, seeing, (result) => ({ op: 'markSeen', userId, result }));
  }

  async setArchived(userId: string, ids: readonly string[], archived: boolean): Promise<StateChange> {
    return this.changeStates(userId, ids, archived ? archiving : unarchiving, (result) => ({ op: 'setArchived', userId, archived, result }));
  }

  async snooze(userId: string, ids: readonly string[], until: Date | null): Promise<StateChange> {
    return this.changeStates(userId, ids, until ? snoozing(until) : waking, (result) => ({ op: 'snooze', userId, until, result }));
  }

  async wakeDue(now: Date, limit: number): Promise<WokenUser[]> {
    return wakeDue({ db: this.db, access: this.access, outbox: this.outbox }, now, limit);
  }

  /** A state change by ids (states.ts) with the user locked and caught up with broadcasts, and its webhook events (`committed` names it). */
  private async changeStates(userId: string, ids: readonly string[], change: Change, committed: (r: StateChange) => StoreChange): Promise<StateChange> {
    const result = await this.access.locked(userId, async (sql) => {
      const r = await changeIn(sql, userId, ids, change);
      await this.outbox.record(sql, [committed(r)]);
      return r;
    });
    return result ?? found(ids, [], [], NO_COUNTS);
  }

  async broadcastViews(messageId: string, userIds: readonly string[]): Promise<Map<string, BroadcastView>> {
    const views = new Map<string, BroadcastView>(userIds.map((id) => [id, { has: false, unreadCount: 0, unseenCount: 0 }]));
    if (userIds.length === 0) return views;
    const ids = jsonList([...new Set(userIds)].sort());
    const behind = await this.db.unprepared(BEHIND_OF, { userIds: ids });
    if (behind.length) await this.db.tx((sql) => this.access.catchUp(sql, behind.map((r) => r.id)));
    for (const r of await this.db.unprepared(BROADCAST_VIEWS, { messageId: isMessageId(messageId) ? messageId : '0', userIds: ids })) {
      views.set(r.user_id, { has: r.has, unreadCount: r.unread, unseenCount: r.unseen });
    }
    return views;
  }

  async oldestUnread(userId: string, limit: number): Promise<MessageRecord[]> {
    await this.counts(userId);
    return (await this.db.sql(OLDEST_UNREAD, { userId, limit })).map(toRecord);
  }

  async cleanupExpired(limit: number): Promise<number> {
    await this.upkeep.beforeCleanup();
    return this.db.tx(async (sql) => {
      const users = await sql(maintenance.CLEANUP_LOCK_USERS, { limit });
      const [d] = users.length ? await sql(maintenance.CLEANUP_DELIVERIES, { limit, userIds: jsonList(users.map((u) => u.id)) }) : [];
      if (d?.users) {
        await sql(maintenance.CLEANUP_MARKS, { userIds: jsonList(d.users) });
        await sql(maintenance.CLEANUP_CATEGORY_MARKS, { userIds: jsonList(d.users) });
      }
      const m = await sql(maintenance.CLEANUP_MESSAGES, { limit });
      const i = await sql(maintenance.CLEANUP_IDEMPOTENCY, { ttlSeconds: IDEMPOTENCY_TTL_SECONDS, limit });
      return (d?.n ?? 0) + m.length + i.length + (await this.schedules.cleanup(sql, limit)) + (await this.retraction.cleanup(sql, limit));
    });
  }

  async ping(): Promise<void> {
    await this.db.sql(maintenance.PING);
  }

  preferences(userId: string): Promise<CategoryPreference[]> {
    return preferencesOf(this.db, userId);
  }

  setPreference(userId: string, category: string, enabled: boolean): Promise<CategoryPreference> {
    return setPreferenceIn(this.db, userId, category, enabled);
  }

  schedule: MessageStore['schedule'] = (...a) => this.schedules.schedule(...a);
  scheduled: MessageStore['scheduled'] = (q) => this.schedules.scheduled(q);
  cancelScheduled: MessageStore['cancelScheduled'] = (id) => this.schedules.cancelScheduled(id);
  deliverDue: MessageStore['deliverDue'] = (now, limit) => this.schedules.deliverDue(now, limit);
  retract: MessageStore['retract'] = (id) => this.retraction.retract(id);
  retractedViews: MessageStore['retractedViews'] = (id, userIds) => this.retraction.retractedViews(id, userIds);

  async close(): Promise<void> {
    await this.upkeep.settled();
    await this.db.end();
    await this.orm.close(true);
    await this.opts.onClose?.();
  }

  /** The user's exact counts (of one category, when given), once the broadcasts waiting for them are copied. */
  async counts(userId: string, category?: string | null): Promise<InboxCounts> {
    const state = await this.access.caughtUp(userId, async (sql) => (await sql(USER_STATE, { userId }))[0] ?? { ...NO_COUNTS, behind: false });
    return category ? categoryCountsIn(this.db.sql, userId, category) : countsOf(state);
  }
}

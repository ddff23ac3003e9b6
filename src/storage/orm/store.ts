import type { MikroORM } from '@mikro-orm/postgresql';
import { deliveredRecord, isMessageId, reviveMessage, type MessageRecord, type NewMessage } from '../../domain/message.js';
import {
  IDEMPOTENCY_TTL_SECONDS,
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
  type AllChange,
  type InboxCounts,
  type StateChange,
  type WokenUser,
} from '../../domain/message-store.js';
import { GroupCommit, type Waiting } from '../group.js';
import { KnownUsers } from '../known-users.js';
import { notBuilt } from '../not-built.js';
import { jsonList, type Db, type Sql } from './db.js';
import { NO_COUNTS, countsOf, listPage, toRecord } from './reads.js';
import { CATCH_UP, INSERT_BROADCAST, LOCK_BROADCASTS, LOWER_UPTO } from './sql/broadcasts.js';
import { DELETE_MANY, DELETE_ONE } from './sql/delete.js';
import { LOCK_FOR_MARK_ALL } from './sql/mark-all.js';
import { SET_READ_MANY, SET_READ_ONE } from './sql/mark-read.js';
import * as maintenance from './sql/maintenance.js';
import { GET_MESSAGE, OLDEST_UNREAD } from './sql/messages.js';
import { OrmSchedules } from './schedules.js';
import { SEND } from './sql/send.js';
import { DUE } from './sql/states.js';
import { ALL_KINDS, archiving, changeIn, found, lowerBelow, raiseIn, seeing, snoozing, unarchiving, waking, wakeIn, type Change, type Kinds } from './states.js';
import { BEHIND_OF, BROADCAST_VIEWS, KNOWN_USERS, LOCK_USER, REGISTER_USERS, UNREAD_OF, USER_STATE } from './sql/users.js';

/** Users woken at once by wakeDue: each holds a pooled connection for its transaction. */
const WAKE_CONCURRENCY = 4;
const BROADCAST_LOCK = 0x5e_0b_ca57; // serialises broadcasts so their ids commit in order (see catchUp)
/** Deliveries written before the first growth ANALYZE (analyzeOnGrowth): below this, plans of any size are cheap. */
const ANALYZE_MIN_ROWS = 1_000;
/** Statements with more ids than this run unprepared, planned for their size (see Db.unprepared). */
const PREPARED_MAX_IDS = 50;
/**
 * Group commit of direct sends (directSends): statements running at once, and sends per statement at most.
 * One at a time: the sends that wait meanwhile go as one bigger statement and one commit.
 */
const GROUP_RUNNING = 1;
const GROUP_MAX = 64;

type SendRow = { i: number; id: string; user_id: string; unread: number; unseen: number; behind: boolean };
type DirectSend = { message: NewMessage; userIds: readonly string[] };
const byUser = (a: SendRow, b: SendRow) => (a.user_id < b.user_id ? -1 : a.user_id > b.user_id ? 1 : 0);


/**
 * MessageStore on PostgreSQL (a server, or the embedded PGlite). Every operation is one statement, or a
 * few set-based ones in one transaction (sql/), run on the store's own pool (db.ts); MikroORM owns the
 * entities and migrations (entities.ts describes the model). close() ends both.
 */
export class OrmMessageStore implements MessageStore {
  private readonly known = new KnownUsers();
  /**
   * Group commit of direct sends: the sends that wait while a batch runs go together as one statement
   * (SEND) with one commit. Under load PostgreSQL pays its per-statement and per-commit work once for
   * many sends; alone, a send goes at once. Each send keeps its own result, and all of a batch commit or
   * none do.
   */
  private readonly directSends = new GroupCommit<DirectSend, SendResult>({ running: GROUP_RUNNING, max: GROUP_MAX, run: (batch) => this.sendGroup(batch), onBatch: (n) => this.opts.onSendBatch?.(n) });

  /** Scheduled messages (schedules.ts), delivered through this store's own claim and sends. */
  private readonly schedules: OrmSchedules;

  private cleanups = 0;
  /** Deliveries written since the last ANALYZE, sm_delivery's size then, and the ANALYZE running now. */
  private written = 0;
  private analyzedRows = 0;
  private analysis: Promise<void> | null = null;

  constructor(
    private readonly orm: MikroORM,
    private readonly db: Db,
    private readonly opts: {
      onClose?: () => Promise<void>;
      /** Told the size of each batch of direct sends (metrics). */
      onSendBatch?: (size: number) => void;
      /**
       * Refresh planner statistics every this many cleanup runs (not the first: at start the tables may
       * be empty, and statistics of empty tables are what makes bad plans stick). For the embedded PGlite,
       * which has no autovacuum, and servers with autovacuum off: without fresh statistics, prepared
       * statements keep plans made for tables far smaller, and ANALYZE is what makes PostgreSQL plan them again.
       */
      analyzeEveryCleanups?: number;
      /**
       * Also analyse the tables sends grow once this process has written that many times more deliveries
       * than sm_delivery held at the last ANALYZE (at least ANALYZE_MIN_ROWS), in the background: a
       * plan made for a table far smaller is replaced within a doubling, not at the next cleanup.
       * ANALYZE reads a bounded sample, and doublings are few. Unset: never (autovacuum keeps them fresh).
       */
      analyzeOnGrowth?: number;
    } = {},
  ) {
    this.schedules = new OrmSchedules(db, { claim: (sql, idem) => this.claim(sql, idem), sendMany: (sql, sends) => this.sendMany(sql, sends), broadcast: (sql, m) => this.broadcast(sql, m) });
  }

  async ensureUser(userId: string): Promise<void> {
    if (this.known.has(userId)) return;
    await this.db.sql(REGISTER_USERS, { userIds: jsonList([userId]) });
    this.known.add(userId);
  }

  async send(message: NewMessage, to: Recipients, idem?: IdempotencyClaim): Promise<SendResult> {
    // The common case, a direct send without a key, is one self-contained statement: no transaction round trips.
    if (!idem && !('everyone' in to)) {
      if (to.userIds.length > PREPARED_MAX_IDS) return this.sendTo(this.db.unprepared, message, to.userIds, false);
      return this.directSends.submit({ message, userIds: to.userIds });
    }
    return this.db.tx(async (sql) => {
      if (idem) {
        const replay = await this.claim(sql, idem);
        if (replay !== undefined) return { ...(replay as SendResult), message: reviveMessage((replay as SendResult).message as never), replayed: true };
      }
      const result = 'everyone' in to ? await this.broadcast(sql, message) : await this.sendTo(sql, message, to.userIds, true);
      if (idem) {
        const { message: m, recipientCount } = result;
        await sql(maintenance.IDEMPOTENCY_SAVE, { response: JSON.stringify({ message: m, recipientCount, recipients: null }), scope: idem.scope, key: idem.key });
      }
      return result;
    });
  }

  private async sendGroup(group: Waiting<DirectSend, SendResult>[]): Promise<void> {
    const alone = (w: Waiting<DirectSend, SendResult>) => this.sendTo(this.db.sql, w.item.message, w.item.userIds, false).then(w.resolve, w.reject);
    if (group.length === 1) return alone(group[0]);
    let rows: SendRow[];
    try {
      rows = await this.db.sql(SEND, { sends: JSON.stringify(group.map((w) => sendJson(w.item.message, w.item.userIds))) });
    } catch (err) {
      // A send PostgreSQL refuses (a data or constraint error: the statement rolled back whole) fails
      // the batch: then each goes alone, so only it fails. Any other error may have come after the
      // commit (a dropped connection): sending again could deliver twice, so every send gets the error.
      const sqlState = (err as { code?: string }).code ?? '';
      if (sqlState.startsWith('22') || sqlState.startsWith('23')) return void (await Promise.all(group.map(alone)));
      throw err;
    }
    const bySend = group.map((): SendRow[] => []);
    for (const r of rows) bySend[r.i - 1].push(r);
    // Answered in the order of the messages' ids, so live events of one user follow their counts.
    const order = group.map((_, k) => k).sort((x, y) => Number(bySend[x][0]?.id ?? 0) - Number(bySend[y][0]?.id ?? 0));
    await Promise.all(order.map((k) => this.sent(null, group[k].item.message, bySend[k].sort(byUser)).then(group[k].resolve, group[k].reject)));
  }

  /** Several direct sends as one SEND in the caller's transaction (scheduled delivery): each one's result, in order. */
  private async sendMany(sql: Sql, sends: DirectSend[]): Promise<SendResult[]> {
    const rows = await sql(SEND, { sends: JSON.stringify(sends.map((s) => sendJson(s.message, s.userIds))) });
    const bySend = sends.map((): SendRow[] => []);
    for (const r of rows) bySend[r.i - 1].push(r);
    const results: SendResult[] = [];
    for (let k = 0; k < sends.length; k++) results.push(await this.sent(sql, sends[k].message, bySend[k].sort(byUser)));
    return results;
  }

  /** `sql` runs SEND; `inTx`: it is a transaction's, which the recipients' catch-up then joins. */
  private async sendTo(sql: Sql, message: NewMessage, userIds: readonly string[], inTx: boolean): Promise<SendResult> {
    const rows = await sql(SEND, { sends: JSON.stringify([sendJson(message, userIds)]) });
    return this.sent(inTx ? sql : null, message, rows.sort(byUser));
  }

  /** A send's result from its rows (one per recipient), once the recipients behind on broadcasts caught up (in `tx`, or a transaction of its own). */
  private async sent(tx: Sql | null, message: NewMessage, rows: SendRow[]): Promise<SendResult> {
    const unread = new Map(rows.map((r) => [r.user_id, { unread: r.unread, unseen: r.unseen }]));
    const behind = rows.filter((r) => r.behind).map((r) => r.user_id);
    if (behind.length) {
      // Rare: recipients with broadcasts not yet copied. Copy them so the counts reported are exact.
      const recount = async (sql: Sql) => {
        await this.catchUp(sql, behind);
        return sql(UNREAD_OF, { userIds: jsonList(behind) });
      };
      for (const r of tx ? await recount(tx) : await this.db.tx(recount)) unread.set(r.user_id, { unread: r.unread, unseen: r.unseen });
    }
    this.known.addWhileRoom(rows.map((r) => r.user_id));
    this.grew(rows.length);
    return {
      message: deliveredRecord(rows[0].id, message),
      recipientCount: rows.length,
      recipients: rows.map((r) => ({ userId: r.user_id, unreadCount: unread.get(r.user_id)!.unread, unseenCount: unread.get(r.user_id)!.unseen, groupCount: 1, superseded: null })),
      replayed: false,
    };
  }

  private async broadcast(sql: Sql, message: NewMessage): Promise<SendResult> {
    await sql(LOCK_BROADCASTS, { key: BROADCAST_LOCK });
    const m = message;
    const data = m.data === null || m.data === undefined ? null : JSON.stringify(m.data);
    const [row] = await sql(INSERT_BROADCAST, { level: m.level, text: m.text, extraTags: m.extraTags, url: m.url ?? null, data, createdAt: m.createdAt, expiresAt: m.expiresAt ?? null });
    const [stats] = await sql(KNOWN_USERS);
    return { message: deliveredRecord(row.id, message), recipientCount: stats.known_users, recipients: null, replayed: false };
  }

  /** Claims an idempotency key inside the caller's transaction; returns the earlier result when there is one. */
  private async claim(sql: Sql, idem: IdempotencyClaim): Promise<unknown | undefined> {
    const { scope, key, fingerprint } = idem;
    await sql(maintenance.IDEMPOTENCY_EXPIRE_ONE, { scope, key, ttlSeconds: IDEMPOTENCY_TTL_SECONDS });
    if ((await sql(maintenance.IDEMPOTENCY_INSERT, { scope, key, fingerprint })).length) return undefined;
    const [row] = await sql(maintenance.IDEMPOTENCY_GET, { scope, key });
    if (row.fingerprint !== fingerprint) throw new IdempotencyMismatch('idempotency key reused with different input');
    return row.response;
  }

  async remember(idem: IdempotencyClaim, result: RememberedFlash): Promise<RememberedFlash> {
    return this.db.tx(async (sql) => {
      const earlier = await this.claim(sql, idem);
      if (earlier !== undefined) return reviveRememberedFlash(earlier);
      await sql(maintenance.IDEMPOTENCY_SAVE, { response: JSON.stringify(result), scope: idem.scope, key: idem.key });
      return result;
    });
  }

  async forget(idem: IdempotencyClaim): Promise<void> {
    await this.db.sql(maintenance.IDEMPOTENCY_FORGET, { scope: idem.scope, key: idem.key, fingerprint: idem.fingerprint });
  }

  async list(userId: string, query: ListQuery): Promise<ListPage> {
    checkListCursor(query.cursor);
    return (await this.caughtUp(userId, (sql) => listPage(sql, userId, query))).value;
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

  async setRead(userId: string, ids: readonly string[], read: boolean): Promise<SetReadResult> {
    const wanted = ids.filter(isMessageId);
    const inputs = { userId, ids: jsonList(wanted), read };
    const statement = wanted.length === 1 ? SET_READ_ONE : SET_READ_MANY;
    // Marking read is one statement. Marking unread (which unarchives) may first have to lower the read
    // and archived watermarks below the requested ids, so it runs with the user locked, in a transaction.
    const row = read
      ? await this.caughtUp(userId, async (sql) => (await sql(statement, inputs))[0], { ids: wanted.length })
      : await this.locked(userId, async (sql) => {
          await lowerBelow(sql, userId, wanted, 'read', { seen: false, read: true, archived: true });
          return (await sql(statement, inputs))[0];
        });
    if (!row) return { ...found(ids, [], [], NO_COUNTS), unreadCount: 0 };
    const counts = countsOf(row);
    return { ...found(ids, row.changed ?? [], (row.messages ?? []).map(toRecord), counts), unreadCount: counts.unread };
  }

  async markAllRead(userId: string, until: Date): Promise<{ count: number; unreadCount: number; counts: InboxCounts }> {
    const r = await this.raise(userId, until, { seen: true, read: true, archived: false }, false);
    return { ...r, unreadCount: r.counts.unread };
  }

  async markAllSeen(userId: string, until: Date): Promise<AllChange> {
    return this.raise(userId, until, { seen: true, read: false, archived: false }, false);
  }

  async archiveAll(userId: string, until: Date, onlyRead: boolean): Promise<AllChange> {
    // With onlyRead nothing becomes read or seen: only the archived watermark moves (up to the read one).
    return this.raise(userId, until, onlyRead ? { seen: false, read: false, archived: true } : ALL_KINDS, onlyRead);
  }

  /** The "all" operations: raise the watermarks of `kinds` to the newest delivery at or before `until` (RAISE_UPTO). */
  private async raise(userId: string, until: Date, kinds: Kinds, onlyRead: boolean): Promise<AllChange> {
    return this.db.tx(async (sql) => {
      let [user] = await sql(LOCK_FOR_MARK_ALL, { userId, until });
      if (!user) return { count: 0, counts: NO_COUNTS };
      if (user.behind) {
        await this.catchUp(sql, [userId]);
        [user] = await sql(LOCK_FOR_MARK_ALL, { userId, until }); // the broadcasts just copied count too
      }
      return user.upto === null ? { count: 0, counts: countsOf((await sql(USER_STATE, { userId }))[0]) } : raiseIn(sql, userId, { ...user, upto: user.upto }, kinds, onlyRead);
    });
  }

  async deleteMessages(userId: string, ids: readonly string[]): Promise<DeleteResult> {
    const wanted = ids.filter(isMessageId);
    const statement = wanted.length === 1 ? DELETE_ONE : DELETE_MANY;
    const row = await this.caughtUp(userId, async (sql) => (await sql(statement, { userId, ids: jsonList(wanted) }))[0], { ids: wanted.length });
    const deleted = new Set(row.deleted ?? []);
    const counts = countsOf(row);
    return { deleted: [...deleted], notFound: [...new Set(ids.filter((id) => !deleted.has(id)))], unreadCount: counts.unread, counts };
  }

  async markSeen(userId: string, ids: readonly string[]): Promise<StateChange> {
    return this.changeStates(userId, ids, seeing);
  }

  async setArchived(userId: string, ids: readonly string[], archived: boolean): Promise<StateChange> {
    return this.changeStates(userId, ids, archived ? archiving : unarchiving);
  }

  async snooze(userId: string, ids: readonly string[], until: Date | null): Promise<StateChange> {
    return this.changeStates(userId, ids, until ? snoozing(until) : waking);
  }

  async wakeDue(now: Date, limit: number): Promise<WokenUser[]> {
    const due = await this.db.sql(DUE, { now, limit });
    const woken: (WokenUser | null | undefined)[] = new Array(due.length);
    // Each user under their own lock, a few users at once; a delivery another instance woke meanwhile is
    // not due any more (WAKE re-checks it).
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < due.length; i = next++) woken[i] = await this.locked(due[i].user_id, (sql) => wakeIn(sql, due[i].user_id, due[i].ids, now));
    };
    await Promise.all(Array.from({ length: Math.min(WAKE_CONCURRENCY, due.length) }, worker));
    return woken.filter((w): w is WokenUser => !!w);
  }

  /** A state change by ids (states.ts) with the user locked and caught up with broadcasts. */
  private async changeStates(userId: string, ids: readonly string[], change: Change): Promise<StateChange> {
    return (await this.locked(userId, (sql) => changeIn(sql, userId, ids, change))) ?? found(ids, [], [], NO_COUNTS);
  }

  async broadcastViews(messageId: string, userIds: readonly string[]): Promise<Map<string, BroadcastView>> {
    const views = new Map<string, BroadcastView>(userIds.map((id) => [id, { has: false, unreadCount: 0, unseenCount: 0 }]));
    if (userIds.length === 0) return views;
    const ids = jsonList([...new Set(userIds)].sort());
    const behind = await this.db.unprepared(BEHIND_OF, { userIds: ids });
    if (behind.length) await this.db.tx((sql) => this.catchUp(sql, behind.map((r) => r.id)));
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
    const every = this.opts.analyzeEveryCleanups;
    if (every && ++this.cleanups % every === 0) await this.db.unprepared(maintenance.ANALYZE_ALL);
    return this.db.tx(async (sql) => {
      const [d] = await sql(maintenance.CLEANUP_DELIVERIES, { limit });
      if (d?.users) await sql(maintenance.CLEANUP_MARKS, { userIds: jsonList(d.users) });
      const m = await sql(maintenance.CLEANUP_MESSAGES, { limit });
      const i = await sql(maintenance.CLEANUP_IDEMPOTENCY, { ttlSeconds: IDEMPOTENCY_TTL_SECONDS, limit });
      return (d?.n ?? 0) + m.length + i.length + (await this.schedules.cleanup(sql, limit));
    });
  }

  /** Counts deliveries written, and starts an ANALYZE when they have grown sm_delivery by the configured factor. */
  private grew(deliveries: number): void {
    const factor = this.opts.analyzeOnGrowth;
    if (!factor) return;
    this.written += deliveries;
    if (this.analysis || this.written < Math.max(ANALYZE_MIN_ROWS, this.analyzedRows * (factor - 1))) return;
    this.written = 0;
    this.analysis = (async () => {
      await this.db.unprepared(maintenance.ANALYZE_SENDS);
      this.analyzedRows = (await this.db.unprepared(maintenance.DELIVERY_ROWS))[0].n;
    })()
      // A failed ANALYZE leaves the old statistics: the next growth tries again.
      .catch(() => undefined)
      .finally(() => (this.analysis = null));
  }

  async ping(): Promise<void> {
    await this.db.sql(maintenance.PING);
  }

  preferences = notBuilt.preferences;
  setPreference = notBuilt.setPreference;
  schedule: MessageStore['schedule'] = (...a) => this.schedules.schedule(...a);
  scheduled: MessageStore['scheduled'] = (q) => this.schedules.scheduled(q);
  cancelScheduled: MessageStore['cancelScheduled'] = (id) => this.schedules.cancelScheduled(id);
  deliverDue: MessageStore['deliverDue'] = (now, limit) => this.schedules.deliverDue(now, limit);
  retract = notBuilt.retract;
  retractedViews = notBuilt.retractedViews;

  async close(): Promise<void> {
    await this.analysis;
    await this.db.end();
    await this.orm.close(true);
    await this.opts.onClose?.();
  }

  /**
   * Copies pending broadcasts into the users' deliveries (CATCH_UP), in the caller's transaction. A
   * broadcast that lies below a user's read watermark (it took its id before their last mark-all-read,
   * and committed after) first lowers that watermark, so it arrives unread; the users stay locked in between.
   */
  private async catchUp(sql: Sql, userIds: readonly string[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const blocked = await sql(CATCH_UP, { userIds: jsonList(userIds) });
      if (blocked.length === 0) return;
      if (attempt >= 3) throw new Error(`could not deliver broadcasts below the read watermark of ${blocked.length} users`);
      for (const b of blocked) await sql(LOWER_UPTO, { userId: b.user_id, below: b.first, seen: true, read: true, archived: true });
    }
  }

  /**
   * Runs `run`, a read or a one-statement write that answers `behind` when the user has broadcasts not
   * yet copied (a read may then lack them; a write changed nothing). Then it copies them and runs it
   * again, in one transaction; a broadcast arriving in between can repeat this, so it is bounded.
   * `ids`: the number of ids the statement carries (past PREPARED_MAX_IDS it runs unprepared).
   */
  private async caughtUp<R extends { behind: boolean }>(userId: string, run: (sql: Sql) => Promise<R>, o: { ids?: number } = {}): Promise<R> {
    const first = await run((o.ids ?? 0) > PREPARED_MAX_IDS ? this.db.unprepared : this.db.sql);
    if (!first.behind) return first;
    return this.db.tx(async (sql) => {
      for (let attempt = 1; ; attempt++) {
        await this.catchUp(sql, [userId]);
        const again = await run(sql);
        if (!again.behind) return again;
        if (attempt >= 5) throw new Error(`could not catch up with broadcasts for a user after ${attempt} attempts`);
      }
    });
  }

  /** The user's exact counts, once the broadcasts waiting for them are copied. */
  async counts(userId: string): Promise<InboxCounts> {
    const state = await this.caughtUp(userId, async (sql) => (await sql(USER_STATE, { userId }))[0] ?? { ...NO_COUNTS, behind: false });
    return countsOf(state);
  }

  /**
   * Runs `work` in a transaction holding the user's row lock, with their broadcasts copied: each of its
   * statements then sees every change committed before, which counting across many rows needs.
   * Resolves undefined for a user the store does not know (nothing of theirs to change).
   */
  private async locked<R>(userId: string, work: (sql: Sql) => Promise<R>): Promise<R | undefined> {
    return this.db.tx(async (sql) => {
      const [user] = await sql(LOCK_USER, { userId });
      if (!user) return undefined;
      if (user.behind) await this.catchUp(sql, [userId]);
      return work(sql);
    });
  }
}

/** One send of SEND's JSON input. */
function sendJson(m: NewMessage, userIds: readonly string[]) {
  return { u: [...new Set(userIds)], l: m.level, t: m.text, x: m.extraTags, r: m.url, d: m.data ?? null, c: m.createdAt.toISOString(), e: m.expiresAt?.toISOString() ?? null };
}

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
  countsWithoutStates,
  type AllChange,
  type InboxCounts,
  type StateChange,
  type WokenUser,
} from '../../domain/message-store.js';
import { GroupCommit, type Waiting } from '../group.js';
import { KnownUsers } from '../known-users.js';
import { jsonList, type Db, type Sql } from './db.js';
import { listPage, toRecord, type Counts } from './reads.js';
import { CATCH_UP, INSERT_BROADCAST, LOCK_BROADCASTS, LOWER_READ_UPTO, LOWEST_COVERED } from './sql/broadcasts.js';
import { DELETE_MANY, DELETE_ONE } from './sql/delete.js';
import { LOCK_FOR_MARK_ALL, MARK_ALL_READ } from './sql/mark-all-read.js';
import { SET_READ_MANY, SET_READ_ONE } from './sql/mark-read.js';
import * as maintenance from './sql/maintenance.js';
import { GET_MESSAGE, OLDEST_UNREAD } from './sql/messages.js';
import { SEND } from './sql/send.js';
import { BEHIND_OF, BROADCAST_VIEWS, KNOWN_USERS, LOCK_USER, REGISTER_USERS, UNREAD_OF, USER_STATE } from './sql/users.js';

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

type SendRow = { i: number; id: string; user_id: string; unread: number; behind: boolean };
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
  ) {}

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

  /** `sql` runs SEND; `inTx`: it is a transaction's, which the recipients' catch-up then joins. */
  private async sendTo(sql: Sql, message: NewMessage, userIds: readonly string[], inTx: boolean): Promise<SendResult> {
    const rows = await sql(SEND, { sends: JSON.stringify([sendJson(message, userIds)]) });
    return this.sent(inTx ? sql : null, message, rows.sort(byUser));
  }

  /** A send's result from its rows (one per recipient), once the recipients behind on broadcasts caught up (in `tx`, or a transaction of its own). */
  private async sent(tx: Sql | null, message: NewMessage, rows: SendRow[]): Promise<SendResult> {
    const unread = new Map(rows.map((r) => [r.user_id, r.unread]));
    const behind = rows.filter((r) => r.behind).map((r) => r.user_id);
    if (behind.length) {
      // Rare: recipients with broadcasts not yet copied. Copy them so the counts reported are exact.
      const recount = async (sql: Sql) => {
        await this.catchUp(sql, behind);
        return sql(UNREAD_OF, { userIds: jsonList(behind) });
      };
      for (const r of tx ? await recount(tx) : await this.db.tx(recount)) unread.set(r.user_id, r.unread);
    }
    this.known.addWhileRoom(rows.map((r) => r.user_id));
    this.grew(rows.length);
    return {
      message: deliveredRecord(rows[0].id, message),
      recipientCount: rows.length,
      recipients: rows.map((r) => ({ userId: r.user_id, unreadCount: unread.get(r.user_id)!, unseenCount: unread.get(r.user_id)! })),
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
    await this.userCounts(userId);
    const [row] = await this.db.sql(GET_MESSAGE, { userId, messageId });
    return row ? toRecord(row) : null;
  }

  async unreadCount(userId: string): Promise<number> {
    return (await this.userCounts(userId)).unread;
  }

  async setRead(userId: string, ids: readonly string[], read: boolean): Promise<SetReadResult> {
    const wanted = ids.filter(isMessageId);
    const inputs = { userId, ids: jsonList(wanted), read };
    const statement = wanted.length === 1 ? SET_READ_ONE : SET_READ_MANY;
    // Marking read is one statement. Marking unread may first have to lower the read watermark below
    // the requested ids, so it runs with the user locked, in a transaction.
    const row = read
      ? await this.caughtUp(userId, async (sql) => (await sql(statement, inputs))[0], { ids: wanted.length })
      : await this.locked(userId, async (sql) => {
          const [low] = await sql(LOWEST_COVERED, inputs);
          if (low.x !== null) await sql(LOWER_READ_UPTO, { userId, below: low.x });
          return (await sql(statement, inputs))[0];
        });
    if (!row) return { changed: [], messages: [], notFound: [...new Set(ids)], unreadCount: 0, counts: countsWithoutStates(0) };
    const found = new Map((row.messages ?? []).map((m) => [m.id, toRecord(m)]));
    return {
      changed: row.changed ?? [],
      messages: [...new Set(ids)].flatMap((id) => found.get(id) ?? []),
      notFound: [...new Set(ids.filter((id) => !found.has(id)))],
      unreadCount: row.unread,
      counts: countsWithoutStates(row.unread),
    };
  }

  async markAllRead(userId: string, until: Date): Promise<{ count: number; unreadCount: number; counts: InboxCounts }> {
    const r = await this.markAllReadBare(userId, until);
    return { ...r, counts: countsWithoutStates(r.unreadCount) };
  }

  private async markAllReadBare(userId: string, until: Date): Promise<{ count: number; unreadCount: number }> {
    return this.db.tx(async (sql) => {
      let [user] = await sql(LOCK_FOR_MARK_ALL, { userId, until });
      if (!user) return { count: 0, unreadCount: 0 };
      if (user.behind) {
        await this.catchUp(sql, [userId]);
        [user] = await sql(LOCK_FOR_MARK_ALL, { userId, until }); // the broadcasts just copied count too
      }
      if (user.upto !== null) {
        const [r] = await sql(MARK_ALL_READ, { userId, upto: user.upto });
        if (r.raised) return { count: r.n, unreadCount: r.unread };
      }
      const [state] = await sql(USER_STATE, { userId });
      return { count: 0, unreadCount: state?.unread ?? 0 };
    });
  }

  async deleteMessages(userId: string, ids: readonly string[]): Promise<DeleteResult> {
    const wanted = ids.filter(isMessageId);
    const statement = wanted.length === 1 ? DELETE_ONE : DELETE_MANY;
    const row = await this.caughtUp(userId, async (sql) => (await sql(statement, { userId, ids: jsonList(wanted) }))[0], { ids: wanted.length });
    const deleted = new Set(row.deleted ?? []);
    return {
      deleted: [...deleted],
      notFound: [...new Set(ids.filter((id) => !deleted.has(id)))],
      unreadCount: row.unread,
      counts: countsWithoutStates(row.unread),
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

  async broadcastViews(messageId: string, userIds: readonly string[]): Promise<Map<string, BroadcastView>> {
    const views = new Map<string, BroadcastView>(userIds.map((id) => [id, { has: false, unreadCount: 0, unseenCount: 0 }]));
    if (userIds.length === 0) return views;
    const ids = jsonList([...new Set(userIds)].sort());
    const behind = await this.db.unprepared(BEHIND_OF, { userIds: ids });
    if (behind.length) await this.db.tx((sql) => this.catchUp(sql, behind.map((r) => r.id)));
    for (const r of await this.db.unprepared(BROADCAST_VIEWS, { messageId: isMessageId(messageId) ? messageId : '0', userIds: ids })) {
      views.set(r.user_id, { has: r.has, unreadCount: r.unread, unseenCount: r.unread });
    }
    return views;
  }

  async oldestUnread(userId: string, limit: number): Promise<MessageRecord[]> {
    await this.userCounts(userId);
    return (await this.db.sql(OLDEST_UNREAD, { userId, limit })).map(toRecord);
  }

  async cleanupExpired(limit: number): Promise<number> {
    const every = this.opts.analyzeEveryCleanups;
    if (every && ++this.cleanups % every === 0) await this.db.unprepared(maintenance.ANALYZE_ALL);
    return this.db.tx(async (sql) => {
      const [d] = await sql(maintenance.CLEANUP_DELIVERIES, { limit });
      if (d?.users) await sql(maintenance.CLEANUP_READ_MARKS, { userIds: jsonList(d.users) });
      const m = await sql(maintenance.CLEANUP_MESSAGES, { limit });
      const i = await sql(maintenance.CLEANUP_IDEMPOTENCY, { ttlSeconds: IDEMPOTENCY_TTL_SECONDS, limit });
      return (d?.n ?? 0) + m.length + i.length;
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
      for (const b of blocked) await sql(LOWER_READ_UPTO, { userId: b.user_id, below: b.first });
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

  /** The user's exact counters, once the broadcasts waiting for them are copied. */
  private async userCounts(userId: string): Promise<Counts> {
    const state = await this.caughtUp(userId, async (sql) => (await sql(USER_STATE, { userId }))[0] ?? { unread: 0, total: 0, behind: false });
    return { unread: state.unread, total: state.total };
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

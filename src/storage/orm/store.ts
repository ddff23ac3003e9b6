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
} from '../../domain/message-store.js';
import { GroupCommit, type Waiting } from '../group.js';
import { KnownUsers } from '../known-users.js';
import { Db, jsonList, type Sql } from './db.js';
import * as q from './queries.js';
import { listPage, toRecord, type Counts, type MessageRow } from './reads.js';

const BROADCAST_LOCK = 0x5e_0b_ca57; // serialises broadcasts so their ids commit in order (see catchUp)
/** Deliveries written before the first growth ANALYZE (analyzeOnGrowth): below this, plans of any size are cheap. */
const ANALYZE_MIN_ROWS = 1_000;
/** Statements with more ids than this run unprepared, planned for their size (see Db.unprepared). */
const PREPARED_MAX_IDS = 50;
/**
 * Group commit of direct sends (directSends): statements running at once, and sends per statement at most.
 * One at a time: on 2 cores W1 measured 1,589-1,760 msg/s (PostgreSQL CPU 193-197 µs per send) against
 * 1,247-1,403 (371-412 µs) with 4, since the sends that wait go as one bigger statement and commit.
 */
const GROUP_RUNNING = 1;
const GROUP_MAX = 64;

type SendRow = { i: number; id: string; user_id: string; unread: number; behind: boolean };
type DirectSend = { message: NewMessage; userIds: readonly string[] };
const byUser = (a: SendRow, b: SendRow) => (a.user_id < b.user_id ? -1 : a.user_id > b.user_id ? 1 : 0);


/**
 * MessageStore on PostgreSQL (a server, or the embedded PGlite) through MikroORM.
 * Every operation is a few set-based statements in one transaction; see entities.ts for the model.
 */
export class OrmMessageStore implements MessageStore {
  private readonly db: Db;
  private readonly known = new KnownUsers();
  /**
   * Group commit of direct sends: the sends that wait while a batch runs go together as one statement
   * (SEND) with one commit. Under load PostgreSQL pays its per-statement and per-commit work once for
   * many sends; alone, a send goes at once. Each send keeps its own result, and all of a batch commit or
   * none do.
   */
  private readonly directSends = new GroupCommit<DirectSend, SendResult>({ running: GROUP_RUNNING, max: GROUP_MAX, run: (batch) => this.sendGroup(batch) });

  private cleanups = 0;
  /** Deliveries written since the last ANALYZE, sm_delivery's size then, and the ANALYZE running now. */
  private written = 0;
  private analyzedRows = 0;
  private analysis: Promise<void> | null = null;

  constructor(
    private readonly orm: MikroORM,
    private readonly opts: {
      onClose?: () => Promise<void>;
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
    this.db = new Db(orm);
  }

  async ensureUser(userId: string): Promise<void> {
    if (this.known.has(userId)) return;
    await this.db.sql(q.REGISTER_USERS, [jsonList([userId])]);
    this.known.add(userId);
  }

  async send(message: NewMessage, to: Recipients, idem?: IdempotencyClaim): Promise<SendResult> {
    // The common case, a direct send without a key, is one self-contained statement: no transaction round trips.
    if (!idem && !('everyone' in to)) return to.userIds.length > PREPARED_MAX_IDS ? this.sendTo(this.db.atomicUnprepared, message, to.userIds) : this.directSends.submit({ message, userIds: to.userIds });
    return this.db.tx(async (sql) => {
      if (idem) {
        const replay = await this.claim(sql, idem);
        if (replay !== undefined) return { ...(replay as SendResult), message: reviveMessage((replay as SendResult).message as never), replayed: true };
      }
      const result = 'everyone' in to ? await this.broadcast(sql, message) : await this.sendTo(sql, message, to.userIds);
      if (idem) {
        const { message: m, recipientCount } = result;
        await sql(q.IDEMPOTENCY_SAVE, [JSON.stringify({ message: m, recipientCount, recipients: null }), idem.scope, idem.key]);
      }
      return result;
    });
  }

  private async sendGroup(group: Waiting<DirectSend, SendResult>[]): Promise<void> {
    const alone = (w: Waiting<DirectSend, SendResult>) => this.sendTo(this.db.atomic, w.item.message, w.item.userIds).then(w.resolve, w.reject);
    if (group.length === 1) return alone(group[0]);
    let rows: SendRow[];
    try {
      rows = await this.db.atomic<SendRow>(q.SEND, [JSON.stringify(group.map((w) => sendJson(w.item.message, w.item.userIds)))]);
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
    await Promise.all(order.map((k) => this.sent(this.db.atomic, group[k].item.message, bySend[k].sort(byUser)).then(group[k].resolve, group[k].reject)));
  }

  private async sendTo(sql: Sql, message: NewMessage, userIds: readonly string[]): Promise<SendResult> {
    return this.sent(sql, message, (await sql<SendRow>(q.SEND, [JSON.stringify([sendJson(message, userIds)])])).sort(byUser));
  }

  /** A send's result from its rows (one per recipient), once the recipients behind on broadcasts caught up. */
  private async sent(sql: Sql, message: NewMessage, rows: SendRow[]): Promise<SendResult> {
    const unread = new Map(rows.map((r) => [r.user_id, r.unread]));
    const behind = rows.filter((r) => r.behind).map((r) => r.user_id);
    if (behind.length) {
      // Rare: recipients with broadcasts not yet copied. Copy them so the counts reported are exact.
      const recount = async (s: Sql) => {
        await this.catchUp(s, behind);
        return s<{ user_id: string; unread: number }>(q.UNREAD_OF, [jsonList(behind)]);
      };
      const fresh = sql === this.db.atomic || sql === this.db.atomicUnprepared ? await this.db.tx(recount) : await recount(sql);
      for (const r of fresh) unread.set(r.user_id, r.unread);
    }
    this.known.addWhileRoom(rows.map((r) => r.user_id));
    this.grew(rows.length);
    return {
      message: deliveredRecord(rows[0].id, message),
      recipientCount: rows.length,
      recipients: rows.map((r) => ({ userId: r.user_id, unreadCount: unread.get(r.user_id)! })),
      replayed: false,
    };
  }

  private async broadcast(sql: Sql, message: NewMessage): Promise<SendResult> {
    await sql('select pg_advisory_xact_lock(?)', [BROADCAST_LOCK]);
    const [row] = await sql<{ id: string }>(q.INSERT_MESSAGE, [...messageParams(message), true]);
    const [stats] = await sql<{ known_users: number }>('select known_users::int as known_users from sm_stats where id = 1');
    return { message: deliveredRecord(row.id, message), recipientCount: stats.known_users, recipients: null, replayed: false };
  }

  /** Claims an idempotency key inside the caller's transaction; returns the earlier result when there is one. */
  private async claim(sql: Sql, idem: IdempotencyClaim): Promise<unknown | undefined> {
    await sql(q.IDEMPOTENCY_EXPIRE_ONE, [idem.scope, idem.key, IDEMPOTENCY_TTL_SECONDS]);
    // Waits for a concurrent holder of the same key to commit, then sees its row.
    const inserted = await sql(q.IDEMPOTENCY_INSERT, [idem.scope, idem.key, idem.fingerprint]);
    if (inserted.length) return undefined;
    const [row] = await sql<{ fingerprint: string; response: unknown }>(q.IDEMPOTENCY_GET, [idem.scope, idem.key]);
    if (row.fingerprint !== idem.fingerprint) throw new IdempotencyMismatch('idempotency key reused with different input');
    return row.response;
  }

  async remember(idem: IdempotencyClaim, result: RememberedFlash): Promise<RememberedFlash> {
    return this.db.tx(async (sql) => {
      const earlier = await this.claim(sql, idem);
      if (earlier !== undefined) return reviveRememberedFlash(earlier);
      await sql(q.IDEMPOTENCY_SAVE, [JSON.stringify(result), idem.scope, idem.key]);
      return result;
    });
  }

  async forget(idem: IdempotencyClaim): Promise<void> {
    await this.db.sql(q.IDEMPOTENCY_FORGET, [idem.scope, idem.key, idem.fingerprint]);
  }

  async list(userId: string, query: ListQuery): Promise<ListPage> {
    checkListCursor(query.cursor);
    return this.caughtUp(userId, (sql) => listPage(sql, userId, query));
  }

  async get(userId: string, messageId: string): Promise<MessageRecord | null> {
    if (!isMessageId(messageId)) return null;
    await this.refresh(userId);
    const [row] = await this.db.sql<MessageRow>(`${q.SELECT_MESSAGES} where d.user_id = ? and d.message_id = ? and ${q.LIVE}`, [userId, messageId]);
    return row ? toRecord(row) : null;
  }

  async unreadCount(userId: string): Promise<number> {
    return (await this.refresh(userId)).unread;
  }

  async setRead(userId: string, ids: readonly string[], read: boolean): Promise<SetReadResult> {
    const wanted = ids.filter(isMessageId);
    type Row = { changed: string[] | null; unread: number; messages: MessageRow[] | null };
    const params = [userId, jsonList(wanted)];
    const form = q.idCount(wanted);
    // Marking read is one statement. Marking unread may first have to lower the read watermark below
    // the requested ids, so it runs with the user locked, in a transaction.
    const row = read
      ? await this.whenCaughtUp<Row>(userId, q.MARK_READ[form], params, wanted.length)
      : await this.locked(userId, async (sql) => {
          const [low] = await sql<{ x: string | null }>(q.LOWEST_COVERED, params);
          if (low.x !== null) await sql(q.LOWER_READ_UPTO, [userId, low.x]);
          return (await sql<Row>(q.MARK_UNREAD[form], params))[0];
        });
    if (!row) return { changed: [], messages: [], notFound: [...new Set(ids)], unreadCount: 0 };
    const found = new Map((row.messages ?? []).map((m) => [m.id, toRecord(m)]));
    return {
      changed: row.changed ?? [],
      messages: [...new Set(ids)].flatMap((id) => found.get(id) ?? []),
      notFound: [...new Set(ids.filter((id) => !found.has(id)))],
      unreadCount: row.unread,
    };
  }

  async markAllRead(userId: string, until: Date): Promise<{ count: number; unreadCount: number }> {
    return this.db.tx(async (sql) => {
      const lock = () => sql<{ behind: boolean; upto: string | null }>(q.LOCK_FOR_MARK_ALL, [userId, until, userId]);
      let [user] = await lock();
      if (!user) return { count: 0, unreadCount: 0 };
      if (user.behind) {
        await this.catchUp(sql, [userId]);
        [user] = await lock(); // the broadcasts just copied count too
      }
      if (user.upto !== null) {
        const [u, upto] = [userId, user.upto];
        const [r] = await sql<{ n: number; unread: number; raised: boolean }>(q.MARK_ALL_READ, [u, upto, u, upto, u, u]);
        if (r.raised) return { count: r.n, unreadCount: r.unread };
      }
      return { count: 0, unreadCount: (await this.counts(sql, userId)).unread };
    });
  }

  /**
   * Runs `work` in a transaction holding the user's row lock, with their broadcasts copied: each of its
   * statements then sees every change committed before, which counting across many rows needs.
   * Resolves undefined for a user the store does not know (nothing of theirs to change).
   */
  private async locked<R>(userId: string, work: (sql: Sql) => Promise<R>): Promise<R | undefined> {
    return this.db.tx(async (sql) => {
      const [user] = await sql<{ behind: boolean }>(q.LOCK_USER, [userId]);
      if (!user) return undefined;
      if (user.behind) await this.catchUp(sql, [userId]);
      return work(sql);
    });
  }

  /**
   * Copies pending broadcasts into the users' deliveries (CATCH_UP). A broadcast that lies below a
   * user's read watermark (it took its id before their last mark-all-read, and committed after) first
   * lowers that watermark, so it arrives unread; the users stay locked in between.
   */
  private async catchUp(sql: Sql, userIds: readonly string[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const blocked = await sql<{ user_id: string; first: string }>(q.CATCH_UP, [jsonList(userIds)]);
      if (blocked.length === 0) return;
      if (attempt >= 3) throw new Error(`could not deliver broadcasts below the read watermark of ${blocked.length} users`);
      for (const b of blocked) await sql(q.LOWER_READ_UPTO, [b.user_id, b.first]);
    }
  }

  async deleteMessages(userId: string, ids: readonly string[]): Promise<DeleteResult> {
    const wanted = ids.filter(isMessageId);
    const row = await this.whenCaughtUp<{ deleted: string[] | null; unread: number }>(userId, q.DELETE_DELIVERIES[q.idCount(wanted)], [userId, jsonList(wanted)], wanted.length);
    const deleted = new Set(row.deleted ?? []);
    return {
      deleted: [...deleted],
      notFound: [...new Set(ids.filter((id) => !deleted.has(id)))],
      unreadCount: row.unread,
    };
  }

  /**
   * Runs a one-statement write that changes nothing while the user has broadcasts not yet copied
   * (it answers `behind`); then copies them and runs it again. A broadcast arriving between the two
   * can repeat this, so it is bounded.
   */
  private async whenCaughtUp<R>(userId: string, statement: string, params: unknown[], ids = 0): Promise<R> {
    const run = ids > PREPARED_MAX_IDS ? this.db.atomicUnprepared : this.db.atomic;
    for (let attempt = 1; ; attempt++) {
      const [row] = await run<R & { behind: boolean }>(statement, params);
      if (!row.behind) return row;
      if (attempt >= 5) throw new Error(`could not catch up with broadcasts for a user after ${attempt} attempts`);
      await this.db.tx((sql) => this.catchUp(sql, [userId]));
    }
  }

  async broadcastViews(messageId: string, userIds: readonly string[]): Promise<Map<string, BroadcastView>> {
    const views = new Map<string, BroadcastView>(userIds.map((id) => [id, { has: false, unreadCount: 0 }]));
    if (userIds.length === 0) return views;
    const ids = jsonList([...new Set(userIds)].sort());
    const behind = await this.db.unprepared<{ id: string }>(q.BEHIND_OF, [ids]);
    if (behind.length) await this.db.tx((sql) => this.catchUp(sql, behind.map((r) => r.id)));
    for (const r of await this.db.unprepared<{ user_id: string; has: boolean; unread: number }>(q.BROADCAST_VIEWS, [isMessageId(messageId) ? messageId : '0', ids])) {
      views.set(r.user_id, { has: r.has, unreadCount: r.unread });
    }
    return views;
  }

  async oldestUnread(userId: string, limit: number): Promise<MessageRecord[]> {
    await this.refresh(userId);
    const rows = await this.db.sql<MessageRow>(
      `${q.SELECT_MESSAGES} where d.user_id = ? and ${q.unread('u.read_upto')} and ${q.LIVE} order by d.message_id asc limit ?`,
      [userId, limit],
    );
    return rows.map(toRecord);
  }

  async cleanupExpired(limit: number): Promise<number> {
    const every = this.opts.analyzeEveryCleanups;
    if (every && ++this.cleanups % every === 0) await this.db.unprepared('analyze');
    return this.db.tx(async (sql) => {
      const [d] = await sql<{ n: number; users: string[] | null }>(q.CLEANUP_DELIVERIES, [limit]);
      if (d?.users) await sql(q.CLEANUP_READ_MARKS, [jsonList(d.users)]);
      const m = await sql(q.CLEANUP_MESSAGES, [limit]);
      const i = await sql(q.CLEANUP_IDEMPOTENCY, [IDEMPOTENCY_TTL_SECONDS, limit]);
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
      await this.db.unprepared('analyze sm_delivery, sm_message');
      const [t] = await this.db.unprepared<{ n: number }>(`select greatest(reltuples, 0)::float8 as n from pg_class where oid = 'sm_delivery'::regclass`);
      this.analyzedRows = t.n;
    })()
      // A failed ANALYZE leaves the old statistics: the next growth tries again.
      .catch(() => undefined)
      .finally(() => (this.analysis = null));
  }

  async ping(): Promise<void> {
    await this.db.sql('select 1');
  }

  async close(): Promise<void> {
    await this.analysis;
    await this.orm.close(true);
    await this.opts.onClose?.();
  }

  /** The user's exact counters, once the broadcasts waiting for them are copied. */
  private refresh(userId: string): Promise<Counts> {
    return this.caughtUp(userId, async (sql) => {
      const [state] = await sql<Counts & { behind: boolean }>(q.USER_STATE, [userId]);
      return { behind: state?.behind ?? false, value: state ?? { unread: 0, total: 0 } };
    });
  }

  /**
   * What `read` reads, as of after the broadcasts waiting for the user are copied to them: when it
   * says they were behind, the store catches them up and reads again in the same transaction.
   */
  private async caughtUp<T>(userId: string, read: (sql: Sql) => Promise<{ behind: boolean; value: T }>): Promise<T> {
    const first = await read(this.db.sql);
    if (!first.behind) return first.value;
    return this.db.tx(async (sql) => {
      await this.catchUp(sql, [userId]);
      return (await read(sql)).value;
    });
  }

  private async counts(sql: Sql, userId: string): Promise<Counts> {
    const [row] = await sql<Counts>(q.USER_STATE, [userId]);
    return row ?? { unread: 0, total: 0 };
  }
}

function messageParams(m: NewMessage): unknown[] {
  return [m.level, m.text, m.extraTags, m.url, m.data === null || m.data === undefined ? null : JSON.stringify(m.data), m.createdAt, m.expiresAt];
}

/** One send of SEND's JSON parameter. */
function sendJson(m: NewMessage, userIds: readonly string[]) {
  return { u: [...new Set(userIds)], l: m.level, t: m.text, x: m.extraTags, r: m.url, d: m.data ?? null, c: m.createdAt.toISOString(), e: m.expiresAt?.toISOString() ?? null };
}


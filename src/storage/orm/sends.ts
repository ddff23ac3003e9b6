/** Sends on the PostgreSQL store: direct ones (group-committed, with or without a group key) and broadcasts, with their webhook events. */
import { deliveredRecord, reviveMessage, type NewMessage } from '../../domain/message.js';
import type { IdempotencyClaim, Recipients, SendResult } from '../../domain/message-store.js';
import { GroupCommit, type Waiting } from '../group.js';
import type { KnownUsers } from '../known-users.js';
import { PREPARED_MAX_IDS, jsonList, type Db, type Sql } from './db.js';
import { claimKey } from './idempotency.js';
import type { OutboxWriter } from './outbox.js';
import { INSERT_BROADCAST, LOCK_BROADCASTS } from './sql/broadcasts.js';
import * as maintenance from './sql/maintenance.js';
import { SEND } from './sql/send.js';
import { RECORD_WEBHOOKS } from './sql/webhooks.js';
import { KNOWN_USERS, UNREAD_OF } from './sql/users.js';

export const BROADCAST_LOCK = 0x5e_0b_ca57; // serialises broadcasts so their ids commit in order (see CATCH_UP)
/**
 * Group commit of direct sends (directSends): statements running at once, and sends per statement at most.
 * One at a time: the sends that wait meanwhile go as one bigger statement and one commit. With webhooks on
 * a batch is a transaction of two round trips (BEGIN with SEND, its events with COMMIT), still one at a
 * time: two at once made batches half the size and cost the database twice the CPU per send.
 */
const GROUP_RUNNING = 1;
const GROUP_MAX = 64;
/** With webhooks on a direct send is a transaction (with its events): SEND still runs prepared, as alone, and so does the events' insert. */
const HOT = { prepare: [SEND, RECORD_WEBHOOKS] };

type SendRow = { i: number; id: string; user_id: string | null; unread: number; unseen: number; behind: boolean; group_count: number; superseded: string | null };
type DirectSend = { message: NewMessage; userIds: readonly string[] };
const byMessageId = (a: SendResult, b: SendResult) => Number(a.message.id) - Number(b.message.id);
const byUser = (a: SendRow, b: SendRow) => ((a.user_id ?? '') < (b.user_id ?? '') ? -1 : (a.user_id ?? '') > (b.user_id ?? '') ? 1 : 0);

/** What sends need of the store: its webhook outbox, its known users, its broadcast catch-up, and its growth and batch counters. */
export interface SendsHost {
  outbox: OutboxWriter;
  known: KnownUsers;
  catchUp: (sql: Sql, userIds: readonly string[]) => Promise<void>;
  grew: (deliveries: number) => void;
  onSendBatch: (size: number) => void;
}

export class OrmSends {
  /**
   * Group commit of direct sends: the sends that wait while a batch runs go together as one statement
   * (SEND) with one commit. Under load PostgreSQL pays its per-statement and per-commit work once for
   * many sends; alone, a send goes at once. Each send keeps its own result, and all of a batch commit or
   * none do.
   */
  private readonly directSends: GroupCommit<DirectSend, SendResult>;

  constructor(
    private readonly db: Db,
    private readonly o: SendsHost,
  ) {
    this.directSends = new GroupCommit<DirectSend, SendResult>({ running: GROUP_RUNNING, max: GROUP_MAX, run: (batch) => this.sendGroup(batch), onBatch: (n) => this.o.onSendBatch(n) });
  }

  /** MessageStore.send. */
  async send(message: NewMessage, to: Recipients, idem?: IdempotencyClaim): Promise<SendResult> {
    // The common case, a direct send, is one self-contained statement: no transaction round trips.
    if (!idem && !('everyone' in to)) {
      if (to.userIds.length > PREPARED_MAX_IDS) return this.sendTo(this.db.unprepared, message, to.userIds, false);
      return this.directSends.submit({ message, userIds: to.userIds });
    }
    return this.db.tx(async (sql) => {
      if (idem) {
        const replay = await claimKey(sql, idem);
        if (replay !== undefined) return { ...(replay as SendResult), message: reviveMessage((replay as SendResult).message as never), replayed: true };
      }
      const result = await this.sendIn(sql, message, to);
      await this.record(sql, [result]);
      if (idem) {
        const { message: m, recipientCount } = result;
        await sql(maintenance.IDEMPOTENCY_SAVE, { response: JSON.stringify({ message: m, recipientCount, recipients: null }), scope: idem.scope, key: idem.key });
      }
      return result;
    });
  }

  /** Sends in the caller's transaction (its recipients' catch-up joins it): for work that must commit with the send. */
  sendIn(sql: Sql, message: NewMessage, to: Recipients): Promise<SendResult> {
    return 'everyone' in to ? this.broadcast(sql, message) : this.sendTo(sql, message, to.userIds, true);
  }

  /** Several direct sends in the caller's transaction (scheduled delivery), in one SEND: each one's result, in order. */
  async sendMany(sql: Sql, sends: readonly DirectSend[]): Promise<SendResult[]> {
    const bySend = rowsBySend(await sql(SEND, { sends: JSON.stringify(sends.map((x) => sendJson(x.message, x.userIds))) }), sends.length);
    return this.sent(sql, sends.map((x, k) => ({ message: x.message, rows: bySend[k] })));
  }

  /**
   * A batch of direct sends: one SEND, committed alone, or with webhooks on in one transaction with the
   * batch's events (one more statement). Answered in the order of the messages' ids, so live events of one
   * user follow their counts.
   */
  private async sendGroup(group: Waiting<DirectSend, SendResult>[]): Promise<void> {
    const alone = (w: Waiting<DirectSend, SendResult>) => this.sendTo(this.db.sql, w.item.message, w.item.userIds, false).then(w.resolve, w.reject);
    if (group.length === 1) return alone(group[0]);
    const sends = JSON.stringify(group.map((w) => sendJson(w.item.message, w.item.userIds)));
    // Once a SEND outside a transaction committed, sending again could deliver twice.
    let committed = false;
    let results: { k: number; result: SendResult }[];
    try {
      results = this.o.outbox.on
        ? await this.db.tx(async (sql) => {
            const r = await this.batchResults(sql, group, await sql(SEND, { sends }));
            await this.record(sql, r.map((x) => x.result));
            return r;
          }, HOT)
        : await this.batchResults(null, group, await this.db.sql(SEND, { sends }).then((rows) => ((committed = true), rows)));
    } catch (err) {
      if (!committed && refusedWhole(err)) return void (await Promise.all(group.map(alone)));
      throw err;
    }
    for (const { k, result } of results) group[k].resolve(result);
  }

  /** A batch's results from SEND's rows, in the order of the messages' ids (`k`: the send's place in the batch). */
  private async batchResults(tx: Sql | null, group: Waiting<DirectSend, SendResult>[], rows: SendRow[]): Promise<{ k: number; result: SendResult }[]> {
    const bySend = rowsBySend(rows, group.length);
    const order = group.map((_, k) => k).sort((x, y) => Number(bySend[x][0]?.id ?? 0) - Number(bySend[y][0]?.id ?? 0));
    const results = await this.sent(tx, order.map((k) => ({ message: group[k].item.message, rows: bySend[k] })));
    return order.map((k, n) => ({ k, result: results[n] }));
  }

  /** Writes the sends' webhook events (in the order of their ids) in their transaction. */
  record(sql: Sql, results: readonly SendResult[]): Promise<void> {
    return this.o.outbox.record(sql, [...results].sort(byMessageId).map((result) => ({ op: 'send', result })));
  }

  /**
   * `sql` runs SEND; `inTx`: it is a transaction's, which the recipients' catch-up then joins (with webhooks
   * on every send's is, with its events; in the caller's transaction, the caller writes them).
   */
  private async sendTo(sql: Sql, message: NewMessage, userIds: readonly string[], inTx: boolean): Promise<SendResult> {
    if (!inTx && this.o.outbox.on) {
      return this.db.tx(
        async (tx) => {
          const r = await this.sendTo(tx, message, userIds, true);
          await this.record(tx, [r]);
          return r;
        },
        this.o.outbox.on && sql === this.db.sql ? HOT : {},
      );
    }
    const rows = await sql(SEND, { sends: JSON.stringify([sendJson(message, userIds)]) });
    return (await this.sent(inTx ? sql : null, [{ message, rows: rows.sort(byUser) }]))[0];
  }

  /**
   * Sends' results from their rows (one per recipient). Recipients behind on broadcasts catch up once for
   * all the sends (in `tx`, or a transaction of its own), so the counts reported are exact: each of their
   * counts grows by what the catch-up copied (their count now less the one just after their newest send).
   */
  private async sent(tx: Sql | null, sends: { message: NewMessage; rows: SendRow[] }[]): Promise<SendResult[]> {
    const newest = new Map<string, SendRow>();
    for (const r of sends.flatMap((x) => x.rows)) {
      if (r.behind && r.user_id !== null && Number(r.id) > Number(newest.get(r.user_id)?.id ?? 0)) newest.set(r.user_id, r);
    }
    const copied = new Map<string, { unread: number; unseen: number }>();
    if (newest.size) {
      // Rare: recipients with broadcasts not yet copied.
      const recount = async (sql: Sql) => {
        await this.o.catchUp(sql, [...newest.keys()]);
        return sql(UNREAD_OF, { userIds: jsonList([...newest.keys()]) });
      };
      for (const r of tx ? await recount(tx) : await this.db.tx(recount)) {
        const before = newest.get(r.user_id)!;
        copied.set(r.user_id, { unread: r.unread - before.unread, unseen: r.unseen - before.unseen });
      }
    }
    return sends.map((x) => this.result(x.message, x.rows, copied));
  }

  private result(message: NewMessage, all: SendRow[], copied: ReadonlyMap<string, { unread: number; unseen: number }>): SendResult {
    const id = all[0].id;
    // A send that reached nobody (preferences) answers one row without a user.
    const rows = all.filter((r): r is SendRow & { user_id: string } => r.user_id !== null);
    this.o.known.addWhileRoom(rows.map((r) => r.user_id));
    this.o.grew(rows.length);
    return {
      message: deliveredRecord(id, message),
      recipientCount: rows.length,
      recipients: rows.map((r) => ({
        userId: r.user_id,
        unreadCount: r.unread + (copied.get(r.user_id)?.unread ?? 0),
        unseenCount: r.unseen + (copied.get(r.user_id)?.unseen ?? 0),
        groupCount: r.group_count,
        superseded: r.superseded,
      })),
      replayed: false,
    };
  }

  async broadcast(sql: Sql, message: NewMessage): Promise<SendResult> {
    await sql(LOCK_BROADCASTS, { key: BROADCAST_LOCK });
    const m = message;
    const data = m.data === null || m.data === undefined ? null : JSON.stringify(m.data);
    const [row] = await sql(INSERT_BROADCAST, { level: m.level, text: m.text, extraTags: m.extraTags, url: m.url ?? null, data, createdAt: m.createdAt, expiresAt: m.expiresAt ?? null, category: m.category, critical: m.critical });
    const [stats] = await sql(KNOWN_USERS);
    return { message: deliveredRecord(row.id, message), recipientCount: stats.known_users, recipients: null, replayed: false };
  }
}

/**
 * Whether PostgreSQL refused a batch as a whole (a data or constraint error: it rolled back): then each
 * send goes alone, so only the bad one fails. Any other error may have come after the commit (a dropped
 * connection): sending again could deliver twice, so every send gets the error.
 */
function refusedWhole(err: unknown): boolean {
  const sqlState = (err as { code?: string }).code ?? '';
  return sqlState.startsWith('22') || sqlState.startsWith('23');
}

/** SEND's rows split by send (its `i`), each send's by user. */
function rowsBySend(rows: SendRow[], sends: number): SendRow[][] {
  const bySend = Array.from({ length: sends }, (): SendRow[] => []);
  for (const r of rows) bySend[r.i - 1].push(r);
  return bySend.map((x) => x.sort(byUser));
}

/** One send of SEND's JSON input. */
function sendJson(m: NewMessage, userIds: readonly string[]) {
  return {
    u: [...new Set(userIds)],
    l: m.level,
    t: m.text,
    x: m.extraTags,
    r: m.url,
    d: m.data ?? null,
    c: m.createdAt.toISOString(),
    e: m.expiresAt?.toISOString() ?? null,
    k: m.category,
    g: m.groupKey,
    p: m.critical,
  };
}

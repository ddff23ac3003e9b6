import { isMessageId, type NewMessage } from '../../domain/message.js';
import {
  IDEMPOTENCY_TTL_SECONDS,
  type DeliveredSchedule,
  type IdempotencyClaim,
  type Recipients,
  type ScheduledPage,
  type ScheduledRecord,
  type SendResult,
} from '../../domain/message-store.js';
import { parseScheduleCursor, reviveScheduledMessage, reviveScheduledRecord, scheduleCursor, scheduledMessageJson, scheduledRecord } from '../../domain/schedules.js';
import { jsonList, type Db, type Sql } from './db.js';
import { IDEMPOTENCY_SAVE } from './sql/maintenance.js';
import { CANCEL_SCHEDULE, CLAIM_DUE, CLEANUP_SCHEDULES, GET_SCHEDULE, INSERT_SCHEDULE, MARK_DELIVERED, PENDING_COUNT, PENDING_PAGE, type ScheduleRow } from './sql/schedules.js';
import { KNOWN_USERS } from './sql/users.js';

/** What the store lends the schedules: its idempotency claim and its sends, each inside the caller's transaction. */
export interface ScheduleSends {
  /** Claims the key; the earlier call's response when there was one. */
  claim(sql: Sql, idem: IdempotencyClaim): Promise<unknown | undefined>;
  /** Direct sends as one statement: each one's result, in order. */
  sendMany(sql: Sql, sends: { message: NewMessage; userIds: readonly string[] }[]): Promise<SendResult[]>;
  broadcast(sql: Sql, message: NewMessage): Promise<SendResult>;
  /** Writes the sends' webhook events in the caller's transaction. */
  record(sql: Sql, results: readonly SendResult[]): Promise<void>;
}

/**
 * Deliveries one deliverDue transaction writes at most (a broadcast counts one): a batch of sends to
 * thousands of users each stops early, and the rest, still pending, go in the next call.
 */
const DELIVERIES_MAX = 20_000;

/** The longest prefix of `due` within DELIVERIES_MAX deliveries (at least one schedule, however large). */
function withinDeliveries<T extends { row: ScheduleRow }>(due: T[]): T[] {
  let deliveries = 0;
  const n = due.findIndex((d, i) => (deliveries += d.row.user_ids?.length ?? 1) > DELIVERIES_MAX && i > 0);
  return n < 0 ? due : due.slice(0, n);
}

const toScheduled = (r: ScheduleRow): ScheduledRecord =>
  scheduledRecord(r.id, reviveScheduledMessage(r.message), new Date(Number(r.deliver_ms)), r.recipient_count, r.user_ids === null);

/**
 * Scheduled messages on PostgreSQL (sm_schedule, entities.ts). deliverDue claims due rows FOR UPDATE SKIP
 * LOCKED and sends them, and marks them delivered, in ONE transaction: a crash midway rolls all of it
 * back, and a concurrent caller skips what this one holds, so each is delivered exactly once.
 */
export class OrmSchedules {
  constructor(
    private readonly db: Db,
    private readonly sends: ScheduleSends,
  ) {}

  async schedule(message: NewMessage, to: Recipients, deliverAt: Date, idem?: IdempotencyClaim): Promise<ScheduledRecord & { replayed: boolean }> {
    return this.db.tx(async (sql) => {
      if (idem) {
        const earlier = await this.sends.claim(sql, idem);
        if (earlier !== undefined) return { ...reviveScheduledRecord(earlier), replayed: true };
      }
      const userIds = 'everyone' in to ? null : [...new Set(to.userIds)];
      const recipientCount = userIds ? userIds.length : (await sql(KNOWN_USERS))[0].known_users;
      const [row] = await sql(INSERT_SCHEDULE, { message: JSON.stringify(scheduledMessageJson(message)), userIds: userIds && jsonList(userIds), deliverAt, recipientCount });
      const scheduled = toScheduled(row);
      if (idem) await sql(IDEMPOTENCY_SAVE, { response: JSON.stringify(scheduled), scope: idem.scope, key: idem.key });
      return { ...scheduled, replayed: false };
    });
  }

  async scheduled(query: { limit: number; cursor: string | null }): Promise<ScheduledPage> {
    const after = parseScheduleCursor(query.cursor);
    const [rows, [total]] = await Promise.all([
      this.db.sql(PENDING_PAGE, { afterAt: new Date(after?.afterMs ?? 0), afterId: after?.afterId ?? '0', limit: query.limit + 1 }),
      this.db.sql(PENDING_COUNT),
    ]);
    const items = rows.slice(0, query.limit).map(toScheduled).map((s) => ({ cursor: scheduleCursor(s), scheduled: s }));
    return { items, hasNextPage: rows.length > query.limit, totalCount: total.n };
  }

  async cancelScheduled(id: string): Promise<{ cancelled: boolean; scheduled: ScheduledRecord } | null> {
    if (!isMessageId(id)) return null;
    const cancelled = (await this.db.sql(CANCEL_SCHEDULE, { id })).length > 0;
    const [row] = await this.db.sql(GET_SCHEDULE, { id });
    return row ? { cancelled, scheduled: toScheduled(row) } : null;
  }

  async deliverDue(now: Date, limit: number): Promise<DeliveredSchedule[]> {
    return this.db.tx(async (sql) => {
      // Claimed rows left out stay pending, and unlocked at the commit, for the next call.
      const due = withinDeliveries((await sql(CLAIM_DUE, { now, limit })).map((row) => ({ row, scheduled: toScheduled(row) })));
      if (due.length === 0) return [];
      const results = new Map<string, SendResult>();
      // The direct ones as one SEND statement; broadcasts are one row each.
      const direct = due.filter((d) => d.row.user_ids !== null);
      const sent = direct.length ? await this.sends.sendMany(sql, direct.map((d) => ({ message: reviveScheduledMessage(d.row.message), userIds: d.row.user_ids! }))) : [];
      direct.forEach((d, k) => results.set(d.row.id, sent[k]));
      for (const d of due) if (d.row.user_ids === null) results.set(d.row.id, await this.sends.broadcast(sql, reviveScheduledMessage(d.row.message)));
      const done = due.map((d) => {
        const delivered = results.get(d.row.id)!.message.id;
        return { id: d.row.id, delivered: isMessageId(delivered) ? delivered : null };
      });
      await sql(MARK_DELIVERED, { done: JSON.stringify(done) });
      await this.sends.record(sql, [...results.values()]);
      return due.map((d) => ({ scheduled: d.scheduled, result: results.get(d.row.id)! }));
    });
  }

  /** Finished schedules past the idempotency TTL, in the cleanup's transaction; how many went. */
  async cleanup(sql: Sql, limit: number): Promise<number> {
    return (await sql(CLEANUP_SCHEDULES, { ttlSeconds: IDEMPOTENCY_TTL_SECONDS, limit })).length;
  }
}

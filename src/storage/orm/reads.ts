/** The read side of the PostgreSQL store: rows into records, list filters and keyset pages. */
import type { MessageRecord } from '../../domain/message.js';
import type { ListPage, ListQuery } from '../store.js';
import { jsonList, type Sql } from './db.js';
import * as q from './queries.js';

export interface MessageRow {
  id: string;
  level: number;
  text: string;
  extra_tags: string;
  url: string | null;
  data: unknown;
  created_at: Date | string;
  expires_at: Date | string | null;
  read_at: Date | string | null;
}

// MikroORM's driver setup returns timestamptz columns as strings ("2026-01-31 12:00:00.123456+00"); records carry Dates.
const toDate = (v: Date | string) => (v instanceof Date ? v : new Date(v));
const toDateOrNull = (v: Date | string | null) => (v === null ? null : toDate(v));

export const toRecord = (r: MessageRow): MessageRecord => ({
  id: r.id,
  level: r.level,
  text: r.text,
  extraTags: r.extra_tags,
  url: r.url,
  data: r.data,
  createdAt: toDate(r.created_at),
  expiresAt: toDateOrNull(r.expires_at),
  readAt: toDateOrNull(r.read_at),
  stored: true,
});

/** Message ids in this backend are positive integers; anything else cannot be the caller's message. */
export const isMessageId = (id: string) => /^[1-9]\d{0,17}$/.test(id);

/** A user's exact counters (USER_STATE). */
export interface Counts {
  unread: number;
  total: number;
}

/** One keyset page of the user's deliveries (`counts`: the user's exact counters, for unfiltered totals). */
export async function listPage(sql: Sql, userId: string, query: ListQuery, counts: Counts): Promise<ListPage> {
  const { where, params } = filterSql(userId, query);
  const forward = query.direction === 'forward';
  const cursorCond = query.cursor === null ? '' : ` and d.message_id ${forward ? '<' : '>'} ?`;
  const rows = await sql<MessageRow>(
    `${q.SELECT_MESSAGES} where ${where}${cursorCond} order by d.message_id ${forward ? 'desc' : 'asc'} limit ?`,
    [...params, ...(query.cursor === null ? [] : [query.cursor]), query.limit + 1],
  );
  const more = rows.length > query.limit;
  const page = rows.slice(0, query.limit);
  if (!forward) page.reverse();
  let before = false;
  if (query.cursor !== null) {
    const [row] = await sql<{ exists: boolean }>(
      `select exists (select 1 from sm_delivery d where ${where} and d.message_id ${forward ? '>=' : '<='} ?) as exists`,
      [...params, query.cursor],
    );
    before = row.exists;
  }
  const totalCount = await total(sql, query, counts, where, params);
  return {
    items: page.map((r) => ({ cursor: r.id, message: toRecord(r) })),
    hasNextPage: forward ? more : before,
    hasPreviousPage: forward ? before : more,
    totalCount,
  };
}

/** Exact totals come from the counters when no filter narrows the list. */
async function total(sql: Sql, query: ListQuery, counts: Counts, where: string, params: unknown[]): Promise<number> {
  const f = query.filter;
  if (!f.levels && !f.since && !f.until) {
    if (query.unreadOnly || f.read === false) return counts.unread;
    if (f.read === true) return counts.total - counts.unread;
    if (f.read == null) return counts.total;
  }
  const [row] = await sql<{ n: number }>(`select count(*)::int as n from sm_delivery d where ${where}`, params);
  return row.n;
}

function filterSql(userId: string, query: ListQuery): { where: string; params: unknown[] } {
  const parts = ['d.user_id = ?', q.LIVE];
  const params: unknown[] = [userId];
  const f = query.filter;
  if (query.unreadOnly || f.read === false || f.read === true) {
    parts.push(query.unreadOnly || f.read === false ? q.unread(q.READ_UPTO) : `not ${q.unread(q.READ_UPTO)}`);
    params.push(userId);
  }
  if (f.levels) {
    parts.push('d.level in (select value::int from jsonb_array_elements_text(?::jsonb))');
    params.push(jsonList(f.levels));
  }
  if (f.since) {
    parts.push('d.created_at >= ?');
    params.push(f.since);
  }
  if (f.until) {
    parts.push('d.created_at <= ?');
    params.push(f.until);
  }
  return { where: parts.join(' and '), params };
}

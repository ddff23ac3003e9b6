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

/**
 * One keyset page of the user's deliveries, in one statement with the user's state: their exact
 * counters (for unfiltered totals) and whether broadcasts wait to be copied to them (`behind`: the
 * page may then lack them; the store catches up and asks again). No row at all: an unknown user.
 */
export async function listPage(sql: Sql, userId: string, query: ListQuery): Promise<{ behind: boolean; value: ListPage }> {
  const { where, params } = filterSql(userId, query);
  const forward = query.direction === 'forward';
  // Past a cursor, whether anything lies before it comes back with the page too: an uncorrelated
  // subquery, which PostgreSQL evaluates once.
  const beforeCursor =
    query.cursor === null
      ? null
      : { sql: `exists (select 1 from sm_delivery d where ${where} and d.message_id ${forward ? '>=' : '<='} ?)`, params: [...params, query.cursor] };
  // The read watermark too is a subquery evaluated once: a join to sm_user would be looked up again
  // for each row under the prepared statement's generic plan.
  const rows = await sql<Partial<MessageRow> & Counts & { behind: boolean; before?: boolean }>(
    `with st as (${q.USER_STATE})
     select st.unread, st.total, st.behind, p.* from st left join lateral (
       select ${q.messageColumns(q.READ_UPTO)}${beforeCursor ? `, ${beforeCursor.sql} as before` : ''} ${q.DELIVERIES_WITH_MESSAGES}
       where ${where}${query.cursor === null ? '' : ` and d.message_id ${forward ? '<' : '>'} ?`}
       order by d.message_id ${forward ? 'desc' : 'asc'} limit ?
     ) p on true`,
    [userId, userId, ...(beforeCursor?.params ?? []), ...params, ...(query.cursor === null ? [] : [query.cursor]), query.limit + 1],
  );
  const state = rows[0] ?? { unread: 0, total: 0, behind: false };
  // A page's rows, newest first (the join keeps the subquery's order in practice; SQL does not promise it).
  const found = (rows.filter((r) => r.id != null) as MessageRow[]).sort((a, b) => b.id.length - a.id.length || (b.id > a.id ? 1 : b.id < a.id ? -1 : 0));
  const more = found.length > query.limit;
  const page = forward ? found.slice(0, query.limit) : found.slice(found.length - Math.min(found.length, query.limit));
  let before = false;
  if (beforeCursor) {
    // An empty page past the cursor has no row to carry the answer: ask alone.
    before = found.length ? rows[0].before === true : (await sql<{ before: boolean }>(`select ${beforeCursor.sql} as before`, beforeCursor.params))[0].before;
  }
  const totalCount = await total(sql, query, state, where, params);
  return {
    behind: state.behind,
    value: {
      items: page.map((r) => ({ cursor: r.id, message: toRecord(r) })),
      hasNextPage: forward ? more : before,
      hasPreviousPage: forward ? before : more,
      totalCount,
    },
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

/** The read side of the PostgreSQL store: rows into records, list filters and keyset pages. */
import type { MessageRecord } from '../../domain/message.js';
import type { ListPage, ListQuery } from '../../domain/message-store.js';
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
const toDate = (v: Date | string) => (v instanceof Date ? v : parseTimestamptz(v));

const digit = (s: string, i: number) => {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : NaN;
};
const digits = (s: string, i: number, n: number) => {
  let v = 0;
  for (let k = 0; k < n; k++) v = v * 10 + digit(s, i + k);
  return v;
};

/**
 * A timestamptz as PostgreSQL writes it in a UTC session, "YYYY-MM-DD HH:MM:SS[.ffffff]+00", read
 * without Date's general parser (twice as slow, and a page of 100 has 200 of them); the fraction
 * is cut to milliseconds as Date does. Anything else (another offset, JSON's "T" form, BC, infinity)
 * goes to Date. Years 0001-0099 are read here too: Date's parser and Date.UTC take them for 19xx/20xx.
 */
export function parseTimestamptz(s: string): Date {
  const n = s.length;
  if (n >= 22 && n <= 29 && n !== 23 && s.charCodeAt(n - 3) === 43 /* + */ && s.charCodeAt(n - 2) === 48 && s.charCodeAt(n - 1) === 48 && s.charCodeAt(10) === 32) {
    const year = digits(s, 0, 4);
    let ms = 0;
    const fraction = n - 23; // digits after the '.', 1 to 6 (none: n = 22)
    if (fraction > 0) {
      const kept = Math.min(3, fraction);
      ms = s.charCodeAt(19) === 46 ? digits(s, 20, kept) * 10 ** (3 - kept) : NaN;
      // The digits cut off must be digits too (NaN otherwise).
      ms += digits(s, 23, fraction - kept) * 0;
    }
    let t = Date.UTC(year, digits(s, 5, 2) - 1, digits(s, 8, 2), digits(s, 11, 2), digits(s, 14, 2), digits(s, 17, 2), ms);
    // Date.UTC reads 0-99 as 1900-1999, whose leap years are the same as 0-99's (1900 aside, and year 0 never comes).
    if (year < 100) t = new Date(t).setUTCFullYear(year);
    if (year >= 1 && t === t && s.charCodeAt(4) === 45 && s.charCodeAt(7) === 45 && s.charCodeAt(13) === 58 && s.charCodeAt(16) === 58) return new Date(t);
  }
  return new Date(s);
}
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
  // Past a cursor, whether anything lies before it comes back with the state too: an uncorrelated
  // subquery, which PostgreSQL evaluates once.
  const beforeCursor =
    query.cursor === null
      ? null
      : { sql: `exists (select 1 from sm_delivery d where ${where} and d.message_id ${forward ? '>=' : '<='} ?)`, params: [...params, query.cursor] };
  // The read watermark too is a subquery evaluated once: a join to sm_user would be looked up again
  // for each row under the prepared statement's generic plan.
  // The user's state is one row of its own, and the page's rows carry only messages: repeating the
  // counters on each of 100 rows cost the driver 400 more values to decode. The state row names the
  // columns (and leaves the message ones null); no state row: an unknown user, who has nothing.
  const rows = await sql<MessageRow | (Counts & { behind: boolean; before: boolean | null; id: null })>(
    `with st as (${q.USER_STATE})
     select st.unread, st.total, st.behind, ${beforeCursor ? beforeCursor.sql : 'null::boolean'} as before,
       null as id, null as read_at, null as level, null as text, null as extra_tags, null as url, null as data, null as created_at, null as expires_at
     from st
     union all
     (select null, null, null, null, ${q.messageColumns(q.READ_UPTO)} ${q.DELIVERIES_WITH_MESSAGES}
      where ${where}${query.cursor === null ? '' : ` and d.message_id ${forward ? '<' : '>'} ?`}
      order by d.message_id ${forward ? 'desc' : 'asc'} limit ?)`,
    [userId, ...(beforeCursor?.params ?? []), userId, ...params, ...(query.cursor === null ? [] : [query.cursor]), query.limit + 1],
  );
  let state: Counts & { behind: boolean; before: boolean | null } = { unread: 0, total: 0, behind: false, before: false };
  const found: MessageRow[] = [];
  for (const r of rows) {
    if (r.id === null) state = r;
    else found.push(r);
  }
  // A page's rows, newest first (the branch keeps its order in practice; SQL does not promise it).
  found.sort((a, b) => b.id.length - a.id.length || (b.id > a.id ? 1 : b.id < a.id ? -1 : 0));
  const more = found.length > query.limit;
  const page = forward ? found.slice(0, query.limit) : found.slice(found.length - Math.min(found.length, query.limit));
  const before = state.before === true;
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

/** The read side of the PostgreSQL store: rows into records, list filters and keyset pages. */
import type { MessageRecord } from '../../domain/message.js';
import type { InboxCounts, ListPage, ListQuery, MessageFilter } from '../../domain/message-store.js';
import { jsonList, type Sql } from './db.js';
import { COUNT_FILTERED } from './sql/messages.js';
import { ALL_NEWEST_FIRST, ALL_OLDEST_FIRST, fromStart, INBOX_NEWEST_FIRST, INBOX_OLDEST_FIRST } from './sql/pages.js';
import { SNOOZED_NEWEST_FIRST, SNOOZED_OLDEST_FIRST } from './sql/pages-snoozed.js';

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
  seen_at: Date | string | null;
  archived_at: Date | string | null;
  snoozed_until: Date | string | null;
  category: string | null;
  group_key: string | null;
  group_count: number;
}

// The store's pool returns timestamptz columns as strings ("2026-01-31 12:00:00.123456+00", connection.ts); records carry Dates.
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
 * without Date's slower general parser (a page of 100 has 200 of them); the fraction
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
  seenAt: toDateOrNull(r.seen_at),
  archivedAt: toDateOrNull(r.archived_at),
  category: r.category,
  groupKey: r.group_key,
  groupCount: r.group_count,
  snoozedUntil: toDateOrNull(r.snoozed_until),
  stored: true,
});

/** The five counts out of a row that carries them (and maybe more). */
export const countsOf = (r: InboxCounts): InboxCounts => ({ total: r.total, unread: r.unread, unseen: r.unseen, archived: r.archived, snoozed: r.snoozed });
export const NO_COUNTS: InboxCounts = { total: 0, unread: 0, unseen: 0, archived: 0, snoozed: 0 };

/** The page statements, by what they list; past a cursor they also tell whether anything lies before it. */
const PAST_A_CURSOR = {
  inboxNewestFirst: INBOX_NEWEST_FIRST,
  inboxOldestFirst: INBOX_OLDEST_FIRST,
  allNewestFirst: ALL_NEWEST_FIRST,
  allOldestFirst: ALL_OLDEST_FIRST,
  snoozedNewestFirst: SNOOZED_NEWEST_FIRST,
  snoozedOldestFirst: SNOOZED_OLDEST_FIRST,
};
/** The same pages from the start, without the query for what lies before a cursor (pages.ts: fromStart). */
const FROM_START = Object.fromEntries(Object.entries(PAST_A_CURSOR).map(([k, page]) => [k, fromStart(page)])) as typeof PAST_A_CURSOR;

/**
 * One keyset page of the user's deliveries (pages.ts), and whether broadcasts wait to be copied to them
 * (`behind`: the page may then lack them; the store catches up and asks again). No state row at all:
 * an unknown user, who has nothing.
 */
export async function listPage(sql: Sql, userId: string, query: ListQuery): Promise<{ behind: boolean; value: ListPage }> {
  const forward = query.direction === 'forward';
  const f = query.filter;
  const read = query.unreadOnly ? false : (f.read ?? null);
  const [seen, archived, snoozed] = [f.seen ?? null, f.archived ?? null, f.snoozed === true];
  const filters = { userId, levels: f.levels ? jsonList(f.levels) : null, categories: f.categories ? jsonList(f.categories) : null, since: f.since ?? null, until: f.until ?? null };
  const page = { ...filters, cursor: query.cursor, limit: query.limit + 1, seen, archived };
  const from = query.cursor === null ? FROM_START : PAST_A_CURSOR;
  // An unread list is never of snoozed ones ("unreadOnly" with snoozed: nothing).
  const rows =
    query.unreadOnly && snoozed
      ? []
      : snoozed
        ? await sql(forward ? from.snoozedNewestFirst : from.snoozedOldestFirst, { ...page, read })
        : read === false
          ? await sql(forward ? from.inboxNewestFirst : from.inboxOldestFirst, page)
          : await sql(forward ? from.allNewestFirst : from.allOldestFirst, { ...page, read });
  let state: InboxCounts & { behind: boolean; before: boolean | null } = { ...NO_COUNTS, behind: false, before: false };
  const found: MessageRow[] = [];
  for (const r of rows) {
    if (r.id === null) state = r;
    else found.push(r);
  }
  // A page's rows, newest first (the branch keeps its order in practice; SQL does not promise it).
  found.sort((a, b) => b.id.length - a.id.length || (b.id > a.id ? 1 : b.id < a.id ? -1 : 0));
  const more = found.length > query.limit;
  const items = forward ? found.slice(0, query.limit) : found.slice(found.length - Math.min(found.length, query.limit));
  const before = state.before === true;
  const counted = query.unreadOnly && snoozed ? 0 : fromCounters(state, { read, seen, archived, snoozed, narrowed: Boolean(f.levels || f.categories || f.since || f.until) });
  const totalCount = counted ?? (await sql(COUNT_FILTERED, { ...filters, read, seen, archived, snoozed }))[0].n;
  return {
    behind: state.behind,
    value: {
      items: items.map((r) => ({ cursor: r.id, message: toRecord(r) })),
      hasNextPage: forward ? more : before,
      hasPreviousPage: forward ? before : more,
      totalCount,
    },
  };
}

/** A filtered list's total from the counters, when at most one state narrows it; null: it must be counted. */
function fromCounters(c: InboxCounts, f: Pick<MessageFilter, 'read' | 'seen' | 'archived'> & { snoozed: boolean; narrowed: boolean }): number | null {
  const states = [f.read, f.seen, f.archived].filter((x) => x !== null && x !== undefined).length;
  if (f.narrowed || states > 1 || (f.snoozed && states > 0)) return null;
  if (f.snoozed) return c.snoozed;
  if (f.read !== null && f.read !== undefined) return f.read ? c.total - c.unread : c.unread;
  if (f.seen !== null && f.seen !== undefined) return f.seen ? c.total - c.unseen : c.unseen;
  if (f.archived !== null && f.archived !== undefined) return f.archived ? c.archived : c.total - c.archived;
  return c.total;
}

/** Categories on the PostgreSQL store: preferences (sql/preferences.ts), and one category's counts and "all" operations (sql/categories.ts). */
import { PREFERENCES_MAX, PreferenceLimit, type AllChange, type CategoryPreference, type InboxCounts } from '../../domain/message-store.js';
import type { Db, Sql } from './db.js';
import { NO_COUNTS, countsOf } from './reads.js';
import { CATEGORY_COUNTS, CATEGORY_MARK_ALL_BOUNDS, RAISE_CATEGORY_UPTO } from './sql/categories.js';
import { USER_STATE } from './sql/users.js';
import { lowestRaised, type Kinds } from './states.js';
import { LOCK_PREFERENCES, PREFERENCES, SET_PREFERENCE } from './sql/preferences.js';

export async function preferencesOf(db: Db, userId: string): Promise<CategoryPreference[]> {
  return db.sql(PREFERENCES, { userId });
}

/** Upserts the user's row for `category`; a new category past PREFERENCES_MAX throws PreferenceLimit, changing nothing. */
export async function setPreferenceIn(db: Db, userId: string, category: string, enabled: boolean): Promise<CategoryPreference> {
  const [row] = await db.tx(async (sql) => {
    await sql(LOCK_PREFERENCES, { userId });
    return sql(SET_PREFERENCE, { userId, category, enabled, max: PREFERENCES_MAX });
  });
  if (!row) throw new PreferenceLimit(`at most ${PREFERENCES_MAX} categories per user`);
  return row;
}

/** The five counts of one category (CATEGORY_COUNTS), in the caller's read (the user caught up with broadcasts). */
export async function categoryCountsIn(sql: Sql, userId: string, category: string): Promise<InboxCounts> {
  const [row] = await sql(CATEGORY_COUNTS, { userId, category });
  return row ? countsOf(row) : NO_COUNTS;
}

/**
 * An "all" operation limited to `category`, the user locked and caught up: raises the category's watermarks
 * of `kinds` to its newest delivery at or before `until` (RAISE_CATEGORY_UPTO). The counts are the whole inbox's.
 */
export async function markAllInCategory(sql: Sql, userId: string, category: string, until: Date, kinds: Kinds, onlyRead: boolean): Promise<AllChange> {
  const [w] = await sql(CATEGORY_MARK_ALL_BOUNDS, { userId, category, until });
  let count = 0;
  if (w?.upto) {
    // onlyRead archives what the category's or the user's read watermark covers.
    const readUpto = onlyRead ? String(BigInt(w.read_upto) > BigInt(w.user_read_upto) ? w.read_upto : w.user_read_upto) : w.read_upto;
    const lo = lowestRaised({ upto: w.upto, seen_upto: w.seen_upto, read_upto: readUpto, archived_upto: w.archived_upto }, kinds, onlyRead);
    [{ n: count }] = await sql(RAISE_CATEGORY_UPTO, { userId, category, upto: w.upto, lo, ...kinds, onlyRead });
  }
  return { count, counts: countsOf((await sql(USER_STATE, { userId }))[0]) };
}

/** Categories on the PostgreSQL store: preferences (sql/preferences.ts). */
import { PREFERENCES_MAX, PreferenceLimit, type CategoryPreference } from '../../domain/message-store.js';
import type { Db } from './db.js';
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

/** A user's category preferences (sm_preference): a category without a row is enabled. */
import type { CategoryPreference } from '../../../domain/message-store.js';
import { statement } from '../statement.js';

/** The user's rows in code-point order (collate "C": other collations sort `.`, `-` and `_` apart from it). */
export const PREFERENCES = statement<{ userId: string }, CategoryPreference>(`
select category, enabled from sm_preference where user_id = :userId order by category collate "C"`);

/** Serialises one user's setPreference calls, so the limit below counts every row committed before. */
export const LOCK_PREFERENCES = statement<{ userId: string }>(`
select pg_advisory_xact_lock(hashtextextended('sm_preference:' || :userId::text, 0))`);

/** Upserts one row, unless it would be a new category past :max (no row then). */
export const SET_PREFERENCE = statement<{ userId: string; category: string; enabled: boolean; max: number }, CategoryPreference>(`
insert into sm_preference (user_id, category, enabled)
select :userId::text, :category::text, :enabled::boolean
where exists (select 1 from sm_preference where user_id = :userId::text and category = :category::text)
   or (select count(*) from sm_preference where user_id = :userId::text) < :max::int
on conflict (user_id, category) do update set enabled = excluded.enabled
returning category, enabled`);

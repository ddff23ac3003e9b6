/**
 * markSeen, archive, unarchive, snoozing and wake-ups: each one statement run in a transaction holding the
 * user's row lock (the store's `locked`; a batch of timed wake-ups, all of its users'), so it reads what
 * every earlier change committed; the store lowers the watermarks first where one message alone must lose
 * a state under them (LOWER_UPTO). A delivery's watermarks are its user's and its category's
 * (sm_cat_upto). Each keeps the counters (entities.ts), the user's (`cnt`) and those of each category
 * (`cat`), and answers the ids it changed, in id order. :ids is a JSON list, the array computed once (each
 * id one probe of the primary key).
 */
import { statement } from '../statement.js';

type Changed = { changed: string[] };

/** Marks seen what is neither seen nor read. */
export const MARK_SEEN = statement<{ userId: string; ids: string }, Changed>(`
with w as (select id, seen_upto from sm_user where id = :userId
), upd as (
  update sm_delivery d set seen_at = now()
  from w
  where d.user_id = w.id and d.message_id = any(array(select value::bigint from jsonb_array_elements_text(:ids::jsonb))) and (d.expires_at is null or d.expires_at > now())
    and d.seen_at is null and d.read_at is null
    and (d.message_id > greatest(w.seen_upto, sm_cat_upto(d.user_id, d.category, 'seen')) or d.snoozed_until is not null)
  returning d.message_id, d.snoozed_until, d.category
), cat as (
  update sm_category c set unseen_count = c.unseen_count - x.n
  from (select category, count(*) as n from upd where snoozed_until is null and category is not null group by category) x
  where c.user_id = :userId and c.category = x.category
  returning 1
), cnt as (
  update sm_user su set unseen_count = su.unseen_count - (select count(*) from upd where snoozed_until is null)
  where su.id = :userId and exists (select 1 from upd)
  returning 1
)
select coalesce(json_agg(message_id::text order by message_id), '[]') as changed from upd`);

/** Archives what is not archived, marking it read (and so seen) unless it is already; earlier times are kept. */
export const ARCHIVE = statement<{ userId: string; ids: string }, Changed>(`
with w as (select id, seen_upto, read_upto, archived_upto from sm_user where id = :userId
), old as (
  select d.user_id, d.message_id, d.snoozed_until is null as counted,
    d.read_at is null and (d.snoozed_until is not null or d.message_id > greatest(w.read_upto, sm_cat_upto(d.user_id, d.category, 'read'))) as unread,
    d.seen_at is null and d.read_at is null and (d.snoozed_until is not null or d.message_id > greatest(w.seen_upto, sm_cat_upto(d.user_id, d.category, 'seen'))) as unseen
  from sm_delivery d, w
  where d.user_id = w.id and d.message_id = any(array(select value::bigint from jsonb_array_elements_text(:ids::jsonb))) and (d.expires_at is null or d.expires_at > now())
    and d.archived_at is null and (d.message_id > greatest(w.archived_upto, sm_cat_upto(d.user_id, d.category, 'archived')) or d.snoozed_until is not null)
), upd as (
  update sm_delivery d set archived_at = now(), read_at = case when old.unread then now() else d.read_at end
  from old where d.user_id = old.user_id and d.message_id = old.message_id
  returning d.message_id, d.category, old.counted, old.unread, old.unseen
), cat as (
  update sm_category c
  set archived_count = c.archived_count + x.n, unread_count = c.unread_count - x.unread, unseen_count = c.unseen_count - x.unseen
  from (
    select category, count(*) as n, count(*) filter (where unread) as unread, count(*) filter (where unseen) as unseen
    from upd where counted and category is not null group by category
  ) x
  where c.user_id = :userId and c.category = x.category
  returning 1
), cnt as (
  update sm_user su
  set archived_count = su.archived_count + (select count(*) from upd where counted),
      unread_count = su.unread_count - (select count(*) from upd where counted and unread),
      unseen_count = su.unseen_count - (select count(*) from upd where counted and unseen)
  where su.id = :userId and exists (select 1 from upd)
  returning 1
)
select coalesce(json_agg(message_id::text order by message_id), '[]') as changed from upd`);

/** Unarchives (it stays read); the store has lowered the archived watermark below the ids first. */
export const UNARCHIVE = statement<{ userId: string; ids: string }, Changed>(`
with upd as (
  update sm_delivery d set archived_at = null
  where d.user_id = :userId and d.message_id = any(array(select value::bigint from jsonb_array_elements_text(:ids::jsonb))) and (d.expires_at is null or d.expires_at > now()) and d.archived_at is not null
  returning d.message_id, d.snoozed_until, d.category
), cat as (
  update sm_category c set archived_count = c.archived_count - x.n
  from (select category, count(*) as n from upd where snoozed_until is null and category is not null group by category) x
  where c.user_id = :userId and c.category = x.category
  returning 1
), cnt as (
  update sm_user su set archived_count = su.archived_count - (select count(*) from upd where snoozed_until is null)
  where su.id = :userId and exists (select 1 from upd)
  returning 1
)
select coalesce(json_agg(message_id::text order by message_id), '[]') as changed from upd`);

/**
 * Snoozes until :until (again: moves the time). A delivery not snoozed yet has the states the watermarks
 * gave it written out, since a snoozed one ignores them, and leaves every counter but snoozed.
 */
export const SNOOZE = statement<{ userId: string; ids: string; until: Date }, Changed>(`
with w as (select id, seen_upto, read_upto, archived_upto from sm_user where id = :userId
), old as (
  select d.user_id, d.message_id, d.snoozed_until is null as awake, t.read_at, t.seen_at, t.archived_at,
    d.read_at is null and d.message_id > greatest(w.read_upto, sm_cat_upto(d.user_id, d.category, 'read')) as unread,
    d.seen_at is null and d.read_at is null and d.message_id > greatest(w.seen_upto, sm_cat_upto(d.user_id, d.category, 'seen')) as unseen,
    d.archived_at is not null or d.message_id <= greatest(w.archived_upto, sm_cat_upto(d.user_id, d.category, 'archived')) as archived
  from sm_delivery d cross join w cross join lateral sm_times(d, w.seen_upto, w.read_upto, w.archived_upto) t
  where d.user_id = w.id and d.message_id = any(array(select value::bigint from jsonb_array_elements_text(:ids::jsonb)))
    and (d.expires_at is null or d.expires_at > now())
    and d.snoozed_until is distinct from :until::timestamptz
), upd as (
  update sm_delivery d
  set snoozed_until = :until::timestamptz, read_at = old.read_at, seen_at = old.seen_at, archived_at = old.archived_at
  from old
  where d.user_id = old.user_id and d.message_id = old.message_id
  returning d.message_id, d.category, old.awake, old.unread, old.unseen, old.archived
), cat as (
  update sm_category c
  set snoozed_count = c.snoozed_count + x.n, total_count = c.total_count - x.n, unread_count = c.unread_count - x.unread,
      unseen_count = c.unseen_count - x.unseen, archived_count = c.archived_count - x.archived
  from (
    select category, count(*) as n, count(*) filter (where unread) as unread, count(*) filter (where unseen) as unseen,
      count(*) filter (where archived) as archived
    from upd where awake and category is not null group by category
  ) x
  where c.user_id = :userId and c.category = x.category
  returning 1
), cnt as (
  update sm_user su
  set snoozed_count = su.snoozed_count + (select count(*) from upd where awake),
      total_count = su.total_count - (select count(*) from upd where awake),
      unread_count = su.unread_count - (select count(*) from upd where awake and unread),
      unseen_count = su.unseen_count - (select count(*) from upd where awake and unseen),
      archived_count = su.archived_count - (select count(*) from upd where awake and archived)
  where su.id = :userId and exists (select 1 from upd)
  returning 1
)
select coalesce(json_agg(message_id::text order by message_id), '[]') as changed from upd`);

/**
 * Wakes the snoozed ones among each user's ids (:users, a JSON list of { user_id, ids }; all of them, or
 * with :due only those due by then): unread, unseen, not archived, in their place. The store holds the
 * users' locks and has lowered every watermark below them first; under those locks what `due` reads is
 * what `upd` changes, so two instances waking the same one wake it once. One statement for a batch of users.
 */
export const WAKE = statement<{ users: string; due: Date | null }, { user_id: string; changed: string[] }>(`
with due as (
  select d.user_id, d.message_id
  from jsonb_to_recordset(:users::jsonb) as u(user_id text, ids bigint[])
  -- Probes of each user's ids, the snoozed test outside (offset 0): else a partial index of snoozed
  -- deliveries, which stale statistics can show as empty, may be scanned whole for each user.
  cross join lateral (
    select d.user_id, d.message_id, d.snoozed_until from sm_delivery d
    where d.user_id = u.user_id and d.message_id = any(u.ids) and (d.expires_at is null or d.expires_at > now())
    offset 0
  ) d
  where d.snoozed_until is not null and (:due::timestamptz is null or d.snoozed_until <= :due::timestamptz)
), upd as (
  update sm_delivery d set snoozed_until = null, read_at = null, seen_at = null, archived_at = null
  from due where d.user_id = due.user_id and d.message_id = due.message_id
  returning d.user_id, d.message_id, d.category
), cat as (
  update sm_category c
  set snoozed_count = c.snoozed_count - x.n, total_count = c.total_count + x.n, unread_count = c.unread_count + x.n, unseen_count = c.unseen_count + x.n
  from (select user_id, category, count(*) as n from upd where category is not null group by user_id, category) x
  where c.user_id = x.user_id and c.category = x.category
  returning 1
), cnt as (
  update sm_user su
  set snoozed_count = su.snoozed_count - x.n, total_count = su.total_count + x.n,
      unread_count = su.unread_count + x.n, unseen_count = su.unseen_count + x.n
  from (select user_id, count(*) as n from upd group by user_id) x
  where su.id = x.user_id
  returning 1
)
select user_id, json_agg(message_id::text order by message_id) as changed
from upd group by user_id order by user_id collate "C"`);

/**
 * Up to :limit live snoozed deliveries due by :now, across users, by wake time (the wake index: one probe
 * when none is due), grouped by user. Those due together are taken user by user, so a batch wakes whole
 * users rather than a few messages of many. Locks nothing: the store locks the users, then wakes what is
 * still due (WAKE).
 */
export const DUE = statement<{ now: Date; limit: number }, { user_id: string; ids: string[] }>(`
select user_id, json_agg(message_id::text order by message_id) as ids
from (
  select d.user_id, d.message_id from sm_delivery d
  where d.snoozed_until is not null and d.snoozed_until <= :now::timestamptz and (d.expires_at is null or d.expires_at > now())
  order by d.snoozed_until, d.user_id, d.message_id
  limit :limit
) due
group by user_id
order by user_id collate "C"`);

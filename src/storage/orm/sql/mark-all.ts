/** markAllRead, markAllSeen and archiveAll: two statements in one transaction, holding the user's row lock. */
import { statement } from '../statement.js';

/**
 * Locks the user and finds the newest delivery at or before :until (a backward walk of the primary key
 * that stops at the first match: the very first when :until is now). Deliveries grow in id and time
 * together, so everything at or below it was delivered at or before :until. It is read before the lock
 * is granted, which is safe: a delivery still to commit belongs to a send holding this lock, which took
 * its id after every delivery already committed.
 */
export const LOCK_FOR_MARK_ALL = statement<
  { userId: string; until: Date },
  { behind: boolean; upto: string | null; seen_upto: string; read_upto: string; archived_upto: string }
>(`
select u.bcast_id < (select coalesce(max(id), 0) from sm_message where broadcast) as behind, (
  select d.message_id::text from sm_delivery d
  where d.user_id = :userId and d.delivered_at <= :until order by d.message_id desc limit 1
) as upto, u.seen_upto::text as seen_upto, u.read_upto::text as read_upto, u.archived_upto::text as archived_upto
from sm_user u where u.id = :userId
for update`);

/**
 * markAllRead (:read and :seen), markAllSeen (:seen) and archiveAll (all three): raises the watermarks
 * asked to :upto (from LOCK_FOR_MARK_ALL, in the same transaction, the user caught up with broadcasts)
 * and records a mark for each: O(1) whatever the number of messages covered. :lo is the lowest of the new
 * watermarks (the store computes it from LOCK_FOR_MARK_ALL's): a constant bound for the scans. With :onlyRead, archived
 * rises only to the read watermark, and the explicitly read deliveries between it and :upto get an
 * archived time written (those cost a row each). Runs unprepared, so the planner sees the real bounds.
 * The new counters are the deliveries above the new watermarks not in that state: normally none, and
 * then the scan does not run at all (`top`), since statistics can make its planned cost look like that of
 * walking every delivery of the user; otherwise a range of the primary key, both ends row comparisons
 * (they keep the planner off the global message_id index). n is the live messages whose
 * state (archived, else read, else seen) changed; raised is false when nothing moved. The scan is grouped
 * by category, so each category's counters (sm_category) are set from it too: the cost grows with the
 * user's number of categories, never with messages.
 */
export const RAISE_UPTO = statement<
  { userId: string; upto: string; lo: string; seen: boolean; read: boolean; archived: boolean; onlyRead: boolean },
  { n: number; raised: boolean }
>(`
with nw as (
  select su.id, su.seen_upto, su.read_upto, su.archived_upto, su.total_count, su.unread_count, su.unseen_count, su.archived_count,
    case when :seen::boolean then greatest(su.seen_upto, :upto::bigint) else su.seen_upto end as seen_to,
    case when :read::boolean then greatest(su.read_upto, :upto::bigint) else su.read_upto end as read_to,
    case when not :archived::boolean then su.archived_upto
         when :onlyRead::boolean then greatest(su.archived_upto, least(:upto::bigint, su.read_upto))
         else greatest(su.archived_upto, :upto::bigint) end as archived_to
  from sm_user su where su.id = :userId::text
), top as (
  -- The user's newest delivery (a backward probe of the primary key): the scans below run only when it lies above :lo.
  select d.message_id from sm_delivery d where d.user_id = :userId::text order by d.message_id desc limit 1
), above_cat as (
  select d.category,
         (count(*) filter (where d.read_at is null and d.message_id > greatest(nw.read_to, sm_cat_upto(d.user_id, d.category, 'read'))))::int as unread,
         (count(*) filter (where d.seen_at is null and d.read_at is null and d.message_id > greatest(nw.seen_to, sm_cat_upto(d.user_id, d.category, 'seen'))))::int as unseen,
         (count(*) filter (where d.archived_at is null and d.message_id > greatest(nw.archived_to, sm_cat_upto(d.user_id, d.category, 'archived'))))::int as unarchived,
         (count(*) filter (where :onlyRead::boolean and (d.read_at is not null or d.message_id <= sm_cat_upto(d.user_id, d.category, 'read'))
           and d.archived_at is null and d.message_id > sm_cat_upto(d.user_id, d.category, 'archived') and d.message_id <= :upto::bigint))::int as to_archive
  from sm_delivery d, nw
  where (select message_id from top) > :lo::bigint
    and (d.user_id, d.message_id) > (:userId::text, :lo::bigint)
    and (d.user_id, d.message_id) <= (:userId::text, 9223372036854775807::bigint)
    and d.snoozed_until is null
  group by d.category
), above as (
  select coalesce(sum(unread), 0)::int as unread, coalesce(sum(unseen), 0)::int as unseen,
         coalesce(sum(unarchived), 0)::int as unarchived, coalesce(sum(to_archive), 0)::int as to_archive
  from above_cat
), expired as (
  -- The expired ones (still in the counters) whose state this changes: not live, so not in n.
  select count(*) filter (where case
      when :archived::boolean then e.archived_at is null and e.message_id > greatest(nw.archived_upto, sm_cat_upto(e.user_id, e.category, 'archived'))
        and (e.message_id <= nw.archived_to
          or (:onlyRead::boolean and (e.read_at is not null or e.message_id <= sm_cat_upto(e.user_id, e.category, 'read')) and e.message_id <= :upto::bigint))
      when :read::boolean then e.read_at is null and e.message_id > greatest(nw.read_upto, sm_cat_upto(e.user_id, e.category, 'read')) and e.message_id <= nw.read_to
      else e.seen_at is null and e.read_at is null and e.message_id > greatest(nw.seen_upto, sm_cat_upto(e.user_id, e.category, 'seen'))
        and e.message_id <= nw.seen_to end)::int as n
  from (
    select e.read_at, e.seen_at, e.archived_at, e.snoozed_until, e.message_id, e.user_id, e.category from sm_delivery e
    where e.user_id = :userId::text and e.expires_at <= now() order by e.expires_at offset 0
  ) e, nw
  where e.snoozed_until is null
), counters as (
  select nw.id,
    case when :read::boolean then a.unread else nw.unread_count end as unread,
    case when :seen::boolean then a.unseen else nw.unseen_count end as unseen,
    case when :archived::boolean then nw.total_count - a.unarchived + a.to_archive else nw.archived_count end as archived,
    nw.seen_to > nw.seen_upto or nw.read_to > nw.read_upto or nw.archived_to > nw.archived_upto or a.to_archive > 0 as raised
  from nw, above a
), cat as (
  -- Each category's counters the same way, from its share of the scan (a category with none above: 0).
  update sm_category c
  set unread_count = case when :read::boolean then coalesce((select a.unread from above_cat a where a.category = c.category), 0) else c.unread_count end,
      unseen_count = case when :seen::boolean then coalesce((select a.unseen from above_cat a where a.category = c.category), 0) else c.unseen_count end,
      archived_count = case when :archived::boolean
        then c.total_count - coalesce((select a.unarchived - a.to_archive from above_cat a where a.category = c.category), 0)
        else c.archived_count end
  where c.user_id = :userId::text and (select raised from counters)
  returning 1
), arch as (
  update sm_delivery d set archived_at = now()
  from nw
  where :onlyRead::boolean and :lo::bigint < :upto::bigint
    and (d.user_id, d.message_id) > (:userId::text, :lo::bigint) and (d.user_id, d.message_id) <= (:userId::text, :upto::bigint)
    and (d.read_at is not null or d.message_id <= sm_cat_upto(d.user_id, d.category, 'read'))
    and d.archived_at is null and d.snoozed_until is null and d.message_id > sm_cat_upto(d.user_id, d.category, 'archived')
  returning 1
), marks as (
  insert into sm_mark (user_id, kind, upto, at)
  select nw.id, k.kind, k.upto, now()
  from nw cross join lateral (values ('seen', nw.seen_to, nw.seen_upto), ('read', nw.read_to, nw.read_upto), ('archived', nw.archived_to, nw.archived_upto)) as k(kind, upto, old)
  where k.upto > k.old
  on conflict do nothing
  returning 1
), raise as (
  update sm_user su
  set seen_upto = nw.seen_to, read_upto = nw.read_to, archived_upto = nw.archived_to,
      unread_count = c.unread, unseen_count = c.unseen, archived_count = c.archived
  from nw, counters c
  where su.id = nw.id and c.raised
  returning 1
)
select coalesce((
  select case when not c.raised then 0
    when :archived::boolean then (nw.total_count - nw.archived_count) - (nw.total_count - c.archived)
    when :read::boolean then nw.unread_count - c.unread
    else nw.unseen_count - c.unseen end
  from nw, counters c
), 0) - coalesce((select n from expired), 0) as n,
  coalesce((select raised from counters), false) as raised`);

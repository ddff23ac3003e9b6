/**
 * One category of a user's inbox: its counts (its counters, O(1)), and the "all" operations limited to
 * it, which read the category's deliveries through sm_delivery_category_idx, holding the user's row lock
 * (the store's `locked`), with broadcasts copied.
 */
import type { InboxCounts } from '../../../domain/message-store.js';
import { statement } from '../statement.js';

/**
 * The five counts (InboxCounts) of the user's deliveries in :category: its counters (sm_category, zeros
 * before its first delivery) less its expired deliveries the cleanup has not reclaimed (as sm_expired
 * does for the whole inbox, through the (user_id, expires_at) index).
 */
export const CATEGORY_COUNTS = statement<{ userId: string; category: string }, InboxCounts>(`
with w as (select seen_upto, read_upto, archived_upto from sm_user where id = :userId::text
), c as (select * from sm_category where user_id = :userId::text and category = :category::text
), x as (
  select (count(*) filter (where e.snoozed_until is null))::int as total,
         (count(*) filter (where e.snoozed_until is null and e.read_at is null and e.message_id > greatest(w.read_upto, coalesce((select read_upto from c), 0))))::int as unread,
         (count(*) filter (where e.snoozed_until is null and e.seen_at is null and e.read_at is null
           and e.message_id > greatest(w.seen_upto, coalesce((select seen_upto from c), 0))))::int as unseen,
         (count(*) filter (where e.snoozed_until is null
           and (e.archived_at is not null or e.message_id <= greatest(w.archived_upto, coalesce((select archived_upto from c), 0)))))::int as archived,
         (count(*) filter (where e.snoozed_until is not null))::int as snoozed
  from (
    select e.read_at, e.seen_at, e.archived_at, e.snoozed_until, e.message_id, e.category from sm_delivery e
    where e.user_id = :userId::text and e.expires_at <= now() order by e.expires_at offset 0
  ) e, w
  where e.category = :category::text
)
select coalesce((select total_count from c), 0) - x.total as total, coalesce((select unread_count from c), 0) - x.unread as unread,
       coalesce((select unseen_count from c), 0) - x.unseen as unseen, coalesce((select archived_count from c), 0) - x.archived as archived,
       coalesce((select snoozed_count from c), 0) - x.snoozed as snoozed
from x`);

/**
 * markAllSeen (:seen), markAllRead (:read) or archiveAll (:archived, with :onlyRead) of the deliveries in
 * :category delivered at or before :until, snoozed ones left alone: writes each one's time (now) and
 * moves the user's and the category's counters by the rows changed (expired ones not yet reclaimed included, as the counters
 * hold them). Earlier times are kept: a delivery under a watermark already has that state. Answers n, the
 * live deliveries changed.
 */
export const MARK_ALL_IN_CATEGORY = statement<
  { userId: string; category: string; until: Date; seen: boolean; read: boolean; archived: boolean; onlyRead: boolean },
  { n: number }
>(`
with w as (select id, seen_upto, read_upto, archived_upto from sm_user where id = :userId::text
), old as (
  select d.user_id, d.message_id, d.expires_at is null or d.expires_at > now() as live,
    d.read_at is null and d.message_id > w.read_upto as unread,
    d.seen_at is null and d.read_at is null and d.message_id > w.seen_upto as unseen,
    d.archived_at is null and d.message_id > w.archived_upto as unarchived
  from sm_delivery d, w
  where d.user_id = w.id and d.category = :category::text and d.delivered_at <= :until::timestamptz and d.snoozed_until is null
), pick as (
  select * from old
  where case when :archived::boolean then unarchived and not (:onlyRead::boolean and unread)
             when :read::boolean then unread
             else unseen end
), upd as (
  update sm_delivery d
  set seen_at = case when :seen::boolean and not :read::boolean and not :archived::boolean then now() else d.seen_at end,
      read_at = case when pick.unread and not :onlyRead::boolean and (:read::boolean or :archived::boolean) then now() else d.read_at end,
      archived_at = case when :archived::boolean then now() else d.archived_at end
  from pick
  where d.user_id = pick.user_id and d.message_id = pick.message_id
  returning pick.live, pick.unread, pick.unseen
), cat as (
  update sm_category c
  set unread_count = c.unread_count - (select count(*) from upd where unread and not :onlyRead::boolean and (:read::boolean or :archived::boolean)),
      unseen_count = c.unseen_count - (select count(*) from upd where unseen and not :onlyRead::boolean),
      archived_count = c.archived_count + (select count(*) from upd where :archived::boolean)
  where c.user_id = :userId::text and c.category = :category::text and exists (select 1 from upd)
  returning 1
), cnt as (
  update sm_user su
  set unread_count = su.unread_count - (select count(*) from upd where unread and not :onlyRead::boolean and (:read::boolean or :archived::boolean)),
      unseen_count = su.unseen_count - (select count(*) from upd where unseen and not :onlyRead::boolean),
      archived_count = su.archived_count + (select count(*) from upd where :archived::boolean)
  where su.id = :userId::text and exists (select 1 from upd)
  returning 1
)
select (count(*) filter (where live))::int as n from upd`);

/**
 * One category of a user's inbox: its counts, and the "all" operations limited to it. Each reads the
 * category's deliveries through sm_delivery_category_idx; the "all" ones run holding the user's row lock
 * (the store's `locked`), with broadcasts copied.
 */
import type { InboxCounts } from '../../../domain/message-store.js';
import { statement } from '../statement.js';

/** The five counts (InboxCounts) of the user's live deliveries in :category. A snoozed delivery ignores the watermarks. */
export const CATEGORY_COUNTS = statement<{ userId: string; category: string }, InboxCounts>(`
with w as (select seen_upto, read_upto, archived_upto from sm_user where id = :userId)
select (count(*) filter (where d.snoozed_until is null))::int as total,
       (count(*) filter (where d.snoozed_until is null and d.read_at is null and d.message_id > w.read_upto))::int as unread,
       (count(*) filter (where d.snoozed_until is null and d.seen_at is null and d.read_at is null and d.message_id > w.seen_upto))::int as unseen,
       (count(*) filter (where d.snoozed_until is null and (d.archived_at is not null or d.message_id <= w.archived_upto)))::int as archived,
       (count(*) filter (where d.snoozed_until is not null))::int as snoozed
from sm_delivery d, w
where d.user_id = :userId and d.category = :category and (d.expires_at is null or d.expires_at > now())`);

/**
 * markAllSeen (:seen), markAllRead (:read) or archiveAll (:archived, with :onlyRead) of the deliveries in
 * :category delivered at or before :until, snoozed ones left alone: writes each one's time (now) and
 * moves the user's counters by the rows changed (expired ones not yet reclaimed included, as the counters
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
), cnt as (
  update sm_user su
  set unread_count = su.unread_count - (select count(*) from upd where unread and not :onlyRead::boolean and (:read::boolean or :archived::boolean)),
      unseen_count = su.unseen_count - (select count(*) from upd where unseen and not :onlyRead::boolean),
      archived_count = su.archived_count + (select count(*) from upd where :archived::boolean)
  where su.id = :userId::text and exists (select 1 from upd)
  returning 1
)
select (count(*) filter (where live))::int as n from upd`);

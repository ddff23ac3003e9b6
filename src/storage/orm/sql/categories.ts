/**
 * One category of a user's inbox: its counts (its counters, O(1)), and the "all" operations limited to
 * it (its watermarks, O(1)), run holding the user's row lock (the store's `locked`), with broadcasts copied.
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
 * With the user locked and caught up (the store's `locked`): the newest delivery in :category at or before
 * :until (a backward walk of the category index that stops at the first match), the category's
 * watermarks, and the user's read watermark (onlyRead archives what either reads).
 */
export const CATEGORY_MARK_ALL_BOUNDS = statement<
  { userId: string; category: string; until: Date },
  { upto: string | null; seen_upto: string; read_upto: string; archived_upto: string; user_read_upto: string }
>(`
select (
  select d.message_id::text from sm_delivery d
  where d.user_id = :userId and d.category = :category and d.delivered_at <= :until order by d.message_id desc limit 1
) as upto, c.seen_upto::text as seen_upto, c.read_upto::text as read_upto, c.archived_upto::text as archived_upto,
  u.read_upto::text as user_read_upto
from sm_user u join sm_category c on c.user_id = u.id and c.category = :category
where u.id = :userId`);

/**
 * markAllRead (:read and :seen), markAllSeen (:seen) and archiveAll (all three) limited to :category: as
 * RAISE_UPTO (mark-all.ts) for the user, raises the category's watermarks to :upto and records a mark for
 * each (sm_category_mark): O(1) whatever the number of messages covered. A delivery of the category is in
 * a state when its own time is set or, not snoozed, its id is at or below the greater of the user's and
 * the category's watermark. :lo is the lowest new watermark (a constant bound for the scans of the
 * category index). The category's new counters are its deliveries above the new watermarks not in that
 * state (normally none, and then the scan does not run: `top`); the user's move by the category's change.
 * With :onlyRead, archived rises only to what is read by a watermark, and the explicitly read deliveries
 * between it and :upto get an archived time written. n is the live messages whose state (archived, else
 * read, else seen) changed.
 */
export const RAISE_CATEGORY_UPTO = statement<
  { userId: string; category: string; upto: string; lo: string; seen: boolean; read: boolean; archived: boolean; onlyRead: boolean },
  { n: number }
>(`
with uw as (select su.id, su.seen_upto, su.read_upto, su.archived_upto from sm_user su where su.id = :userId::text
), nw as (
  select c.user_id, c.category, c.seen_upto, c.read_upto, c.archived_upto, c.total_count, c.unread_count, c.unseen_count, c.archived_count,
    uw.seen_upto as user_seen, uw.read_upto as user_read, uw.archived_upto as user_archived,
    case when :seen::boolean then greatest(c.seen_upto, :upto::bigint) else c.seen_upto end as seen_to,
    case when :read::boolean then greatest(c.read_upto, :upto::bigint) else c.read_upto end as read_to,
    case when not :archived::boolean then c.archived_upto
         when :onlyRead::boolean then greatest(c.archived_upto, least(:upto::bigint, greatest(c.read_upto, uw.read_upto)))
         else greatest(c.archived_upto, :upto::bigint) end as archived_to
  from sm_category c, uw where c.user_id = :userId::text and c.category = :category::text
), top as (
  -- The category's newest delivery (a backward probe of its index): the scans below run only when it lies above :lo.
  select d.message_id from sm_delivery d where d.user_id = :userId::text and d.category = :category::text order by d.message_id desc limit 1
), above as (
  select (count(*) filter (where d.read_at is null and d.message_id > greatest(nw.read_to, nw.user_read)))::int as unread,
         (count(*) filter (where d.seen_at is null and d.read_at is null and d.message_id > greatest(nw.seen_to, nw.user_seen)))::int as unseen,
         (count(*) filter (where d.archived_at is null and d.message_id > greatest(nw.archived_to, nw.user_archived)))::int as unarchived,
         (count(*) filter (where :onlyRead::boolean and (d.read_at is not null or d.message_id <= greatest(nw.read_to, nw.user_read))
           and d.archived_at is null and d.message_id > greatest(nw.archived_to, nw.user_archived) and d.message_id <= :upto::bigint))::int as to_archive
  from sm_delivery d, nw
  where (select message_id from top) > :lo::bigint and d.category = :category::text
    and (d.user_id, d.category, d.message_id) > (:userId::text, :category::text, :lo::bigint)
    and (d.user_id, d.category, d.message_id) <= (:userId::text, :category::text, 9223372036854775807::bigint)
    and d.snoozed_until is null
), expired as (
  -- The expired ones (still in the counters) whose state this changes: not live, so not in n.
  select count(*) filter (where case
      when :archived::boolean then e.archived_at is null and e.message_id > greatest(nw.archived_upto, nw.user_archived)
        and (e.message_id <= nw.archived_to
          or (:onlyRead::boolean and (e.read_at is not null or e.message_id <= greatest(nw.read_upto, nw.user_read)) and e.message_id <= :upto::bigint))
      when :read::boolean then e.read_at is null and e.message_id > greatest(nw.read_upto, nw.user_read) and e.message_id <= nw.read_to
      else e.seen_at is null and e.read_at is null and e.message_id > greatest(nw.seen_upto, nw.user_seen) and e.message_id <= nw.seen_to end)::int as n
  from (
    select e.read_at, e.seen_at, e.archived_at, e.snoozed_until, e.message_id, e.category from sm_delivery e
    where e.user_id = :userId::text and e.expires_at <= now() order by e.expires_at offset 0
  ) e, nw
  where e.snoozed_until is null and e.category = :category::text
), counters as (
  select case when :read::boolean then a.unread else nw.unread_count end as unread,
    case when :seen::boolean then a.unseen else nw.unseen_count end as unseen,
    case when :archived::boolean then nw.total_count - a.unarchived + a.to_archive else nw.archived_count end as archived,
    nw.seen_to > nw.seen_upto or nw.read_to > nw.read_upto or nw.archived_to > nw.archived_upto or a.to_archive > 0 as raised
  from nw, above a
), arch as (
  update sm_delivery d set archived_at = now()
  from nw
  where :onlyRead::boolean and :lo::bigint < :upto::bigint and d.category = :category::text
    and (d.user_id, d.category, d.message_id) > (:userId::text, :category::text, :lo::bigint)
    and (d.user_id, d.category, d.message_id) <= (:userId::text, :category::text, :upto::bigint)
    and (d.read_at is not null or d.message_id <= greatest(nw.read_to, nw.user_read))
    and d.archived_at is null and d.snoozed_until is null and d.message_id > greatest(nw.archived_to, nw.user_archived)
  returning 1
), marks as (
  insert into sm_category_mark (user_id, category, kind, upto, at)
  select nw.user_id, nw.category, k.kind, k.upto, now()
  from nw cross join lateral (values ('seen', nw.seen_to, nw.seen_upto), ('read', nw.read_to, nw.read_upto), ('archived', nw.archived_to, nw.archived_upto)) as k(kind, upto, old)
  where k.upto > k.old
  on conflict do nothing
  returning 1
), raise as (
  update sm_category c
  set seen_upto = nw.seen_to, read_upto = nw.read_to, archived_upto = nw.archived_to,
      unread_count = k.unread, unseen_count = k.unseen, archived_count = k.archived
  from nw, counters k
  where c.user_id = nw.user_id and c.category = nw.category and k.raised
  returning 1
), user_counters as (
  update sm_user su
  set unread_count = su.unread_count - (nw.unread_count - k.unread), unseen_count = su.unseen_count - (nw.unseen_count - k.unseen),
      archived_count = su.archived_count + (k.archived - nw.archived_count)
  from nw, counters k
  where su.id = :userId::text and k.raised
  returning 1
)
select coalesce((
  select case when not k.raised then 0
    when :archived::boolean then k.archived - nw.archived_count
    when :read::boolean then nw.unread_count - k.unread
    else nw.unseen_count - k.unseen end
  from nw, counters k
), 0) - coalesce((select n from expired), 0) as n`);

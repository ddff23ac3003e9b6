/**
 * deleteMessages in one statement, in the two forms and with the shape of mark-read.ts (`p` the inputs,
 * `st` the user locked, nothing changed while `behind`, which a change to the user committed after the
 * statement's snapshot sets too). Returns behind, the ids deleted, and the
 * user's exact counts after. The user's counters and those of each category (`cat`) move together.
 */
import { statement } from '../statement.js';
import type { InboxCounts } from '../../../domain/message-store.js';

/** waitsForBroadcasts false (DELETE_MANY only): deletes even while behind, for retraction.ts's removal right after a catch-up. */
type Inputs = { userId: string; ids: string; waitsForBroadcasts: boolean };
/** `unread_ids`: those of the deleted that were unread (retraction's INBOX_DELETED). */
export type DeleteRow = InboxCounts & { behind: boolean; deleted: string[] | null; unread_ids: string[] | null };

export const DELETE_ONE = statement<Inputs, DeleteRow>(`
with p as (select :userId::text as user_id, :ids::jsonb as ids
), st as (
  select u.id, u.total_count, u.unread_count, u.unseen_count, u.archived_count, u.snoozed_count, u.seen_upto, u.read_upto, u.archived_upto,
         u.bcast_id < (select coalesce(max(id), 0) from sm_message where broadcast)
           or u.xmin <> (select s.xmin from sm_user s where s.id = u.id) as behind
  from sm_user u where u.id = (select user_id from p) for update
), go as (select id from st where not behind
), del as (
  delete from sm_delivery d
  where d.user_id = (select id from go) and d.message_id = (select (p.ids->>0)::bigint from p)
    and (d.expires_at is null or d.expires_at > now())
  returning d.message_id, d.read_at, d.seen_at, d.archived_at, d.snoozed_until, d.category
), cw as (
  -- The deleted deliveries' category watermarks, in their newest version (FOR SHARE), as st's.
  select c.category, c.seen_upto, c.read_upto, c.archived_upto from sm_category c
  where c.user_id = (select id from go) and c.category in (select category from del)
  for share
), dw as (
  select del.*, greatest((select seen_upto from st), coalesce(cw.seen_upto, 0)) as seen_upto,
    greatest((select read_upto from st), coalesce(cw.read_upto, 0)) as read_upto,
    greatest((select archived_upto from st), coalesce(cw.archived_upto, 0)) as archived_upto
  from del left join cw on cw.category = del.category
), cat as (
  update sm_category c
  set total_count = c.total_count - x.total, unread_count = c.unread_count - x.unread, unseen_count = c.unseen_count - x.unseen,
      archived_count = c.archived_count - x.archived, snoozed_count = c.snoozed_count - x.snoozed
  from (
    select category,
      count(*) filter (where snoozed_until is null) as total,
      count(*) filter (where snoozed_until is null and read_at is null and message_id > read_upto) as unread,
      count(*) filter (where snoozed_until is null and seen_at is null and read_at is null and message_id > seen_upto) as unseen,
      count(*) filter (where snoozed_until is null and (archived_at is not null or message_id <= archived_upto)) as archived,
      count(*) filter (where snoozed_until is not null) as snoozed
    from dw where category is not null group by category
  ) x
  where c.user_id = (select id from go) and c.category = x.category
  returning 1
), cnt as (
  update sm_user su
  set total_count = su.total_count - (select count(*) from dw where snoozed_until is null),
      unread_count = su.unread_count - (select count(*) from dw where snoozed_until is null and read_at is null and message_id > read_upto),
      unseen_count = su.unseen_count - (select count(*) from dw where snoozed_until is null and seen_at is null and read_at is null and message_id > seen_upto),
      archived_count = su.archived_count - (select count(*) from dw where snoozed_until is null and (archived_at is not null or message_id <= archived_upto)),
      snoozed_count = su.snoozed_count - (select count(*) from dw where snoozed_until is not null)
  where su.id = (select id from go) and exists (select 1 from del)
  returning su.total_count, su.unread_count, su.unseen_count, su.archived_count, su.snoozed_count
)
select coalesce((select behind from st), false) as behind,
  (select json_agg(message_id::text order by message_id) from del) as deleted,
  (select json_agg(message_id::text order by message_id) from dw where snoozed_until is null and read_at is null and message_id > read_upto) as unread_ids,
  coalesce((select total_count from cnt), (select total_count from st), 0) - coalesce(x.total, 0) as total,
  coalesce((select unread_count from cnt), (select unread_count from st), 0) - coalesce(x.unread, 0) as unread,
  coalesce((select unseen_count from cnt), (select unseen_count from st), 0) - coalesce(x.unseen, 0) as unseen,
  coalesce((select archived_count from cnt), (select archived_count from st), 0) - coalesce(x.archived, 0) as archived,
  coalesce((select snoozed_count from cnt), (select snoozed_count from st), 0) - coalesce(x.snoozed, 0) as snoozed
from (select 1) one
left join st s on true
left join lateral sm_expired(s.id, s.seen_upto, s.read_upto, s.archived_upto) x on true`);

export const DELETE_MANY = statement<Inputs, DeleteRow>(`
with p as (select :userId::text as user_id, :ids::jsonb as ids
), st as (
  select u.id, u.total_count, u.unread_count, u.unseen_count, u.archived_count, u.snoozed_count, u.seen_upto, u.read_upto, u.archived_upto,
         u.bcast_id < (select coalesce(max(id), 0) from sm_message where broadcast)
           or u.xmin <> (select s.xmin from sm_user s where s.id = u.id) as behind
  from sm_user u where u.id = (select user_id from p) for update
), go as (select id from st where not behind or not :waitsForBroadcasts::boolean
), del as (
  delete from sm_delivery d
  where d.user_id = (select id from go) and d.message_id = any(array(select value::bigint from p, jsonb_array_elements_text(p.ids)))
    and (d.expires_at is null or d.expires_at > now())
  returning d.message_id, d.read_at, d.seen_at, d.archived_at, d.snoozed_until, d.category
), cw as (
  -- The deleted deliveries' category watermarks, in their newest version (FOR SHARE), as st's.
  select c.category, c.seen_upto, c.read_upto, c.archived_upto from sm_category c
  where c.user_id = (select id from go) and c.category in (select category from del)
  for share
), dw as (
  select del.*, greatest((select seen_upto from st), coalesce(cw.seen_upto, 0)) as seen_upto,
    greatest((select read_upto from st), coalesce(cw.read_upto, 0)) as read_upto,
    greatest((select archived_upto from st), coalesce(cw.archived_upto, 0)) as archived_upto
  from del left join cw on cw.category = del.category
), cat as (
  update sm_category c
  set total_count = c.total_count - x.total, unread_count = c.unread_count - x.unread, unseen_count = c.unseen_count - x.unseen,
      archived_count = c.archived_count - x.archived, snoozed_count = c.snoozed_count - x.snoozed
  from (
    select category,
      count(*) filter (where snoozed_until is null) as total,
      count(*) filter (where snoozed_until is null and read_at is null and message_id > read_upto) as unread,
      count(*) filter (where snoozed_until is null and seen_at is null and read_at is null and message_id > seen_upto) as unseen,
      count(*) filter (where snoozed_until is null and (archived_at is not null or message_id <= archived_upto)) as archived,
      count(*) filter (where snoozed_until is not null) as snoozed
    from dw where category is not null group by category
  ) x
  where c.user_id = (select id from go) and c.category = x.category
  returning 1
), cnt as (
  update sm_user su
  set total_count = su.total_count - (select count(*) from dw where snoozed_until is null),
      unread_count = su.unread_count - (select count(*) from dw where snoozed_until is null and read_at is null and message_id > read_upto),
      unseen_count = su.unseen_count - (select count(*) from dw where snoozed_until is null and seen_at is null and read_at is null and message_id > seen_upto),
      archived_count = su.archived_count - (select count(*) from dw where snoozed_until is null and (archived_at is not null or message_id <= archived_upto)),
      snoozed_count = su.snoozed_count - (select count(*) from dw where snoozed_until is not null)
  where su.id = (select id from go) and exists (select 1 from del)
  returning su.total_count, su.unread_count, su.unseen_count, su.archived_count, su.snoozed_count
)
select coalesce((select behind from st), false) as behind,
  (select json_agg(message_id::text order by message_id) from del) as deleted,
  (select json_agg(message_id::text order by message_id) from dw where snoozed_until is null and read_at is null and message_id > read_upto) as unread_ids,
  coalesce((select total_count from cnt), (select total_count from st), 0) - coalesce(x.total, 0) as total,
  coalesce((select unread_count from cnt), (select unread_count from st), 0) - coalesce(x.unread, 0) as unread,
  coalesce((select unseen_count from cnt), (select unseen_count from st), 0) - coalesce(x.unseen, 0) as unseen,
  coalesce((select archived_count from cnt), (select archived_count from st), 0) - coalesce(x.archived, 0) as archived,
  coalesce((select snoozed_count from cnt), (select snoozed_count from st), 0) - coalesce(x.snoozed, 0) as snoozed
from (select 1) one
left join st s on true
left join lateral sm_expired(s.id, s.seen_upto, s.read_upto, s.archived_upto) x on true`);

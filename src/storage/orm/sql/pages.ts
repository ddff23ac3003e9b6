/**
 * One keyset page of a user's deliveries in one statement, with the user's state as a row of its own
 * (the message columns null; no such row: an unknown user): their exact counts, whether broadcasts
 * wait to be copied to them (`behind`), and, past a cursor, whether anything lies before it (`before`,
 * an uncorrelated subquery evaluated once). The page's rows carry only messages. The watermarks come
 * from `st`, evaluated once, not a join looked up again for each row under a generic plan.
 * Four statements: the inbox (unread, not snoozed: its partial index) or all that are not snoozed with
 * the state filters (snoozed ones: pages-snoozed.ts), newest first (`after` a cursor) or oldest first
 * (`before` it). :cursor null starts at the end; :levels (a JSON list), :since and :until null do not
 * filter; :read, :seen, :archived null take both. A filter for what a watermark covers not (read, seen
 * or archived false) starts the scan at that watermark (`lo`). A delivery's watermarks are its user's
 * and its category's (sm_cat_upto): the user's bound the scans, the category's filter.
 */
import type { InboxCounts } from '../../../domain/message-store.js';
import { statement, type Statement } from '../statement.js';
import type { MessageRow } from '../reads.js';

export type PageRow = MessageRow | ({ id: null; behind: boolean; before: boolean | null } & InboxCounts);
type Filters = { userId: string; cursor: string | null; levels: string | null; categories: string | null; since: Date | null; until: Date | null; limit: number; seen: boolean | null; archived: boolean | null };

export const INBOX_NEWEST_FIRST = statement<Filters, PageRow>(`
with st as (
  select u.total_count - x.total as total, u.unread_count - x.unread as unread, u.unseen_count - x.unseen as unseen,
         u.archived_count - x.archived as archived, u.snoozed_count - x.snoozed as snoozed,
         u.bcast_id < (select coalesce(max(id), 0) from sm_message where broadcast) as behind,
         u.seen_upto, u.read_upto, u.archived_upto
  from sm_user u cross join lateral sm_expired(u.id, u.seen_upto, u.read_upto, u.archived_upto) x
  where u.id = :userId
)
select st.total, st.unread, st.unseen, st.archived, st.snoozed, st.behind,
  (:cursor::bigint is not null and exists (
    select 1 from sm_delivery d
    where d.user_id = :userId and (d.expires_at is null or d.expires_at > now())
      and d.read_at is null and d.snoozed_until is null and d.message_id > (select read_upto from st)
      and d.message_id > sm_cat_upto(d.user_id, d.category, 'read')
      and (:seen::boolean is null or (d.seen_at is not null or d.message_id <= greatest((select seen_upto from st), sm_cat_upto(d.user_id, d.category, 'seen'))) = :seen::boolean)
      and :archived::boolean is not true
      and (:levels::jsonb is null or d.level in (select value::int from jsonb_array_elements_text(:levels::jsonb)))
      and (:categories::jsonb is null or d.category in (select value from jsonb_array_elements_text(:categories::jsonb)))
      and (:since::timestamptz is null or d.created_at >= :since::timestamptz)
      and (:until::timestamptz is null or d.created_at <= :until::timestamptz)
      and d.message_id >= :cursor::bigint
  )) as before,
  null as id, null as read_at, null as seen_at, null as archived_at, null as snoozed_until,
  null as level, null as text, null as extra_tags, null as url, null as data, null as created_at, null as expires_at, null as category, null as group_key, null as group_count
from st
union all
(select null, null, null, null, null, null, null,
   d.message_id::text as id, t.read_at, t.seen_at, t.archived_at, d.snoozed_until,
   m.level, m.text, m.extra_tags, m.url, m.data, m.created_at, m.expires_at, d.category, d.group_key, d.group_count
 from sm_delivery d join sm_message m on m.id = d.message_id
 cross join st w cross join lateral sm_times(d, w.seen_upto, w.read_upto, w.archived_upto) t
 where d.user_id = :userId and (d.expires_at is null or d.expires_at > now())
   and d.read_at is null and d.snoozed_until is null and d.message_id > (select read_upto from st)
   and d.message_id > sm_cat_upto(d.user_id, d.category, 'read')
   and (:seen::boolean is null or (d.seen_at is not null or d.message_id <= greatest((select seen_upto from st), sm_cat_upto(d.user_id, d.category, 'seen'))) = :seen::boolean)
   and :archived::boolean is not true
   and (:levels::jsonb is null or d.level in (select value::int from jsonb_array_elements_text(:levels::jsonb)))
   and (:categories::jsonb is null or d.category in (select value from jsonb_array_elements_text(:categories::jsonb)))
   and (:since::timestamptz is null or d.created_at >= :since::timestamptz)
   and (:until::timestamptz is null or d.created_at <= :until::timestamptz)
   and d.message_id < coalesce(:cursor::bigint, 9223372036854775807)
 order by d.message_id desc
 limit :limit)`);

export const INBOX_OLDEST_FIRST = statement<Filters, PageRow>(`
with st as (
  select u.total_count - x.total as total, u.unread_count - x.unread as unread, u.unseen_count - x.unseen as unseen,
         u.archived_count - x.archived as archived, u.snoozed_count - x.snoozed as snoozed,
         u.bcast_id < (select coalesce(max(id), 0) from sm_message where broadcast) as behind,
         u.seen_upto, u.read_upto, u.archived_upto
  from sm_user u cross join lateral sm_expired(u.id, u.seen_upto, u.read_upto, u.archived_upto) x
  where u.id = :userId
)
select st.total, st.unread, st.unseen, st.archived, st.snoozed, st.behind,
  (:cursor::bigint is not null and exists (
    select 1 from sm_delivery d
    where d.user_id = :userId and (d.expires_at is null or d.expires_at > now())
      and d.read_at is null and d.snoozed_until is null and d.message_id > (select read_upto from st)
      and d.message_id > sm_cat_upto(d.user_id, d.category, 'read')
      and (:seen::boolean is null or (d.seen_at is not null or d.message_id <= greatest((select seen_upto from st), sm_cat_upto(d.user_id, d.category, 'seen'))) = :seen::boolean)
      and :archived::boolean is not true
      and (:levels::jsonb is null or d.level in (select value::int from jsonb_array_elements_text(:levels::jsonb)))
      and (:categories::jsonb is null or d.category in (select value from jsonb_array_elements_text(:categories::jsonb)))
      and (:since::timestamptz is null or d.created_at >= :since::timestamptz)
      and (:until::timestamptz is null or d.created_at <= :until::timestamptz)
      and d.message_id <= :cursor::bigint
  )) as before,
  null as id, null as read_at, null as seen_at, null as archived_at, null as snoozed_until,
  null as level, null as text, null as extra_tags, null as url, null as data, null as created_at, null as expires_at, null as category, null as group_key, null as group_count
from st
union all
(select null, null, null, null, null, null, null,
   d.message_id::text as id, t.read_at, t.seen_at, t.archived_at, d.snoozed_until,
   m.level, m.text, m.extra_tags, m.url, m.data, m.created_at, m.expires_at, d.category, d.group_key, d.group_count
 from sm_delivery d join sm_message m on m.id = d.message_id
 cross join st w cross join lateral sm_times(d, w.seen_upto, w.read_upto, w.archived_upto) t
 where d.user_id = :userId and (d.expires_at is null or d.expires_at > now())
   and d.read_at is null and d.snoozed_until is null and d.message_id > (select read_upto from st)
   and d.message_id > sm_cat_upto(d.user_id, d.category, 'read')
   and (:seen::boolean is null or (d.seen_at is not null or d.message_id <= greatest((select seen_upto from st), sm_cat_upto(d.user_id, d.category, 'seen'))) = :seen::boolean)
   and :archived::boolean is not true
   and (:levels::jsonb is null or d.level in (select value::int from jsonb_array_elements_text(:levels::jsonb)))
   and (:categories::jsonb is null or d.category in (select value from jsonb_array_elements_text(:categories::jsonb)))
   and (:since::timestamptz is null or d.created_at >= :since::timestamptz)
   and (:until::timestamptz is null or d.created_at <= :until::timestamptz)
   and d.message_id > coalesce(:cursor::bigint, 0)
 order by d.message_id asc
 limit :limit)`);

export const ALL_NEWEST_FIRST = statement<Filters & { read: boolean | null }, PageRow>(`
with st as (
  select u.total_count - x.total as total, u.unread_count - x.unread as unread, u.unseen_count - x.unseen as unseen,
         u.archived_count - x.archived as archived, u.snoozed_count - x.snoozed as snoozed,
         u.bcast_id < (select coalesce(max(id), 0) from sm_message where broadcast) as behind,
         u.seen_upto, u.read_upto, u.archived_upto,
         greatest(
           case when :read::boolean is false then u.read_upto else 0 end,
           case when :seen::boolean is false then u.seen_upto else 0 end,
           case when :archived::boolean is false then u.archived_upto else 0 end) as lo
  from sm_user u cross join lateral sm_expired(u.id, u.seen_upto, u.read_upto, u.archived_upto) x
  where u.id = :userId
)
select st.total, st.unread, st.unseen, st.archived, st.snoozed, st.behind,
  (:cursor::bigint is not null and exists (
    select 1 from sm_delivery d
    where d.user_id = :userId and (d.expires_at is null or d.expires_at > now())
      and d.snoozed_until is null and d.message_id > (select lo from st)
      and (:read::boolean is null or (d.read_at is not null or d.message_id <= greatest((select read_upto from st), sm_cat_upto(d.user_id, d.category, 'read'))) = :read::boolean)
      and (:seen::boolean is null or (d.seen_at is not null or d.read_at is not null or d.message_id <= greatest((select seen_upto from st), sm_cat_upto(d.user_id, d.category, 'seen'))) = :seen::boolean)
      and (:archived::boolean is null or (d.archived_at is not null or d.message_id <= greatest((select archived_upto from st), sm_cat_upto(d.user_id, d.category, 'archived'))) = :archived::boolean)
      and (:levels::jsonb is null or d.level in (select value::int from jsonb_array_elements_text(:levels::jsonb)))
      and (:categories::jsonb is null or d.category in (select value from jsonb_array_elements_text(:categories::jsonb)))
      and (:since::timestamptz is null or d.created_at >= :since::timestamptz)
      and (:until::timestamptz is null or d.created_at <= :until::timestamptz)
      and d.message_id >= :cursor::bigint
  )) as before,
  null as id, null as read_at, null as seen_at, null as archived_at, null as snoozed_until,
  null as level, null as text, null as extra_tags, null as url, null as data, null as created_at, null as expires_at, null as category, null as group_key, null as group_count
from st
union all
(select null, null, null, null, null, null, null,
   d.message_id::text as id, t.read_at, t.seen_at, t.archived_at, d.snoozed_until,
   m.level, m.text, m.extra_tags, m.url, m.data, m.created_at, m.expires_at, d.category, d.group_key, d.group_count
 from sm_delivery d join sm_message m on m.id = d.message_id
 cross join st w cross join lateral sm_times(d, w.seen_upto, w.read_upto, w.archived_upto) t
 where d.user_id = :userId and (d.expires_at is null or d.expires_at > now())
   and d.snoozed_until is null and d.message_id > (select lo from st)
   and (:read::boolean is null or (d.read_at is not null or d.message_id <= greatest((select read_upto from st), sm_cat_upto(d.user_id, d.category, 'read'))) = :read::boolean)
   and (:seen::boolean is null or (d.seen_at is not null or d.read_at is not null or d.message_id <= greatest((select seen_upto from st), sm_cat_upto(d.user_id, d.category, 'seen'))) = :seen::boolean)
   and (:archived::boolean is null or (d.archived_at is not null or d.message_id <= greatest((select archived_upto from st), sm_cat_upto(d.user_id, d.category, 'archived'))) = :archived::boolean)
   and (:levels::jsonb is null or d.level in (select value::int from jsonb_array_elements_text(:levels::jsonb)))
   and (:categories::jsonb is null or d.category in (select value from jsonb_array_elements_text(:categories::jsonb)))
   and (:since::timestamptz is null or d.created_at >= :since::timestamptz)
   and (:until::timestamptz is null or d.created_at <= :until::timestamptz)
   and d.message_id < coalesce(:cursor::bigint, 9223372036854775807)
 order by d.message_id desc
 limit :limit)`);

export const ALL_OLDEST_FIRST = statement<Filters & { read: boolean | null }, PageRow>(`
with st as (
  select u.total_count - x.total as total, u.unread_count - x.unread as unread, u.unseen_count - x.unseen as unseen,
         u.archived_count - x.archived as archived, u.snoozed_count - x.snoozed as snoozed,
         u.bcast_id < (select coalesce(max(id), 0) from sm_message where broadcast) as behind,
         u.seen_upto, u.read_upto, u.archived_upto,
         greatest(
           case when :read::boolean is false then u.read_upto else 0 end,
           case when :seen::boolean is false then u.seen_upto else 0 end,
           case when :archived::boolean is false then u.archived_upto else 0 end) as lo
  from sm_user u cross join lateral sm_expired(u.id, u.seen_upto, u.read_upto, u.archived_upto) x
  where u.id = :userId
)
select st.total, st.unread, st.unseen, st.archived, st.snoozed, st.behind,
  (:cursor::bigint is not null and exists (
    select 1 from sm_delivery d
    where d.user_id = :userId and (d.expires_at is null or d.expires_at > now())
      and d.snoozed_until is null and d.message_id > (select lo from st)
      and (:read::boolean is null or (d.read_at is not null or d.message_id <= greatest((select read_upto from st), sm_cat_upto(d.user_id, d.category, 'read'))) = :read::boolean)
      and (:seen::boolean is null or (d.seen_at is not null or d.read_at is not null or d.message_id <= greatest((select seen_upto from st), sm_cat_upto(d.user_id, d.category, 'seen'))) = :seen::boolean)
      and (:archived::boolean is null or (d.archived_at is not null or d.message_id <= greatest((select archived_upto from st), sm_cat_upto(d.user_id, d.category, 'archived'))) = :archived::boolean)
      and (:levels::jsonb is null or d.level in (select value::int from jsonb_array_elements_text(:levels::jsonb)))
      and (:categories::jsonb is null or d.category in (select value from jsonb_array_elements_text(:categories::jsonb)))
      and (:since::timestamptz is null or d.created_at >= :since::timestamptz)
      and (:until::timestamptz is null or d.created_at <= :until::timestamptz)
      and d.message_id <= :cursor::bigint
  )) as before,
  null as id, null as read_at, null as seen_at, null as archived_at, null as snoozed_until,
  null as level, null as text, null as extra_tags, null as url, null as data, null as created_at, null as expires_at, null as category, null as group_key, null as group_count
from st
union all
(select null, null, null, null, null, null, null,
   d.message_id::text as id, t.read_at, t.seen_at, t.archived_at, d.snoozed_until,
   m.level, m.text, m.extra_tags, m.url, m.data, m.created_at, m.expires_at, d.category, d.group_key, d.group_count
 from sm_delivery d join sm_message m on m.id = d.message_id
 cross join st w cross join lateral sm_times(d, w.seen_upto, w.read_upto, w.archived_upto) t
 where d.user_id = :userId and (d.expires_at is null or d.expires_at > now())
   and d.snoozed_until is null and d.message_id > (select lo from st)
   and (:read::boolean is null or (d.read_at is not null or d.message_id <= greatest((select read_upto from st), sm_cat_upto(d.user_id, d.category, 'read'))) = :read::boolean)
   and (:seen::boolean is null or (d.seen_at is not null or d.read_at is not null or d.message_id <= greatest((select seen_upto from st), sm_cat_upto(d.user_id, d.category, 'seen'))) = :seen::boolean)
   and (:archived::boolean is null or (d.archived_at is not null or d.message_id <= greatest((select archived_upto from st), sm_cat_upto(d.user_id, d.category, 'archived'))) = :archived::boolean)
   and (:levels::jsonb is null or d.level in (select value::int from jsonb_array_elements_text(:levels::jsonb)))
   and (:categories::jsonb is null or d.category in (select value from jsonb_array_elements_text(:categories::jsonb)))
   and (:since::timestamptz is null or d.created_at >= :since::timestamptz)
   and (:until::timestamptz is null or d.created_at <= :until::timestamptz)
   and d.message_id > coalesce(:cursor::bigint, 0)
 order by d.message_id asc
 limit :limit)`);

/** A page statement's `before` column: the subquery for what lies before the cursor. */
const BEFORE = /\(:cursor::bigint is not null and exists \([\s\S]*?\n {2}\)\) as before/;

/**
 * A page statement without a cursor: the same text with `false as before` (nothing lies before the
 * start). PostgreSQL keeps a prepared statement's generic plan only while it is estimated no costlier
 * than planning for each input; the estimate of that subquery, which never runs without a cursor, made
 * every first page planned again, which cost about as much as running it.
 */
export function fromStart<P, R>(page: Statement<P, R>): Statement<P, R> {
  if (!BEFORE.test(page.source)) throw new Error('a page statement without its `before` subquery');
  return statement<P, R>(page.source.replace(BEFORE, 'false as before'));
}

/**
 * Pages of the user's snoozed deliveries (`filter.snoozed: true`), with the shape of pages.ts: through the
 * partial index of snoozed deliveries, so a user with none reads none. A snoozed delivery ignores the
 * watermarks: its own times are its states.
 */
import { statement } from '../statement.js';
import type { PageRow } from './pages.js';

type Filters = { userId: string; cursor: string | null; levels: string | null; categories: string | null; since: Date | null; until: Date | null; limit: number; read: boolean | null; seen: boolean | null; archived: boolean | null };

export const SNOOZED_NEWEST_FIRST = statement<Filters, PageRow>(`
with st as (
  select u.total_count - x.total as total, u.unread_count - x.unread as unread, u.unseen_count - x.unseen as unseen,
         u.archived_count - x.archived as archived, u.snoozed_count - x.snoozed as snoozed,
         u.bcast_id < (select coalesce(max(id), 0) from sm_message where broadcast) as behind
  from sm_user u cross join lateral sm_expired(u.id, u.seen_upto, u.read_upto, u.archived_upto) x
  where u.id = :userId
)
select st.total, st.unread, st.unseen, st.archived, st.snoozed, st.behind,
  (:cursor::bigint is not null and exists (
    select 1 from sm_delivery d
    where d.user_id = :userId and (d.expires_at is null or d.expires_at > now())
      and d.snoozed_until is not null
      and (:read::boolean is null or (d.read_at is not null) = :read::boolean)
      and (:seen::boolean is null or (d.seen_at is not null or d.read_at is not null) = :seen::boolean)
      and (:archived::boolean is null or (d.archived_at is not null) = :archived::boolean)
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
   d.message_id::text as id, d.read_at, least(d.seen_at, d.read_at), d.archived_at, d.snoozed_until,
   m.level, m.text, m.extra_tags, m.url, m.data, m.created_at, m.expires_at, d.category, d.group_key, d.group_count
 from sm_delivery d join sm_message m on m.id = d.message_id
 where d.user_id = :userId and (d.expires_at is null or d.expires_at > now())
   and d.snoozed_until is not null
   and (:read::boolean is null or (d.read_at is not null) = :read::boolean)
   and (:seen::boolean is null or (d.seen_at is not null or d.read_at is not null) = :seen::boolean)
   and (:archived::boolean is null or (d.archived_at is not null) = :archived::boolean)
   and (:levels::jsonb is null or d.level in (select value::int from jsonb_array_elements_text(:levels::jsonb)))
   and (:categories::jsonb is null or d.category in (select value from jsonb_array_elements_text(:categories::jsonb)))
   and (:since::timestamptz is null or d.created_at >= :since::timestamptz)
   and (:until::timestamptz is null or d.created_at <= :until::timestamptz)
   and d.message_id < coalesce(:cursor::bigint, 9223372036854775807)
 order by d.message_id desc
 limit :limit)`);

export const SNOOZED_OLDEST_FIRST = statement<Filters, PageRow>(`
with st as (
  select u.total_count - x.total as total, u.unread_count - x.unread as unread, u.unseen_count - x.unseen as unseen,
         u.archived_count - x.archived as archived, u.snoozed_count - x.snoozed as snoozed,
         u.bcast_id < (select coalesce(max(id), 0) from sm_message where broadcast) as behind
  from sm_user u cross join lateral sm_expired(u.id, u.seen_upto, u.read_upto, u.archived_upto) x
  where u.id = :userId
)
select st.total, st.unread, st.unseen, st.archived, st.snoozed, st.behind,
  (:cursor::bigint is not null and exists (
    select 1 from sm_delivery d
    where d.user_id = :userId and (d.expires_at is null or d.expires_at > now())
      and d.snoozed_until is not null
      and (:read::boolean is null or (d.read_at is not null) = :read::boolean)
      and (:seen::boolean is null or (d.seen_at is not null or d.read_at is not null) = :seen::boolean)
      and (:archived::boolean is null or (d.archived_at is not null) = :archived::boolean)
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
   d.message_id::text as id, d.read_at, least(d.seen_at, d.read_at), d.archived_at, d.snoozed_until,
   m.level, m.text, m.extra_tags, m.url, m.data, m.created_at, m.expires_at, d.category, d.group_key, d.group_count
 from sm_delivery d join sm_message m on m.id = d.message_id
 where d.user_id = :userId and (d.expires_at is null or d.expires_at > now())
   and d.snoozed_until is not null
   and (:read::boolean is null or (d.read_at is not null) = :read::boolean)
   and (:seen::boolean is null or (d.seen_at is not null or d.read_at is not null) = :seen::boolean)
   and (:archived::boolean is null or (d.archived_at is not null) = :archived::boolean)
   and (:levels::jsonb is null or d.level in (select value::int from jsonb_array_elements_text(:levels::jsonb)))
   and (:categories::jsonb is null or d.category in (select value from jsonb_array_elements_text(:categories::jsonb)))
   and (:since::timestamptz is null or d.created_at >= :since::timestamptz)
   and (:until::timestamptz is null or d.created_at <= :until::timestamptz)
   and d.message_id > coalesce(:cursor::bigint, 0)
 order by d.message_id asc
 limit :limit)`);

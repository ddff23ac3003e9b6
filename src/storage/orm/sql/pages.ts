/**
 * One keyset page of a user's deliveries in one statement, with the user's state as a row of its own
 * (the message columns null; no such row: an unknown user): their exact counters, whether broadcasts
 * wait to be copied to them (`behind`), and, past a cursor, whether anything lies before it (`before`,
 * an uncorrelated subquery evaluated once). The page's rows carry only messages. The read watermark
 * is a subquery evaluated once, not a join looked up again for each row under a generic plan.
 * Four statements: the inbox (unread: its partial index) or the archive (:readOnly keeps the read
 * ones), newest first (`after` a cursor) or oldest first (`before` it). :cursor null starts at the
 * end; :levels (a JSON list), :since and :until null do not filter.
 */
import { statement } from '../statement.js';
import type { MessageRow } from '../reads.js';

export type PageRow = MessageRow | ({ id: null; unread: number; total: number; behind: boolean; before: boolean | null });

export const INBOX_NEWEST_FIRST = statement<{ userId: string; cursor: string | null; levels: string | null; since: Date | null; until: Date | null; limit: number }, PageRow>(`
with st as (
  select u.unread_count - x.unread_expired as unread,
         u.total_count - x.total_expired as total,
         u.bcast_id < (select coalesce(max(id), 0) from sm_message where broadcast) as behind
  from sm_user u
  cross join lateral (
    select (count(*) filter (where e.read_at is null and e.message_id > u.read_upto))::int as unread_expired,
           count(*)::int as total_expired
    from (
      select e.read_at, e.message_id from sm_delivery e
      where e.user_id = u.id and e.expires_at <= now() order by e.expires_at offset 0
    ) e
  ) x
  where u.id = :userId
)
select st.unread, st.total, st.behind,
  (:cursor::bigint is not null and exists (
    select 1 from sm_delivery d
    where d.user_id = :userId and (d.expires_at is null or d.expires_at > now())
      and d.read_at is null and d.message_id > (select ru.read_upto from sm_user ru where ru.id = :userId)
      and (:levels::jsonb is null or d.level in (select value::int from jsonb_array_elements_text(:levels::jsonb)))
      and (:since::timestamptz is null or d.created_at >= :since::timestamptz)
      and (:until::timestamptz is null or d.created_at <= :until::timestamptz)
      and d.message_id >= :cursor::bigint
  )) as before,
  null as id, null as read_at, null as level, null as text, null as extra_tags, null as url, null as data, null as created_at, null as expires_at
from st
union all
(select null, null, null, null,
   d.message_id::text as id,
   coalesce(d.read_at, case when d.message_id <= (select ru.read_upto from sm_user ru where ru.id = :userId) then (
     select k.at from sm_read_mark k where k.user_id = d.user_id and k.upto >= d.message_id order by k.upto limit 1
   ) end) as read_at,
   m.level, m.text, m.extra_tags, m.url, m.data, m.created_at, m.expires_at
 from sm_delivery d join sm_message m on m.id = d.message_id
 where d.user_id = :userId and (d.expires_at is null or d.expires_at > now())
   and d.read_at is null and d.message_id > (select ru.read_upto from sm_user ru where ru.id = :userId)
   and (:levels::jsonb is null or d.level in (select value::int from jsonb_array_elements_text(:levels::jsonb)))
   and (:since::timestamptz is null or d.created_at >= :since::timestamptz)
   and (:until::timestamptz is null or d.created_at <= :until::timestamptz)
   and d.message_id < coalesce(:cursor::bigint, 9223372036854775807)
 order by d.message_id desc
 limit :limit)`);

export const INBOX_OLDEST_FIRST = statement<{ userId: string; cursor: string | null; levels: string | null; since: Date | null; until: Date | null; limit: number }, PageRow>(`
with st as (
  select u.unread_count - x.unread_expired as unread,
         u.total_count - x.total_expired as total,
         u.bcast_id < (select coalesce(max(id), 0) from sm_message where broadcast) as behind
  from sm_user u
  cross join lateral (
    select (count(*) filter (where e.read_at is null and e.message_id > u.read_upto))::int as unread_expired,
           count(*)::int as total_expired
    from (
      select e.read_at, e.message_id from sm_delivery e
      where e.user_id = u.id and e.expires_at <= now() order by e.expires_at offset 0
    ) e
  ) x
  where u.id = :userId
)
select st.unread, st.total, st.behind,
  (:cursor::bigint is not null and exists (
    select 1 from sm_delivery d
    where d.user_id = :userId and (d.expires_at is null or d.expires_at > now())
      and d.read_at is null and d.message_id > (select ru.read_upto from sm_user ru where ru.id = :userId)
      and (:levels::jsonb is null or d.level in (select value::int from jsonb_array_elements_text(:levels::jsonb)))
      and (:since::timestamptz is null or d.created_at >= :since::timestamptz)
      and (:until::timestamptz is null or d.created_at <= :until::timestamptz)
      and d.message_id <= :cursor::bigint
  )) as before,
  null as id, null as read_at, null as level, null as text, null as extra_tags, null as url, null as data, null as created_at, null as expires_at
from st
union all
(select null, null, null, null,
   d.message_id::text as id,
   coalesce(d.read_at, case when d.message_id <= (select ru.read_upto from sm_user ru where ru.id = :userId) then (
     select k.at from sm_read_mark k where k.user_id = d.user_id and k.upto >= d.message_id order by k.upto limit 1
   ) end) as read_at,
   m.level, m.text, m.extra_tags, m.url, m.data, m.created_at, m.expires_at
 from sm_delivery d join sm_message m on m.id = d.message_id
 where d.user_id = :userId and (d.expires_at is null or d.expires_at > now())
   and d.read_at is null and d.message_id > (select ru.read_upto from sm_user ru where ru.id = :userId)
   and (:levels::jsonb is null or d.level in (select value::int from jsonb_array_elements_text(:levels::jsonb)))
   and (:since::timestamptz is null or d.created_at >= :since::timestamptz)
   and (:until::timestamptz is null or d.created_at <= :until::timestamptz)
   and d.message_id > coalesce(:cursor::bigint, 0)
 order by d.message_id asc
 limit :limit)`);

export const ARCHIVE_NEWEST_FIRST = statement<{ userId: string; cursor: string | null; levels: string | null; since: Date | null; until: Date | null; limit: number; readOnly: boolean }, PageRow>(`
with st as (
  select u.unread_count - x.unread_expired as unread,
         u.total_count - x.total_expired as total,
         u.bcast_id < (select coalesce(max(id), 0) from sm_message where broadcast) as behind
  from sm_user u
  cross join lateral (
    select (count(*) filter (where e.read_at is null and e.message_id > u.read_upto))::int as unread_expired,
           count(*)::int as total_expired
    from (
      select e.read_at, e.message_id from sm_delivery e
      where e.user_id = u.id and e.expires_at <= now() order by e.expires_at offset 0
    ) e
  ) x
  where u.id = :userId
)
select st.unread, st.total, st.behind,
  (:cursor::bigint is not null and exists (
    select 1 from sm_delivery d
    where d.user_id = :userId and (d.expires_at is null or d.expires_at > now())
      and (not :readOnly::boolean or not (d.read_at is null and d.message_id > (select ru.read_upto from sm_user ru where ru.id = :userId)))
      and (:levels::jsonb is null or d.level in (select value::int from jsonb_array_elements_text(:levels::jsonb)))
      and (:since::timestamptz is null or d.created_at >= :since::timestamptz)
      and (:until::timestamptz is null or d.created_at <= :until::timestamptz)
      and d.message_id >= :cursor::bigint
  )) as before,
  null as id, null as read_at, null as level, null as text, null as extra_tags, null as url, null as data, null as created_at, null as expires_at
from st
union all
(select null, null, null, null,
   d.message_id::text as id,
   coalesce(d.read_at, case when d.message_id <= (select ru.read_upto from sm_user ru where ru.id = :userId) then (
     select k.at from sm_read_mark k where k.user_id = d.user_id and k.upto >= d.message_id order by k.upto limit 1
   ) end) as read_at,
   m.level, m.text, m.extra_tags, m.url, m.data, m.created_at, m.expires_at
 from sm_delivery d join sm_message m on m.id = d.message_id
 where d.user_id = :userId and (d.expires_at is null or d.expires_at > now())
   and (not :readOnly::boolean or not (d.read_at is null and d.message_id > (select ru.read_upto from sm_user ru where ru.id = :userId)))
   and (:levels::jsonb is null or d.level in (select value::int from jsonb_array_elements_text(:levels::jsonb)))
   and (:since::timestamptz is null or d.created_at >= :since::timestamptz)
   and (:until::timestamptz is null or d.created_at <= :until::timestamptz)
   and d.message_id < coalesce(:cursor::bigint, 9223372036854775807)
 order by d.message_id desc
 limit :limit)`);

export const ARCHIVE_OLDEST_FIRST = statement<{ userId: string; cursor: string | null; levels: string | null; since: Date | null; until: Date | null; limit: number; readOnly: boolean }, PageRow>(`
with st as (
  select u.unread_count - x.unread_expired as unread,
         u.total_count - x.total_expired as total,
         u.bcast_id < (select coalesce(max(id), 0) from sm_message where broadcast) as behind
  from sm_user u
  cross join lateral (
    select (count(*) filter (where e.read_at is null and e.message_id > u.read_upto))::int as unread_expired,
           count(*)::int as total_expired
    from (
      select e.read_at, e.message_id from sm_delivery e
      where e.user_id = u.id and e.expires_at <= now() order by e.expires_at offset 0
    ) e
  ) x
  where u.id = :userId
)
select st.unread, st.total, st.behind,
  (:cursor::bigint is not null and exists (
    select 1 from sm_delivery d
    where d.user_id = :userId and (d.expires_at is null or d.expires_at > now())
      and (not :readOnly::boolean or not (d.read_at is null and d.message_id > (select ru.read_upto from sm_user ru where ru.id = :userId)))
      and (:levels::jsonb is null or d.level in (select value::int from jsonb_array_elements_text(:levels::jsonb)))
      and (:since::timestamptz is null or d.created_at >= :since::timestamptz)
      and (:until::timestamptz is null or d.created_at <= :until::timestamptz)
      and d.message_id <= :cursor::bigint
  )) as before,
  null as id, null as read_at, null as level, null as text, null as extra_tags, null as url, null as data, null as created_at, null as expires_at
from st
union all
(select null, null, null, null,
   d.message_id::text as id,
   coalesce(d.read_at, case when d.message_id <= (select ru.read_upto from sm_user ru where ru.id = :userId) then (
     select k.at from sm_read_mark k where k.user_id = d.user_id and k.upto >= d.message_id order by k.upto limit 1
   ) end) as read_at,
   m.level, m.text, m.extra_tags, m.url, m.data, m.created_at, m.expires_at
 from sm_delivery d join sm_message m on m.id = d.message_id
 where d.user_id = :userId and (d.expires_at is null or d.expires_at > now())
   and (not :readOnly::boolean or not (d.read_at is null and d.message_id > (select ru.read_upto from sm_user ru where ru.id = :userId)))
   and (:levels::jsonb is null or d.level in (select value::int from jsonb_array_elements_text(:levels::jsonb)))
   and (:since::timestamptz is null or d.created_at >= :since::timestamptz)
   and (:until::timestamptz is null or d.created_at <= :until::timestamptz)
   and d.message_id > coalesce(:cursor::bigint, 0)
 order by d.message_id asc
 limit :limit)`);

/**
 * markRead and markUnread (:read true or false) in one statement, in two forms: the usual call names ONE message (an
 * equality on both columns of the primary key: one probe whatever the statistics say); several ids
 * go as `message_id = any(array(...))`, the array computed once (an `in (select ...)` would let the
 * planner hash-join the user's whole unread range).
 *
 * Shared shape: `p` holds the inputs; `st` locks the user's row, and FOR UPDATE hands back its newest
 * version, so a watermark a concurrent mark-all-read has just committed is the one used (no delivery
 * counted read twice). While the user has broadcasts not yet copied, NOTHING changes and `behind` comes
 * back true: the store copies them and runs the statement again, so a broadcast id is never wrongly "not
 * found". Each returns one row: behind, the ids changed, the user's exact unread count after (less their
 * expired unread), and the requested messages that are theirs and alive, with readAt after the change.
 * Marking unread runs with the user's requested deliveries above the watermark (the store lowers it
 * first, LOWER_READ_UPTO): a delivery the watermark covers cannot be unread alone.
 */
import { statement } from '../statement.js';
import type { MessageRow } from '../reads.js';

type Inputs = { userId: string; ids: string; read: boolean };
export type SetReadRow = { behind: boolean; changed: string[] | null; unread: number; messages: MessageRow[] | null };

export const SET_READ_ONE = statement<Inputs, SetReadRow>(`
with p as (select :userId::text as user_id, :ids::jsonb as ids
), st as (
  select u.id, u.unread_count, u.read_upto, u.bcast_id < (select coalesce(max(id), 0) from sm_message where broadcast) as behind
  from sm_user u where u.id = (select user_id from p) for update
), go as (select id from st where not behind
), upd as (
  update sm_delivery d set read_at = case when :read::boolean then now() end
  where d.user_id = (select id from go) and d.message_id = (select (p.ids->>0)::bigint from p)
    and d.message_id > (select read_upto from st) and (d.read_at is null) = :read::boolean and (d.expires_at is null or d.expires_at > now())
  returning d.message_id
), cnt as (
  update sm_user su set unread_count = su.unread_count + (case when :read::boolean then -1 else 1 end) * (select count(*) from upd)
  where su.id = (select id from go) and exists (select 1 from upd)
  returning su.unread_count
)
select coalesce((select behind from st), false) as behind,
  (select json_agg(message_id::text order by message_id) from upd) as changed,
  coalesce((select unread_count from cnt), (select unread_count from st), 0) - (
    select count(*) from (
      select e.read_at, e.message_id from sm_delivery e
      where e.user_id = (select user_id from p) and e.expires_at <= now() order by e.expires_at offset 0
    ) e
    where e.read_at is null and e.message_id > (select read_upto from st)
  )::int as unread,
  (select json_agg(json_build_object(
      'id', d.message_id::text,
      'read_at', case when d.message_id in (select message_id from upd) then case when :read::boolean then now() end else coalesce(d.read_at, case when d.message_id <= (select read_upto from st) then (
        select k.at from sm_read_mark k where k.user_id = d.user_id and k.upto >= d.message_id order by k.upto limit 1
      ) end) end,
      'level', m.level, 'text', m.text, 'extra_tags', m.extra_tags, 'url', m.url, 'data', m.data,
      'created_at', m.created_at, 'expires_at', m.expires_at))
    from sm_delivery d join sm_message m on m.id = d.message_id
    where d.user_id = (select user_id from p) and d.message_id = (select (p.ids->>0)::bigint from p)
      and (d.expires_at is null or d.expires_at > now())
  ) as messages`);

export const SET_READ_MANY = statement<Inputs, SetReadRow>(`
with p as (select :userId::text as user_id, :ids::jsonb as ids
), st as (
  select u.id, u.unread_count, u.read_upto, u.bcast_id < (select coalesce(max(id), 0) from sm_message where broadcast) as behind
  from sm_user u where u.id = (select user_id from p) for update
), go as (select id from st where not behind
), upd as (
  update sm_delivery d set read_at = case when :read::boolean then now() end
  where d.user_id = (select id from go) and d.message_id = any(array(select value::bigint from p, jsonb_array_elements_text(p.ids)))
    and d.message_id > (select read_upto from st) and (d.read_at is null) = :read::boolean and (d.expires_at is null or d.expires_at > now())
  returning d.message_id
), cnt as (
  update sm_user su set unread_count = su.unread_count + (case when :read::boolean then -1 else 1 end) * (select count(*) from upd)
  where su.id = (select id from go) and exists (select 1 from upd)
  returning su.unread_count
)
select coalesce((select behind from st), false) as behind,
  (select json_agg(message_id::text order by message_id) from upd) as changed,
  coalesce((select unread_count from cnt), (select unread_count from st), 0) - (
    select count(*) from (
      select e.read_at, e.message_id from sm_delivery e
      where e.user_id = (select user_id from p) and e.expires_at <= now() order by e.expires_at offset 0
    ) e
    where e.read_at is null and e.message_id > (select read_upto from st)
  )::int as unread,
  (select json_agg(json_build_object(
      'id', d.message_id::text,
      'read_at', case when d.message_id in (select message_id from upd) then case when :read::boolean then now() end else coalesce(d.read_at, case when d.message_id <= (select read_upto from st) then (
        select k.at from sm_read_mark k where k.user_id = d.user_id and k.upto >= d.message_id order by k.upto limit 1
      ) end) end,
      'level', m.level, 'text', m.text, 'extra_tags', m.extra_tags, 'url', m.url, 'data', m.data,
      'created_at', m.created_at, 'expires_at', m.expires_at))
    from sm_delivery d join sm_message m on m.id = d.message_id
    where d.user_id = (select user_id from p) and d.message_id = any(array(select value::bigint from p, jsonb_array_elements_text(p.ids)))
      and (d.expires_at is null or d.expires_at > now())
  ) as messages`);

/**
 * deleteMessages in one statement, in the two forms and with the shape of mark-read.ts (`p` the inputs,
 * `st` the user locked, nothing changed while `behind`). Returns behind, the ids deleted, and the
 * user's exact unread count after.
 */
import { statement } from '../statement.js';

type Inputs = { userId: string; ids: string };
export type DeleteRow = { behind: boolean; deleted: string[] | null; unread: number };

export const DELETE_ONE = statement<Inputs, DeleteRow>(`
with p as (select :userId::text as user_id, :ids::jsonb as ids
), st as (
  select u.id, u.unread_count, u.read_upto, u.bcast_id < (select coalesce(max(id), 0) from sm_message where broadcast) as behind
  from sm_user u where u.id = (select user_id from p) for update
), go as (select id from st where not behind
), del as (
  delete from sm_delivery d
  where d.user_id = (select id from go) and d.message_id = (select (p.ids->>0)::bigint from p)
    and (d.expires_at is null or d.expires_at > now())
  returning d.message_id, d.read_at
), cnt as (
  update sm_user su
  set unread_count = su.unread_count - (select count(*) from del where read_at is null and message_id > (select read_upto from st)),
      total_count = su.total_count - (select count(*) from del)
  where su.id = (select id from go) and exists (select 1 from del)
  returning su.unread_count
)
select coalesce((select behind from st), false) as behind,
  (select json_agg(message_id::text order by message_id) from del) as deleted,
  coalesce((select unread_count from cnt), (select unread_count from st), 0) - (
    select count(*) from (
      select e.read_at, e.message_id from sm_delivery e
      where e.user_id = (select user_id from p) and e.expires_at <= now() order by e.expires_at offset 0
    ) e
    where e.read_at is null and e.message_id > (select read_upto from st)
  )::int as unread`);

export const DELETE_MANY = statement<Inputs, DeleteRow>(`
with p as (select :userId::text as user_id, :ids::jsonb as ids
), st as (
  select u.id, u.unread_count, u.read_upto, u.bcast_id < (select coalesce(max(id), 0) from sm_message where broadcast) as behind
  from sm_user u where u.id = (select user_id from p) for update
), go as (select id from st where not behind
), del as (
  delete from sm_delivery d
  where d.user_id = (select id from go) and d.message_id = any(array(select value::bigint from p, jsonb_array_elements_text(p.ids)))
    and (d.expires_at is null or d.expires_at > now())
  returning d.message_id, d.read_at
), cnt as (
  update sm_user su
  set unread_count = su.unread_count - (select count(*) from del where read_at is null and message_id > (select read_upto from st)),
      total_count = su.total_count - (select count(*) from del)
  where su.id = (select id from go) and exists (select 1 from del)
  returning su.unread_count
)
select coalesce((select behind from st), false) as behind,
  (select json_agg(message_id::text order by message_id) from del) as deleted,
  coalesce((select unread_count from cnt), (select unread_count from st), 0) - (
    select count(*) from (
      select e.read_at, e.message_id from sm_delivery e
      where e.user_id = (select user_id from p) and e.expires_at <= now() order by e.expires_at offset 0
    ) e
    where e.read_at is null and e.message_id > (select read_upto from st)
  )::int as unread`);

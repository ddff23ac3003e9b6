import { Migration } from '@mikro-orm/migrations';

/**
 * markRead and markUnread of one message (src/storage/orm/sql/mark-read.ts) as a function, so that one
 * statement can run the markReads of many users that queued together (group commit, SET_READ_BATCH): the
 * statement as before, called once per request in the batch, which now also answers `behind` when the
 * user's lock waited for a change its snapshot predates (mark-read.ts).
 *
 * VOLATILE: each call reads with a snapshot of its own, taken when it starts, so a call sees what the
 * batch's earlier calls changed (two markReads of one user in one batch count as two in a row).
 * PL/pgSQL keeps its plan between calls, as a prepared statement would (custom plans first, then the
 * generic one).
 *
 * And sm_expired_of, for SEND (src/storage/orm/sql/send.ts): what its recipients' counters still hold of
 * expired deliveries, read again once they are all locked, for those who have any. SEND's own snapshot
 * predates its wait for their locks, so a cleanup that reclaimed an expired message meanwhile (its
 * counters already lowered) was subtracted a second time from the count the send reported.
 */
export class Migration20261208150000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(SM_SET_READ_ONE);
    this.addSql(SM_EXPIRED_OF);
  }

  override async down(): Promise<void> {
    this.addSql(`drop function if exists sm_set_read_one(text, jsonb, boolean);`);
    this.addSql(`drop function if exists sm_expired_of(jsonb);`);
  }
}

/**
 * p_users: a JSON array of { id, seen_upto, read_upto, archived_upto }, users the caller has locked.
 * sm_expired of each, with a snapshot taken when it runs (VOLATILE); STRICT: null (nobody) returns nothing.
 */
const SM_EXPIRED_OF = `
create or replace function sm_expired_of(p_users jsonb)
returns table (user_id text, unread int, unseen int)
language plpgsql volatile strict as $fn$
#variable_conflict use_column
begin
  return query
  select g.id, e.unread, e.unseen
  from jsonb_to_recordset(p_users) as g(id text, seen_upto bigint, read_upto bigint, archived_upto bigint)
  cross join lateral sm_expired(g.id, g.seen_upto, g.read_upto, g.archived_upto) e;
end
$fn$;`;

/**
 * p_ids: a JSON array of one message id (as text). The row mark-read.ts documents: behind, the ids changed,
 * the user's exact counts after, and the requested message if it is theirs and alive, in its state after.
 */
const SM_SET_READ_ONE = `
create or replace function sm_set_read_one(p_user_id text, p_ids jsonb, p_read boolean)
returns table (behind boolean, changed json, total int, unread int, unseen int, archived int, snoozed int, messages json)
language plpgsql volatile as $fn$
#variable_conflict use_column
begin
  return query
with p as (select p_user_id as user_id, p_ids as ids
), st as (
  select u.id, u.total_count, u.unread_count, u.unseen_count, u.archived_count, u.snoozed_count, u.seen_upto, u.read_upto, u.archived_upto,
         u.bcast_id < (select coalesce(max(id), 0) from sm_message where broadcast)
           or u.xmin <> (select s.xmin from sm_user s where s.id = u.id) as behind
  from sm_user u where u.id = (select user_id from p) for update
), go as (select id from st where not behind
), old as (
  select d.message_id, d.seen_at, d.read_at, d.archived_at, d.snoozed_until, coalesce(c.seen_upto, 0) as category_seen_upto from sm_delivery d
  left join lateral (
    select c.seen_upto, c.read_upto from sm_category c where d.category is not null and c.user_id = d.user_id and c.category = d.category for share
  ) c on true
  where d.user_id = (select id from go) and d.message_id = (select (p.ids->>0)::bigint from p)
    and (d.message_id > greatest((select read_upto from st), coalesce(c.read_upto, 0)) or d.snoozed_until is not null)
    and (d.read_at is null) = p_read and (d.expires_at is null or d.expires_at > now())
), upd as (
  update sm_delivery d
  set read_at = case when p_read then now() end,
      seen_at = case when p_read then d.seen_at else least(d.seen_at, d.read_at) end,
      archived_at = case when p_read then d.archived_at end
  from old
  where d.user_id = (select id from go) and d.message_id = old.message_id and (d.read_at is null) = p_read
  returning d.message_id, d.read_at, d.seen_at, d.archived_at, d.snoozed_until, d.category,
    d.snoozed_until is null and d.seen_at is null and d.message_id > greatest((select seen_upto from st), old.category_seen_upto) as was_unseen,
    old.snoozed_until is null and old.archived_at is not null as was_archived
), cat as (
  update sm_category c
  set unread_count = c.unread_count + (case when p_read then -1 else 1 end) * x.unread,
      unseen_count = c.unseen_count - x.unseen, archived_count = c.archived_count - x.archived
  from (
    select category, count(*) filter (where snoozed_until is null) as unread, count(*) filter (where p_read and was_unseen) as unseen,
      count(*) filter (where not p_read and was_archived) as archived
    from upd where category is not null group by category
  ) x
  where c.user_id = (select id from go) and c.category = x.category
  returning 1
), cnt as (
  update sm_user su
  set unread_count = su.unread_count + (case when p_read then -1 else 1 end) * (select count(*) from upd where snoozed_until is null),
      unseen_count = su.unseen_count - (select count(*) from upd where p_read and was_unseen),
      archived_count = su.archived_count - (select count(*) from upd where not p_read and was_archived)
  where su.id = (select id from go) and exists (select 1 from upd)
  returning su.total_count, su.unread_count, su.unseen_count, su.archived_count, su.snoozed_count
)
select coalesce((select behind from st), false) as behind,
  (select json_agg(message_id::text order by message_id) from upd) as changed,
  coalesce((select total_count from cnt), (select total_count from st), 0) - coalesce(x.total, 0) as total,
  coalesce((select unread_count from cnt), (select unread_count from st), 0) - coalesce(x.unread, 0) as unread,
  coalesce((select unseen_count from cnt), (select unseen_count from st), 0) - coalesce(x.unseen, 0) as unseen,
  coalesce((select archived_count from cnt), (select archived_count from st), 0) - coalesce(x.archived, 0) as archived,
  coalesce((select snoozed_count from cnt), (select snoozed_count from st), 0) - coalesce(x.snoozed, 0) as snoozed,
  (select json_agg(json_build_object(
      'id', d.message_id::text,
      'read_at', case when u.message_id is null then t.read_at else u.read_at end,
      'seen_at', case when u.message_id is null then t.seen_at else least(u.seen_at, u.read_at) end,
      'archived_at', case when u.message_id is null then t.archived_at else u.archived_at end,
      'snoozed_until', d.snoozed_until,
      'level', m.level, 'text', m.text, 'extra_tags', m.extra_tags, 'url', m.url, 'data', m.data,
      'created_at', m.created_at, 'expires_at', m.expires_at,
      'category', d.category, 'group_key', d.group_key, 'group_count', d.group_count))
    from sm_delivery d join sm_message m on m.id = d.message_id left join upd u on u.message_id = d.message_id
    cross join st w cross join lateral sm_times(d, w.seen_upto, w.read_upto, w.archived_upto) t
    where d.user_id = (select user_id from p) and d.message_id = (select (p.ids->>0)::bigint from p)
      and (d.expires_at is null or d.expires_at > now())
  ) as messages
from (select 1) one
left join st s on true
left join lateral sm_expired(s.id, s.seen_upto, s.read_upto, s.archived_upto) x on true;
end
$fn$;`;

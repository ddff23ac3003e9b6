/**
 * markRead and markUnread (:read true or false) in one statement, in two forms: the usual call names ONE message (an
 * equality on both columns of the primary key: one probe whatever the statistics say; a function of the
 * migrations, sm_set_read_one, so that markReads queued together run as one statement); several ids
 * go as `message_id = any(array(...))`, the array computed once (an `in (select ...)` would let the
 * planner hash-join the user's whole unread range).
 *
 * Shared shape: `p` holds the inputs; `st` locks the user's row, and FOR UPDATE hands back its newest
 * version, so a watermark a concurrent mark-all-read has just committed is the one used (no delivery
 * counted read twice; the update re-checks each row's read state on its newest version). While the user
 * has broadcasts not yet copied, NOTHING changes and `behind` comes back true: the store copies them and
 * runs the statement again, so a broadcast id is never wrongly "not found". The same when a change to the
 * user committed after the statement's snapshot (the lock waited for it: their row's newest version is
 * not the one the snapshot sees): what it reads of their deliveries may predate that change (a broadcast
 * it copied, a message it marked), so the store runs it again, the user locked first. Each returns one row: behind,
 * the ids changed, the user's exact counts after (less their expired ones), and the requested messages
 * that are theirs and alive, in their state after the change. Reading marks seen (seenAt: the earlier of
 * seen and read); unreading keeps it seen (its read time becomes its seen time if it had none) and
 * unarchives. Marking unread runs in a transaction holding the user's lock, with the requested
 * deliveries above the read and archived watermarks (the store lowers them first, LOWER_UPTO), so `old`
 * reads what the lock holder committed; marking read, which takes no lock first, judges seen on the row it
 * updated (its newest version: `old` may predate a markSeen the lock waited for). `cat` keeps the
 * category counters (sm_category) as `cnt` keeps the user's; the category's watermarks are read FOR
 * SHARE, which hands back their newest version too (a category's "all" operation may have just committed).
 */
import { statement } from '../statement.js';
import type { InboxCounts } from '../../../domain/message-store.js';
import type { MessageRow } from '../reads.js';

type Inputs = { userId: string; ids: string; read: boolean };
export type SetReadRow = InboxCounts & { behind: boolean; changed: string[] | null; messages: MessageRow[] | null };

/** One message: the function of Migration20261208150000, whose body is SET_READ_MANY's statement for one id, by equality. */
export const SET_READ_ONE = statement<Inputs, SetReadRow>(`
select r.behind, r.changed, r.total, r.unread, r.unseen, r.archived, r.snoozed, r.messages from sm_set_read_one(:userId, :ids::jsonb, :read) r`);

/**
 * markRead of one message each, for the requests that queued together (group commit): one call of the
 * function per request, in one statement and one commit. :batch is a JSON array of { u: user id, i: [id] };
 * the answer is one row per request, `n` its 1-based place. The calls go in user order (collate "C", as SEND
 * locks recipients) so that a batch and a send cannot deadlock, and in arrival order for one user.
 */
export const SET_READ_BATCH = statement<{ batch: string }, SetReadRow & { n: number }>(`
select b.n::int as n, r.behind, r.changed, r.total, r.unread, r.unseen, r.archived, r.snoozed, r.messages
from (
  select e.n, e.v->>'u' as user_id, e.v->'i' as ids from jsonb_array_elements(:batch::jsonb) with ordinality as e(v, n)
  order by e.v->>'u' collate "C", e.n
) b
cross join lateral sm_set_read_one(b.user_id, b.ids, true) r`);

export const SET_READ_MANY = statement<Inputs, SetReadRow>(`
with p as (select :userId::text as user_id, :ids::jsonb as ids
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
  where d.user_id = (select id from go) and d.message_id = any(array(select value::bigint from p, jsonb_array_elements_text(p.ids)))
    and (d.message_id > greatest((select read_upto from st), coalesce(c.read_upto, 0)) or d.snoozed_until is not null)
    and (d.read_at is null) = :read::boolean and (d.expires_at is null or d.expires_at > now())
), upd as (
  update sm_delivery d
  set read_at = case when :read::boolean then now() end,
      seen_at = case when :read::boolean then d.seen_at else least(d.seen_at, d.read_at) end,
      archived_at = case when :read::boolean then d.archived_at end
  from old
  where d.user_id = (select id from go) and d.message_id = old.message_id and (d.read_at is null) = :read::boolean
  returning d.message_id, d.read_at, d.seen_at, d.archived_at, d.snoozed_until, d.category,
    d.snoozed_until is null and d.seen_at is null and d.message_id > greatest((select seen_upto from st), old.category_seen_upto) as was_unseen,
    old.snoozed_until is null and old.archived_at is not null as was_archived
), cat as (
  update sm_category c
  set unread_count = c.unread_count + (case when :read::boolean then -1 else 1 end) * x.unread,
      unseen_count = c.unseen_count - x.unseen, archived_count = c.archived_count - x.archived
  from (
    select category, count(*) filter (where snoozed_until is null) as unread, count(*) filter (where :read::boolean and was_unseen) as unseen,
      count(*) filter (where not :read::boolean and was_archived) as archived
    from upd where category is not null group by category
  ) x
  where c.user_id = (select id from go) and c.category = x.category
  returning 1
), cnt as (
  update sm_user su
  set unread_count = su.unread_count + (case when :read::boolean then -1 else 1 end) * (select count(*) from upd where snoozed_until is null),
      unseen_count = su.unseen_count - (select count(*) from upd where :read::boolean and was_unseen),
      archived_count = su.archived_count - (select count(*) from upd where not :read::boolean and was_archived)
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
    where d.user_id = (select user_id from p) and d.message_id = any(array(select value::bigint from p, jsonb_array_elements_text(p.ids)))
      and (d.expires_at is null or d.expires_at > now())
  ) as messages
from (select 1) one
left join st s on true
left join lateral sm_expired(s.id, s.seen_upto, s.read_upto, s.archived_upto) x on true`);

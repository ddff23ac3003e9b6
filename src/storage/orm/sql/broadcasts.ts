/**
 * Broadcasts: one sm_message row, copied into a user's deliveries on that user's next access
 * (CATCH_UP), and the watermarks lowered when a broadcast arrives below them (LOWER_UPTO, which
 * clearing one message's state under a watermark uses too).
 */
import { statement } from '../statement.js';

/** Serialises broadcasts, so their ids commit in order and a user's watermark never skips one. */
export const LOCK_BROADCASTS = statement<{ key: number }>(`select pg_advisory_xact_lock(:key)`);

export const INSERT_BROADCAST = statement<
  { level: number; text: string; extraTags: string; url: string | null; data: string | null; createdAt: Date; expiresAt: Date | null; category: string | null; critical: boolean },
  { id: string; delivered_at: string }
>(`
insert into sm_message (level, text, extra_tags, url, data, created_at, expires_at, broadcast, category, critical, recipient_count)
values (:level, :text, :extraTags, :url, :data::jsonb, :createdAt, :expiresAt, true, :category, :critical, (select known_users::int from sm_stats where id = 1))
returning id::text as id, delivered_at`);

/**
 * Delivers the broadcasts a set of users has not received yet (those of a category the user disabled
 * then are skipped for good, unless critical), and moves their watermark.
 * Locks the users' rows in a fixed order first, so concurrent catch-ups neither duplicate nor
 * resurrect a delivery the user deleted meanwhile (FOR UPDATE re-reads the newest watermark).
 * A broadcast that took its id before the user's last "all" operation but committed after it lies below
 * the seen watermark (the highest of the three; the user's or its category's): those users are left out and returned (user_id, first)
 * so the store lowers their watermarks below `first` (LOWER_UPTO) and runs this again, and the
 * broadcast arrives unread, unseen and unarchived.
 */
export const CATCH_UP = statement<{ userIds: string }, { user_id: string; first: string }>(`
with u as (
  select id, bcast_id, seen_upto from sm_user
  where id in (select value from jsonb_array_elements_text(:userIds::jsonb))
  order by id collate "C" for update
), top as (
  select coalesce(max(id), 0) as id from sm_message where broadcast
), pending as (
  select u.id as user_id, m.id as message_id, m.level, m.created_at, m.delivered_at, m.expires_at, m.category, u.seen_upto
  from u join sm_message m on m.broadcast and m.id > u.bcast_id
  where m.id <= (select id from top) and (m.expires_at is null or m.expires_at > now()) and not m.retracted and m.retracts is null
    and (m.category is null or m.critical
      or not exists (select 1 from sm_preference p where p.user_id = u.id and p.category = m.category and not p.enabled))
), blocked as (
  select user_id, min(message_id)::text as first from pending
  where message_id <= greatest(seen_upto, sm_cat_upto(user_id, category, 'seen')) group by user_id
), ins as (
  insert into sm_delivery (user_id, message_id, level, created_at, delivered_at, expires_at, category)
  select user_id, message_id, level, created_at, delivered_at, expires_at, category from pending
  where user_id not in (select user_id from blocked)
  on conflict do nothing
  returning user_id, category
), added as (
  select user_id, count(*)::int as n from ins group by user_id
), cat as (
  insert into sm_category as sc (user_id, category, total_count, unread_count, unseen_count)
  select user_id, category, count(*), count(*), count(*) from ins where category is not null
  group by user_id, category order by user_id collate "C", category
  on conflict (user_id, category) do update
  set total_count = sc.total_count + excluded.total_count, unread_count = sc.unread_count + excluded.unread_count,
      unseen_count = sc.unseen_count + excluded.unseen_count
  returning 1
), upd as (
  update sm_user su
  set bcast_id = (select id from top),
      unread_count = su.unread_count + coalesce(a.n, 0),
      unseen_count = su.unseen_count + coalesce(a.n, 0),
      total_count = su.total_count + coalesce(a.n, 0)
  from u left join added a on a.user_id = u.id
  where su.id = u.id and u.bcast_id < (select id from top) and u.id not in (select user_id from blocked)
  returning 1
)
select user_id, first from blocked`);

/**
 * Lowers the user's watermarks of the kinds asked (:seen, :read, :archived) that lie at or above :below
 * to :below - 1, and so every category's of the user (the caller holds the user's row lock, and keeps
 * seen_upto >= read_upto >= archived_upto: lowering seen lowers all three, read lowers archived too).
 * The deliveries from :below up to the old watermarks get the times they had written out (the `at` of
 * the lowest mark covering each, the user's or their category's; snoozed ones have theirs already), and
 * the marks are cut at :below - 1 so deliveries under :below keep theirs. Costs the rows between :below
 * and the watermarks: only markUnread, unarchive and waking an old message, and a late broadcast, need
 * it. Answers how many rows it wrote.
 */
export const LOWER_UPTO = statement<{ userId: string; below: string; seen: boolean; read: boolean; archived: boolean }, { n: number }>(`
with u as (
  select su.id,
    case when :seen::boolean then su.seen_upto else 0 end as seen_upto,
    case when :read::boolean then su.read_upto else 0 end as read_upto,
    case when :archived::boolean then su.archived_upto else 0 end as archived_upto,
    (select coalesce(max(greatest(
       case when :seen::boolean then c.seen_upto else 0 end,
       case when :read::boolean then c.read_upto else 0 end,
       case when :archived::boolean then c.archived_upto else 0 end)), 0)
     from sm_category c where c.user_id = su.id) as category_upto
  from sm_user su where su.id = :userId::text
), mat as (
  update sm_delivery d
  set seen_at = case when not :seen::boolean then d.seen_at else least(d.seen_at,
        case when d.message_id <= u.seen_upto then sm_mark_at(d.user_id, 'seen', d.message_id) end,
        case when d.category is not null and d.message_id <= sm_cat_upto(d.user_id, d.category, 'seen') then sm_category_mark_at(d.user_id, d.category, 'seen', d.message_id) end) end,
      read_at = case when not :read::boolean then d.read_at else coalesce(d.read_at, least(
        case when d.message_id <= u.read_upto then sm_mark_at(d.user_id, 'read', d.message_id) end,
        case when d.category is not null and d.message_id <= sm_cat_upto(d.user_id, d.category, 'read') then sm_category_mark_at(d.user_id, d.category, 'read', d.message_id) end)) end,
      archived_at = case when not :archived::boolean then d.archived_at else coalesce(d.archived_at, least(
        case when d.message_id <= u.archived_upto then sm_mark_at(d.user_id, 'archived', d.message_id) end,
        case when d.category is not null and d.message_id <= sm_cat_upto(d.user_id, d.category, 'archived') then sm_category_mark_at(d.user_id, d.category, 'archived', d.message_id) end)) end
  from u
  where d.user_id = u.id and d.message_id >= :below::bigint
    and d.message_id <= greatest(u.seen_upto, u.read_upto, u.archived_upto, u.category_upto)
    and d.snoozed_until is null
  returning 1
), kinds as (
  select k from unnest(array['seen', 'read', 'archived'], array[:seen::boolean, :read::boolean, :archived::boolean]) as t(k, asked) where asked
), keep as (
  insert into sm_mark (user_id, kind, upto, at)
  select distinct on (k.kind) k.user_id, k.kind, :below::bigint - 1, k.at from sm_mark k
  where k.user_id = :userId::text and k.kind in (select k from kinds) and k.upto >= :below::bigint
  order by k.kind, k.upto
  on conflict do nothing
  returning 1
), cut as (
  delete from sm_mark k where k.user_id = :userId::text and k.kind in (select k from kinds) and k.upto >= :below::bigint returning 1
), category_keep as (
  insert into sm_category_mark (user_id, category, kind, upto, at)
  select distinct on (k.category, k.kind) k.user_id, k.category, k.kind, :below::bigint - 1, k.at from sm_category_mark k
  where k.user_id = :userId::text and k.kind in (select k from kinds) and k.upto >= :below::bigint
  order by k.category, k.kind, k.upto
  on conflict do nothing
  returning 1
), category_cut as (
  delete from sm_category_mark k where k.user_id = :userId::text and k.kind in (select k from kinds) and k.upto >= :below::bigint returning 1
), low as (
  update sm_user su
  set seen_upto = case when :seen::boolean then least(su.seen_upto, :below::bigint - 1) else su.seen_upto end,
      read_upto = case when :read::boolean then least(su.read_upto, :below::bigint - 1) else su.read_upto end,
      archived_upto = case when :archived::boolean then least(su.archived_upto, :below::bigint - 1) else su.archived_upto end
  where su.id = :userId::text
  returning 1
), category_low as (
  update sm_category c
  set seen_upto = case when :seen::boolean then least(c.seen_upto, :below::bigint - 1) else c.seen_upto end,
      read_upto = case when :read::boolean then least(c.read_upto, :below::bigint - 1) else c.read_upto end,
      archived_upto = case when :archived::boolean then least(c.archived_upto, :below::bigint - 1) else c.archived_upto end
  where c.user_id = :userId::text
    and greatest(c.seen_upto, c.read_upto, c.archived_upto) >= :below::bigint
  returning 1
)
select (select count(*) from mat)::int as n`);

/**
 * For each user of :users (a JSON list of { user_id, ids }), the lowest of those live deliveries that
 * the user's :kind watermark, or their category's, covers (null: none): what LOWER_UPTO must go below
 * before one of them alone loses that state (:snoozedOnly: of the snoozed ones, to wake). A subquery per
 * user probes their ids; the snoozed test is a FILTER so that no partial index on snoozed deliveries, which
 * stale statistics can show as empty, is scanned whole instead.
 */
export const LOWEST_COVERED = statement<{ users: string; kind: string; snoozedOnly: boolean }, { user_id: string; x: string | null }>(`
select u.user_id, (
  select min(d.message_id) filter (where d.snoozed_until is not null or not :snoozedOnly::boolean) from sm_delivery d
  where d.user_id = u.user_id and d.message_id = any(u.ids)
    and d.message_id <= greatest((
      select case :kind::text when 'seen' then ru.seen_upto when 'read' then ru.read_upto else ru.archived_upto end
      from sm_user ru where ru.id = d.user_id
    ), sm_cat_upto(d.user_id, d.category, :kind::text))
    and (d.expires_at is null or d.expires_at > now())
)::text as x
from jsonb_to_recordset(:users::jsonb) as u(user_id text, ids bigint[])`);

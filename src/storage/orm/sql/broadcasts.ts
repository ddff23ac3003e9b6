/**
 * Broadcasts: one sm_message row, copied into a user's deliveries on that user's next access
 * (CATCH_UP), and the read watermark lowered when a broadcast arrives below it.
 */
import { statement } from '../statement.js';

/** Serialises broadcasts, so their ids commit in order and a user's watermark never skips one. */
export const LOCK_BROADCASTS = statement<{ key: number }>(`select pg_advisory_xact_lock(:key)`);

export const INSERT_BROADCAST = statement<
  { level: number; text: string; extraTags: string; url: string | null; data: string | null; createdAt: Date; expiresAt: Date | null },
  { id: string; delivered_at: string }
>(`
insert into sm_message (level, text, extra_tags, url, data, created_at, expires_at, broadcast)
values (:level, :text, :extraTags, :url, :data::jsonb, :createdAt, :expiresAt, true)
returning id::text as id, delivered_at`);

/**
 * Delivers the broadcasts a set of users has not received yet, and moves their watermark.
 * Locks the users' rows in a fixed order first, so concurrent catch-ups neither duplicate nor
 * resurrect a delivery the user deleted meanwhile (FOR UPDATE re-reads the newest watermark).
 * A broadcast that took its id before the user's last mark-all-read but committed after it lies below
 * the read watermark: those users are left out and returned (user_id, first) so the store lowers their
 * watermark below `first` (LOWER_READ_UPTO) and runs this again, and the broadcast arrives unread.
 */
export const CATCH_UP = statement<{ userIds: string }, { user_id: string; first: string }>(`
with u as (
  select id, bcast_id, read_upto from sm_user
  where id in (select value from jsonb_array_elements_text(:userIds::jsonb))
  order by id collate "C" for update
), top as (
  select coalesce(max(id), 0) as id from sm_message where broadcast
), pending as (
  select u.id as user_id, m.id as message_id, m.level, m.created_at, m.delivered_at, m.expires_at, u.read_upto
  from u join sm_message m on m.broadcast and m.id > u.bcast_id
  where m.id <= (select id from top) and (m.expires_at is null or m.expires_at > now())
), blocked as (
  select user_id, min(message_id)::text as first from pending where message_id <= read_upto group by user_id
), ins as (
  insert into sm_delivery (user_id, message_id, level, created_at, delivered_at, expires_at)
  select user_id, message_id, level, created_at, delivered_at, expires_at from pending
  where user_id not in (select user_id from blocked)
  on conflict do nothing
  returning user_id
), added as (
  select user_id, count(*)::int as n from ins group by user_id
), upd as (
  update sm_user su
  set bcast_id = (select id from top),
      unread_count = su.unread_count + coalesce(a.n, 0),
      total_count = su.total_count + coalesce(a.n, 0)
  from u left join added a on a.user_id = u.id
  where su.id = u.id and u.bcast_id < (select id from top) and u.id not in (select user_id from blocked)
  returning 1
)
select user_id, first from blocked`);

/**
 * Lowers the user's read watermark to :below - 1 (the caller holds the user's row lock): deliveries
 * from :below up to the old watermark that it kept read get their read time written out (the `at` of
 * the lowest mark covering each), and the marks are cut at :below - 1 so deliveries under :below keep
 * theirs. Costs the rows between :below and the watermark: only markUnread of an old message and a
 * late broadcast need it. Answers how many read times it wrote.
 */
export const LOWER_READ_UPTO = statement<{ userId: string; below: string }, { n: number }>(`
with u as (
  select su.id, su.read_upto from sm_user su
  where su.id = :userId::text and su.read_upto >= :below::bigint
), mat as (
  update sm_delivery d
  set read_at = coalesce(d.read_at, case when d.message_id <= u.read_upto then (
    select k.at from sm_read_mark k where k.user_id = d.user_id and k.upto >= d.message_id order by k.upto limit 1
  ) end)
  from u
  where d.user_id = u.id and d.read_at is null and d.message_id >= :below::bigint and d.message_id <= u.read_upto
  returning 1
), keep as (
  insert into sm_read_mark (user_id, upto, at)
  select k.user_id, :below::bigint - 1, k.at from sm_read_mark k, u
  where k.user_id = u.id and k.upto >= :below::bigint
  order by k.upto limit 1
  on conflict do nothing
  returning 1
), cut as (
  delete from sm_read_mark k using u where k.user_id = u.id and k.upto >= :below::bigint returning 1
), low as (
  update sm_user su set read_upto = :below::bigint - 1 from u where su.id = u.id returning 1
)
select (select count(*) from mat)::int as n`);

/** The lowest of the requested live deliveries that the user's read watermark covers (null: none). */
export const LOWEST_COVERED = statement<{ userId: string; ids: string }, { x: string | null }>(`
select min(d.message_id)::text as x from sm_delivery d
where d.user_id = :userId
  and d.message_id in (select value::bigint from jsonb_array_elements_text(:ids::jsonb))
  and d.message_id <= (select ru.read_upto from sm_user ru where ru.id = d.user_id)
  and (d.expires_at is null or d.expires_at > now())`);

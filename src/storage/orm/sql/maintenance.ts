/** Expiry cleanup, idempotency keys, planner statistics and health. */
import { statement } from '../statement.js';

/** Reclaims a bounded batch of expired deliveries, keeping the counters exact; answers how many and whose. */
export const CLEANUP_DELIVERIES = statement<{ limit: number }, { n: number; users: string[] | null }>(`
with victims as (
  -- Through the expired messages (sm_message's expires_at index, then each message's deliveries): a
  -- global expires_at index on sm_delivery would cost every send one more index entry.
  select d.user_id, d.message_id from sm_message m join sm_delivery d on d.message_id = m.id
  where m.expires_at <= now() order by m.expires_at limit :limit for update of d skip locked
), del as (
  delete from sm_delivery d using victims v
  where d.user_id = v.user_id and d.message_id = v.message_id
  returning d.user_id, d.message_id, d.read_at, d.seen_at, d.archived_at, d.snoozed_until, d.category
), per_user as (
  select user_id,
    array_agg(message_id) filter (where snoozed_until is null and read_at is null) as unread_ids,
    array_agg(message_id) filter (where snoozed_until is null and read_at is null and seen_at is null) as unseen_ids,
    array_agg(message_id) filter (where snoozed_until is null and archived_at is null) as unarchived_ids,
    count(*) filter (where snoozed_until is null) as total,
    count(*) filter (where snoozed_until is not null) as snoozed
  from del group by user_id
), upd as (
  -- Which of them were unread, unseen or archived depends on the watermarks: judged against the user row
  -- this update locks (re-evaluated on its newest version if an "all" operation commits meanwhile).
  update sm_user u
  set unread_count = u.unread_count - (select count(*) from unnest(p.unread_ids) x where x > u.read_upto),
      unseen_count = u.unseen_count - (select count(*) from unnest(p.unseen_ids) x where x > u.seen_upto),
      archived_count = u.archived_count - (p.total - (select count(*) from unnest(p.unarchived_ids) x where x > u.archived_upto)),
      total_count = u.total_count - p.total,
      snoozed_count = u.snoozed_count - p.snoozed
  from per_user p where u.id = p.user_id
  returning u.id, u.seen_upto, u.read_upto, u.archived_upto
), per_category as (
  select user_id, category,
    array_agg(message_id) filter (where snoozed_until is null and read_at is null) as unread_ids,
    array_agg(message_id) filter (where snoozed_until is null and read_at is null and seen_at is null) as unseen_ids,
    array_agg(message_id) filter (where snoozed_until is null and archived_at is null) as unarchived_ids,
    count(*) filter (where snoozed_until is null) as total,
    count(*) filter (where snoozed_until is not null) as snoozed
  from del where category is not null group by user_id, category
), cat as (
  -- The category counters likewise, judged against the watermarks of the user rows upd locked.
  update sm_category c
  set unread_count = c.unread_count - (select count(*) from unnest(p.unread_ids) x where x > u.read_upto),
      unseen_count = c.unseen_count - (select count(*) from unnest(p.unseen_ids) x where x > u.seen_upto),
      archived_count = c.archived_count - (p.total - (select count(*) from unnest(p.unarchived_ids) x where x > u.archived_upto)),
      total_count = c.total_count - p.total,
      snoozed_count = c.snoozed_count - p.snoozed
  from per_category p join upd u on u.id = p.user_id
  where c.user_id = p.user_id and c.category = p.category
  returning 1
)
select (select count(*) from del)::int as n, (select json_agg(user_id) from per_user) as users`);

/**
 * Drops the marks of these users that no longer cover any delivery (what they covered has expired or
 * been deleted): marks otherwise grow by one per "all" operation. A mark covers the deliveries without
 * a time of its kind between the next lower mark of that kind and itself; only an "all" operation (in a
 * new mark's range), a snooze or LOWER_UPTO (which write times out first) changes what lies there, so an
 * empty range stays empty.
 */
export const CLEANUP_MARKS = statement<{ userIds: string }>(`
delete from sm_mark k
where k.user_id in (select value from jsonb_array_elements_text(:userIds::jsonb))
  and not exists (
    select 1 from sm_delivery d
    where d.user_id = k.user_id and d.message_id <= k.upto
      and d.message_id > coalesce((select max(k2.upto) from sm_mark k2 where k2.user_id = k.user_id and k2.kind = k.kind and k2.upto < k.upto), 0)
      and case k.kind when 'seen' then d.seen_at is null when 'read' then d.read_at is null else d.archived_at is null end
  )
returning 1`);

/** Expired messages with no delivery left (deliveries go first, so counters stay exact). */
export const CLEANUP_MESSAGES = statement<{ limit: number }>(`
delete from sm_message where id in (
  select m.id from sm_message m
  where m.expires_at <= now() and not exists (select 1 from sm_delivery d where d.message_id = m.id)
  limit :limit
)
returning id`);

export const CLEANUP_IDEMPOTENCY = statement<{ ttlSeconds: number; limit: number }>(`
delete from sm_idempotency where (scope, key) in (
  select scope, key from sm_idempotency where created_at < now() - make_interval(secs => :ttlSeconds) limit :limit
)
returning 1`);

export const IDEMPOTENCY_EXPIRE_ONE = statement<{ scope: string; key: string; ttlSeconds: number }>(`
delete from sm_idempotency where scope = :scope and key = :key and created_at < now() - make_interval(secs => :ttlSeconds)`);

/** Waits for a concurrent holder of the same key to commit; a row back means this call claimed it. */
export const IDEMPOTENCY_INSERT = statement<{ scope: string; key: string; fingerprint: string }>(`
insert into sm_idempotency (scope, key, fingerprint) values (:scope, :key, :fingerprint)
on conflict do nothing
returning 1`);

export const IDEMPOTENCY_GET = statement<{ scope: string; key: string }, { fingerprint: string; response: unknown }>(`
select fingerprint, response from sm_idempotency where scope = :scope and key = :key`);

export const IDEMPOTENCY_SAVE = statement<{ scope: string; key: string; response: string }>(`
update sm_idempotency set response = :response::jsonb where scope = :scope and key = :key`);

export const IDEMPOTENCY_FORGET = statement<{ scope: string; key: string; fingerprint: string }>(`
delete from sm_idempotency where scope = :scope and key = :key and fingerprint = :fingerprint`);

export const ANALYZE_ALL = statement(`analyze`);

/** The tables sends grow, and sm_delivery's row count as the planner now believes it. */
export const ANALYZE_SENDS = statement(`analyze sm_delivery, sm_message`);
export const DELIVERY_ROWS = statement<Record<never, never>, { n: number }>(`
select greatest(reltuples, 0)::float8 as n from pg_class where oid = 'sm_delivery'::regclass`);

export const PING = statement(`select 1`);

/** Whether the server refreshes planner statistics itself. */
export const AUTOVACUUM = statement<Record<never, never>, { autovacuum: string }>(`select current_setting('autovacuum') as autovacuum`);

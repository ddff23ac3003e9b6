/** Expiry cleanup, idempotency keys, planner statistics, vacuum and health. */
import { statement } from '../statement.js';

/**
 * The cleanup's first step, in its transaction: locks the users a batch of expired deliveries belongs to
 * (skipping those busy now: the next run takes them), so CLEANUP_DELIVERIES, a statement of its own, judges
 * their deliveries' states under every watermark committed before (the user's and their categories').
 */
export const CLEANUP_LOCK_USERS = statement<{ limit: number }, { id: string }>(`
select u.id from sm_user u
where u.id in (
  select d.user_id from sm_message m join sm_delivery d on d.message_id = m.id
  where m.expires_at <= now() order by m.expires_at limit :limit
)
order by u.id collate "C"
for update skip locked`);

/**
 * Reclaims a bounded batch of expired deliveries of the users CLEANUP_LOCK_USERS locked, keeping their
 * counters exact, the user's and each category's; answers how many and whose.
 */
export const CLEANUP_DELIVERIES = statement<{ limit: number; userIds: string }, { n: number; users: string[] | null }>(`
with victims as (
  -- Through the expired messages (sm_message's expires_at index, then each message's deliveries): a
  -- global expires_at index on sm_delivery would cost every send one more index entry.
  select d.user_id, d.message_id from sm_message m join sm_delivery d on d.message_id = m.id
  where m.expires_at <= now() and d.user_id in (select value from jsonb_array_elements_text(:userIds::jsonb))
  order by m.expires_at limit :limit for update of d skip locked
), del as (
  delete from sm_delivery d using victims v
  where d.user_id = v.user_id and d.message_id = v.message_id
  returning d.user_id, d.message_id, d.read_at, d.seen_at, d.archived_at, d.snoozed_until, d.category
), judged as (
  select del.user_id, del.category, del.snoozed_until is null as counted, del.snoozed_until is not null as snoozed,
    del.snoozed_until is null and del.read_at is null and del.message_id > greatest(u.read_upto, sm_cat_upto(u.id, del.category, 'read')) as unread,
    del.snoozed_until is null and del.seen_at is null and del.read_at is null and del.message_id > greatest(u.seen_upto, sm_cat_upto(u.id, del.category, 'seen')) as unseen,
    del.snoozed_until is null and (del.archived_at is not null or del.message_id <= greatest(u.archived_upto, sm_cat_upto(u.id, del.category, 'archived'))) as archived
  from del join sm_user u on u.id = del.user_id
), per_user as (
  select user_id, count(*) filter (where counted) as total, count(*) filter (where unread) as unread, count(*) filter (where unseen) as unseen,
    count(*) filter (where archived) as archived, count(*) filter (where snoozed) as snoozed
  from judged group by user_id
), upd as (
  update sm_user u
  set unread_count = u.unread_count - p.unread, unseen_count = u.unseen_count - p.unseen, archived_count = u.archived_count - p.archived,
      total_count = u.total_count - p.total, snoozed_count = u.snoozed_count - p.snoozed
  from per_user p where u.id = p.user_id
  returning 1
), per_category as (
  select user_id, category, count(*) filter (where counted) as total, count(*) filter (where unread) as unread, count(*) filter (where unseen) as unseen,
    count(*) filter (where archived) as archived, count(*) filter (where snoozed) as snoozed
  from judged where category is not null group by user_id, category
), cat as (
  update sm_category c
  set unread_count = c.unread_count - p.unread, unseen_count = c.unseen_count - p.unseen, archived_count = c.archived_count - p.archived,
      total_count = c.total_count - p.total, snoozed_count = c.snoozed_count - p.snoozed
  from per_category p where c.user_id = p.user_id and c.category = p.category
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

/** As CLEANUP_MARKS, of the users' category marks (a category's deliveries between two of its marks). */
export const CLEANUP_CATEGORY_MARKS = statement<{ userIds: string }>(`
delete from sm_category_mark k
where k.user_id in (select value from jsonb_array_elements_text(:userIds::jsonb))
  and not exists (
    select 1 from sm_delivery d
    where d.user_id = k.user_id and d.category = k.category and d.message_id <= k.upto
      and d.message_id > coalesce((
        select max(k2.upto) from sm_category_mark k2
        where k2.user_id = k.user_id and k2.category = k.category and k2.kind = k.kind and k2.upto < k.upto
      ), 0)
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

/**
 * Where nothing else vacuums (upkeep.ts). The queues: tables whose rows are deleted within seconds to a
 * day of their insert (the webhook outbox and its streams, idempotency keys), small once vacuumed, and
 * sm_lease, updated by every job's tick. Every table, with the statistics: what expiry and state changes
 * leave in sm_delivery, sm_message and the rest.
 */
export const VACUUM_QUEUES = statement(`vacuum sm_webhook, sm_webhook_stream, sm_idempotency, sm_lease`);
export const VACUUM_ANALYZE_ALL = statement(`vacuum (analyze)`);

/** The tables sends grow, and sm_delivery's row count as the planner now believes it. */
export const ANALYZE_SENDS = statement(`analyze sm_delivery, sm_message`);
export const DELIVERY_ROWS = statement<Record<never, never>, { n: number }>(`
select greatest(reltuples, 0)::float8 as n from pg_class where oid = 'sm_delivery'::regclass`);

export const PING = statement(`select 1`);

/** Whether the server refreshes planner statistics itself. */
export const AUTOVACUUM = statement<Record<never, never>, { autovacuum: string }>(`select current_setting('autovacuum') as autovacuum`);

/**
 * The SQL of the PostgreSQL store. `?` placeholders are bound by the driver, in order.
 * Lists of ids travel as one JSON array parameter (`jsonb_array_elements_text(?::jsonb)`).
 */

/** A delivery that has not expired. Expired rows vanish from every read at once; the cleanup reclaims them later. */
export const LIVE = '(d.expires_at is null or d.expires_at > now())';

const IDS = '(select value from jsonb_array_elements_text(?::jsonb))';
const LATEST_BROADCAST = '(select coalesce(max(id), 0) from sm_message where broadcast)';

/** New users start after the newest broadcast: users known later do not get earlier broadcasts. */
export const REGISTER_USERS = `
with ins as (
  insert into sm_user (id, bcast_id)
  select value, ${LATEST_BROADCAST} from jsonb_array_elements_text(?::jsonb)
  on conflict do nothing
  returning 1
)
update sm_stats set known_users = known_users + (select count(*) from ins)
where id = 1 and exists (select 1 from ins)`;

/**
 * Counts corrected for expired-but-not-yet-reclaimed deliveries (an index range scan that is empty
 * when the cleanup keeps up), and whether broadcasts newer than the user's watermark exist.
 */
export const USER_STATE = `
select u.unread_count - x.unread_expired as unread,
       u.total_count - x.total_expired as total,
       u.bcast_id < ${LATEST_BROADCAST} as behind
from sm_user u
cross join lateral (
  select (count(*) filter (where e.read_at is null))::int as unread_expired, count(*)::int as total_expired
  from sm_delivery e where e.user_id = u.id and e.expires_at <= now()
) x
where u.id = ?`;

/**
 * Delivers the broadcasts a set of users has not received yet, and moves their watermark.
 * Locks the users' rows in a fixed order first, so concurrent catch-ups neither duplicate nor
 * resurrect a delivery the user deleted meanwhile (FOR UPDATE re-reads the newest watermark).
 * Broadcast ids commit in order (they take an advisory lock), so a watermark never skips one.
 */
export const CATCH_UP = `
with u as (
  select id, bcast_id from sm_user where id in ${IDS} order by id collate "C" for update
), top as (
  select coalesce(max(id), 0) as id from sm_message where broadcast
), pending as (
  select u.id as user_id, m.id as message_id, m.level, m.created_at, m.delivered_at, m.expires_at
  from u join sm_message m on m.broadcast and m.id > u.bcast_id
  where m.id <= (select id from top) and (m.expires_at is null or m.expires_at > now())
), ins as (
  insert into sm_delivery (user_id, message_id, level, created_at, delivered_at, expires_at)
  select user_id, message_id, level, created_at, delivered_at, expires_at from pending
  on conflict do nothing
  returning user_id
), added as (
  select user_id, count(*)::int as n from ins group by user_id
)
update sm_user su
set bcast_id = (select id from top),
    unread_count = su.unread_count + coalesce(a.n, 0),
    total_count = su.total_count + coalesce(a.n, 0)
from u left join added a on a.user_id = u.id
where su.id = u.id and u.bcast_id < (select id from top)`;

export const INSERT_MESSAGE = `
insert into sm_message (level, text, extra_tags, url, data, created_at, expires_at, broadcast)
values (?, ?, ?, ?, ?::jsonb, ?, ?, ?)
returning id::text as id, delivered_at`;

export const INSERT_DELIVERIES = `
insert into sm_delivery (user_id, message_id, level, created_at, delivered_at, expires_at)
select value, ?, ?, ?, ?, ? from jsonb_array_elements_text(?::jsonb)`;

/** Bumps counters and returns each recipient's exact unread count after the send. */
export const BUMP_COUNTERS = `
update sm_user u set unread_count = u.unread_count + 1, total_count = u.total_count + 1
where u.id in ${IDS}
returning u.id as user_id,
  u.unread_count - (select count(*) from sm_delivery e where e.user_id = u.id and e.read_at is null and e.expires_at <= now())::int as unread`;

export const SELECT_MESSAGES = `
select d.message_id::text as id, d.read_at, m.level, m.text, m.extra_tags, m.url, m.data, m.created_at, m.expires_at
from sm_delivery d join sm_message m on m.id = d.message_id`;

const REQUESTED = '(select value::bigint from jsonb_array_elements_text(?::jsonb))';

/** Params: user, ids, user. Returns the ids whose state changed. */
export const MARK_READ = `
with upd as (
  update sm_delivery d set read_at = now()
  where d.user_id = ? and d.message_id in ${REQUESTED} and d.read_at is null and ${LIVE}
  returning d.message_id
)
update sm_user set unread_count = unread_count - (select count(*) from upd)
where id = ?
returning (select json_agg(message_id::text order by message_id) from upd) as changed`;

export const MARK_UNREAD = `
with upd as (
  update sm_delivery d set read_at = null
  where d.user_id = ? and d.message_id in ${REQUESTED} and d.read_at is not null and ${LIVE}
  returning d.message_id
)
update sm_user set unread_count = unread_count + (select count(*) from upd)
where id = ?
returning (select json_agg(message_id::text order by message_id) from upd) as changed`;

/** Params: user, until, user. Only messages delivered at or before `until` (race-safe mark-all). */
export const MARK_ALL_READ = `
with upd as (
  update sm_delivery d set read_at = now()
  where d.user_id = ? and d.read_at is null and d.delivered_at <= ? and ${LIVE}
  returning 1
)
update sm_user set unread_count = unread_count - (select count(*) from upd)
where id = ?
returning (select count(*) from upd)::int as n`;

/** Params: user, ids, user. */
export const DELETE_DELIVERIES = `
with del as (
  delete from sm_delivery d
  where d.user_id = ? and d.message_id in ${REQUESTED} and ${LIVE}
  returning d.message_id, d.read_at
)
update sm_user
set unread_count = unread_count - (select count(*) from del where read_at is null),
    total_count = total_count - (select count(*) from del)
where id = ?
returning (select json_agg(message_id::text order by message_id) from del) as deleted`;

/** Reclaims a bounded batch of expired deliveries, keeping the counters exact. */
export const CLEANUP_DELIVERIES = `
with victims as (
  select user_id, message_id from sm_delivery
  where expires_at <= now() order by expires_at limit ? for update skip locked
), del as (
  delete from sm_delivery d using victims v
  where d.user_id = v.user_id and d.message_id = v.message_id
  returning d.user_id, d.read_at
), per_user as (
  select user_id, count(*) filter (where read_at is null) as unread, count(*) as total from del group by user_id
), upd as (
  update sm_user u set unread_count = u.unread_count - p.unread, total_count = u.total_count - p.total
  from per_user p where u.id = p.user_id
  returning 1
)
select (select count(*) from del)::int as n`;

/** Expired messages with no delivery left (deliveries go first, so counters stay exact). */
export const CLEANUP_MESSAGES = `
delete from sm_message where id in (
  select m.id from sm_message m
  where m.expires_at <= now() and not exists (select 1 from sm_delivery d where d.message_id = m.id)
  limit ?
)
returning id`;

export const CLEANUP_IDEMPOTENCY = `
delete from sm_idempotency where (scope, key) in (
  select scope, key from sm_idempotency where created_at < now() - make_interval(hours => ?) limit ?
)
returning 1`;

export const IDEMPOTENCY_EXPIRE_ONE = `
delete from sm_idempotency where scope = ? and key = ? and created_at < now() - make_interval(hours => ?)`;

export const IDEMPOTENCY_INSERT = `
insert into sm_idempotency (scope, key, fingerprint) values (?, ?, ?)
on conflict do nothing
returning 1`;

export const IDEMPOTENCY_GET = `select fingerprint, response from sm_idempotency where scope = ? and key = ?`;

export const IDEMPOTENCY_GET_FRESH = `
select fingerprint, response from sm_idempotency
where scope = ? and key = ? and created_at >= now() - make_interval(hours => ?)`;

export const IDEMPOTENCY_SAVE = `update sm_idempotency set response = ?::jsonb where scope = ? and key = ?`;

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
 * How many of a user's unread deliveries have expired but are not reclaimed yet: subtracted from the
 * unread counter wherever an exact count is reported (an index range scan, empty while the cleanup keeps up).
 * `user`: the SQL expression of the user id.
 */
const expiredUnread = (user: string) =>
  `(select count(*) from sm_delivery e where e.user_id = ${user} and e.read_at is null and e.expires_at <= now())::int`;

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

/**
 * A direct send in ONE statement (atomic on its own): the message, a delivery per recipient, and an
 * upsert of each recipient that registers new users and bumps the counters of known ones. The upsert,
 * not a separate UPDATE, keeps counters right when two sends register the same new user at once.
 * Recipients are locked in a fixed order (collate "C", as CATCH_UP) so concurrent sends cannot deadlock.
 * `behind`: the recipient has broadcasts not yet copied (the caller then runs CATCH_UP for them).
 * Params: ids (JSON), level, text, extra_tags, url, data, created_at, expires_at.
 */
export const SEND_DIRECT = `
with ids as (
  select distinct value as id from jsonb_array_elements_text(?::jsonb)
), m as (
  insert into sm_message (level, text, extra_tags, url, data, created_at, expires_at, broadcast)
  values (?, ?, ?, ?, ?::jsonb, ?, ?, false)
  returning id, level, created_at, delivered_at, expires_at
), d as (
  insert into sm_delivery (user_id, message_id, level, created_at, delivered_at, expires_at)
  select ids.id, m.id, m.level, m.created_at, m.delivered_at, m.expires_at from ids cross join m
  returning 1
), u as (
  insert into sm_user as su (id, bcast_id, unread_count, total_count)
  select id, ${LATEST_BROADCAST}, 1, 1 from ids order by id collate "C"
  on conflict (id) do update set unread_count = su.unread_count + 1, total_count = su.total_count + 1
  returning su.id, su.unread_count, su.bcast_id, (su.xmax::text = '0') as inserted
), stats as (
  update sm_stats set known_users = known_users + (select count(*) from u where inserted)
  where id = 1 and exists (select 1 from u where inserted)
  returning 1
)
select m.id::text as id, u.id as user_id,
  u.unread_count - ${expiredUnread('u.id')} as unread,
  u.bcast_id < ${LATEST_BROADCAST} as behind
from m cross join u`;

/** Those of the listed users with broadcasts not yet copied. */
export const BEHIND_OF = `select id from sm_user where id in ${IDS} and bcast_id < ${LATEST_BROADCAST}`;

/** Params: message id, users (JSON). Each known user's exact unread count and whether the message is theirs. */
export const BROADCAST_VIEWS = `
select u.id as user_id,
  exists (select 1 from sm_delivery d where d.user_id = u.id and d.message_id = ?::bigint and ${LIVE}) as has,
  u.unread_count - ${expiredUnread('u.id')} as unread
from sm_user u where u.id in ${IDS}`;

/** Exact unread counts of several users. */
export const UNREAD_OF = `
select u.id as user_id,
  u.unread_count - ${expiredUnread('u.id')} as unread
from sm_user u where u.id in ${IDS}`;

export const INSERT_MESSAGE = `
insert into sm_message (level, text, extra_tags, url, data, created_at, expires_at, broadcast)
values (?, ?, ?, ?, ?::jsonb, ?, ?, ?)
returning id::text as id, delivered_at`;

export const SELECT_MESSAGES = `
select d.message_id::text as id, d.read_at, m.level, m.text, m.extra_tags, m.url, m.data, m.created_at, m.expires_at
from sm_delivery d join sm_message m on m.id = d.message_id`;

/**
 * The one-statement writes below share a shape. `p` binds the user and the requested ids once; `st` says
 * whether the user has broadcasts not yet copied: then NOTHING changes (`behind` comes back true), the
 * store runs CATCH_UP and repeats the statement, so a broadcast id is never wrongly "not found".
 * Each returns one row: behind, what changed, the user's exact unread count after, and the messages found.
 */
const PARAMS = `p as (select ?::text as user_id, ?::jsonb as ids)`;
const STATE = `st as (
  select u.id, u.unread_count, u.total_count, u.bcast_id < ${LATEST_BROADCAST} as behind from sm_user u, p where u.id = p.user_id
), go as (select id from st where not behind)`;
const REQUESTED_IDS = '(select value::bigint from p, jsonb_array_elements_text(p.ids))';
const EXPIRED_UNREAD = expiredUnread('(select user_id from p)');

/** The requested deliveries that are the user's and alive, as JSON, with `readAt` after the change. */
const FOUND = (readAt: string) => `(
  select json_agg(json_build_object(
    'id', d.message_id::text, 'read_at', ${readAt}, 'level', m.level, 'text', m.text, 'extra_tags', m.extra_tags,
    'url', m.url, 'data', m.data, 'created_at', m.created_at, 'expires_at', m.expires_at))
  from sm_delivery d join sm_message m on m.id = d.message_id, p
  where d.user_id = p.user_id and d.message_id in ${REQUESTED_IDS} and ${LIVE}
)`;

const setRead = (read: boolean) => `
with ${PARAMS}, ${STATE}, upd as (
  update sm_delivery d set read_at = ${read ? 'now()' : 'null'}
  where d.user_id = (select id from go) and d.message_id in ${REQUESTED_IDS}
    and d.read_at is ${read ? 'null' : 'not null'} and ${LIVE}
  returning d.message_id
), cnt as (
  update sm_user su set unread_count = su.unread_count ${read ? '-' : '+'} (select count(*) from upd)
  where su.id = (select id from go) and exists (select 1 from upd)
  returning su.unread_count
)
select coalesce((select behind from st), false) as behind,
  (select json_agg(message_id::text order by message_id) from upd) as changed,
  coalesce((select unread_count from cnt), (select unread_count from st), 0) - ${EXPIRED_UNREAD} as unread,
  ${FOUND(`case when d.message_id in (select message_id from upd) then ${read ? 'now()' : 'null::timestamptz'} else d.read_at end`)} as messages`;

/** Params: user, ids (JSON). */
export const MARK_READ = setRead(true);
export const MARK_UNREAD = setRead(false);

/** Params: user, ids (JSON). Returns behind, deleted (ids), unread. */
export const DELETE_DELIVERIES = `
with ${PARAMS}, ${STATE}, del as (
  delete from sm_delivery d
  where d.user_id = (select id from go) and d.message_id in ${REQUESTED_IDS} and ${LIVE}
  returning d.message_id, d.read_at
), cnt as (
  update sm_user su
  set unread_count = su.unread_count - (select count(*) from del where read_at is null),
      total_count = su.total_count - (select count(*) from del)
  where su.id = (select id from go) and exists (select 1 from del)
  returning su.unread_count
)
select coalesce((select behind from st), false) as behind,
  (select json_agg(message_id::text order by message_id) from del) as deleted,
  coalesce((select unread_count from cnt), (select unread_count from st), 0) - ${EXPIRED_UNREAD} as unread`;

/**
 * Params: user, ids (JSON, unused: []), until. Only messages delivered at or before `until`
 * (race-safe mark-all). Returns behind, n, unread.
 */
export const MARK_ALL_READ = `
with ${PARAMS}, ${STATE}, upd as (
  update sm_delivery d set read_at = now()
  where d.user_id = (select id from go) and d.read_at is null and d.delivered_at <= ? and ${LIVE}
  returning 1
), cnt as (
  update sm_user su set unread_count = su.unread_count - (select count(*) from upd)
  where su.id = (select id from go) and exists (select 1 from upd)
  returning su.unread_count
)
select coalesce((select behind from st), false) as behind,
  (select count(*) from upd)::int as n,
  coalesce((select unread_count from cnt), (select unread_count from st), 0) - ${EXPIRED_UNREAD} as unread`;

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

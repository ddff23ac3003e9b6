/**
 * The SQL of the PostgreSQL store. `?` placeholders are bound by the driver, in order.
 * Lists of ids travel as one JSON array parameter (`jsonb_array_elements_text(?::jsonb)`).
 */

/** A delivery that has not expired. Expired rows vanish from every read at once; the cleanup reclaims them later. */
export const LIVE = '(d.expires_at is null or d.expires_at > now())';

const IDS = '(select value from jsonb_array_elements_text(?::jsonb))';
const BIGINT_MAX = '9223372036854775807::bigint';

/**
 * Read state (entities.ts): a delivery is unread when it has no `read_at` and lies above the user's
 * `read_upto` watermark. `ru`: the SQL expression of that user's read_upto.
 */
export const unread = (ru: string) => `(d.read_at is null and d.message_id > ${ru})`;

/** A delivery's readAt: its own, or the time of the mark-all-read whose watermark first covered it. */
const readAtOf = (ru: string) => `coalesce(d.read_at, case when d.message_id <= ${ru} then (
  select k.at from sm_read_mark k where k.user_id = d.user_id and k.upto >= d.message_id order by k.upto limit 1
) end)`;

/** The watermark of the user `user` (an SQL expression). With a parameter it is evaluated once per statement (an InitPlan), so it can bound an index range. */
const readUptoOf = (user: string) => `(select ru.read_upto from sm_user ru where ru.id = ${user})`;
export const READ_UPTO = readUptoOf('?');
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
 * `user`, `ru`: the SQL expressions of the user id and of their read watermark.
 */
const expiredUnread = (user: string, ru: string) =>
  `(select count(*) from ${expiredOf(user)} where e.read_at is null and e.message_id > ${ru})::int`;

/**
 * The user's expired deliveries, as a subquery aliased e (read_at, message_id): a range of the
 * (user_id, expires_at) index, empty while the cleanup keeps up.
 * - Not written as a row comparison: on sm_delivery_pkey that became a range over every delivery of
 *   the user (W7 at 100,000 unread fell from 1,770 to ~100 req/s).
 * - Fenced (OFFSET 0), so the callers' `e.read_at is null` stays outside: with it inside, the partial
 *   unread index became usable, and on statistics of a young table (or none: autovacuum off) PostgreSQL
 *   walked the user's whole unread range to find the expired ones. SEND then cost O(unread): 1.4 ms for
 *   a user with 366 unread, against 0.01 ms on this index.
 * - Ordered by expires_at: only the (user_id, expires_at) index yields that order, so it beats the primary
 *   key (which filters the user's whole inbox) even in a generic plan made on a nearly empty table, where
 *   their costs tie.
 */
function expiredOf(user: string): string {
  return `(select e.read_at, e.message_id from sm_delivery e where e.user_id = ${user} and e.expires_at <= now() order by e.expires_at offset 0) e`;
}

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
  select (count(*) filter (where e.read_at is null and e.message_id > u.read_upto))::int as unread_expired, count(*)::int as total_expired
  from ${expiredOf('u.id')}
) x
where u.id = ?`;

/**
 * Delivers the broadcasts a set of users has not received yet, and moves their watermark.
 * Locks the users' rows in a fixed order first, so concurrent catch-ups neither duplicate nor
 * resurrect a delivery the user deleted meanwhile (FOR UPDATE re-reads the newest watermark).
 * Broadcast ids commit in order (they take an advisory lock), so a watermark never skips one.
 * A broadcast that took its id before the user's last mark-all-read but committed after it lies below
 * the read watermark: those users are left out and returned (user_id, first) so the store lowers their
 * watermark below `first` (LOWER_READ_UPTO) and runs this again, and the broadcast arrives unread.
 */
export const CATCH_UP = `
with u as (
  select id, bcast_id, read_upto from sm_user where id in ${IDS} order by id collate "C" for update
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
select user_id, first from blocked`;

/**
 * Params: user, x. Lowers the user's read watermark to x - 1 (the caller holds the user's row lock):
 * deliveries from x up to the old watermark that it kept read get their read time written out, and the
 * marks are cut at x - 1 so deliveries below x keep theirs. Costs the rows between x and the watermark:
 * only markUnread of an old message and a late broadcast need it.
 */
export const LOWER_READ_UPTO = `
with p as (select ?::text as user_id, ?::bigint as x
), u as (
  select su.id, su.read_upto from sm_user su, p where su.id = p.user_id and su.read_upto >= p.x
), mat as (
  update sm_delivery d set read_at = ${readAtOf('u.read_upto')}
  from u, p where d.user_id = u.id and d.read_at is null and d.message_id >= p.x and d.message_id <= u.read_upto
  returning 1
), keep as (
  insert into sm_read_mark (user_id, upto, at)
  select k.user_id, p.x - 1, k.at from sm_read_mark k, u, p where k.user_id = u.id and k.upto >= p.x order by k.upto limit 1
  on conflict do nothing
  returning 1
), cut as (
  delete from sm_read_mark k using u, p where k.user_id = u.id and k.upto >= p.x returning 1
), low as (
  update sm_user su set read_upto = p.x - 1 from u, p where su.id = u.id returning 1
)
select (select count(*) from mat)::int as n`;

/** Locks one user's row (their writes then see every change committed before), and says whether broadcasts are pending. */
export const LOCK_USER = `select u.bcast_id < ${LATEST_BROADCAST} as behind from sm_user u where u.id = ? for update`;

/** Params: user, ids (JSON). The lowest of the requested live deliveries the read watermark covers. */
export const LOWEST_COVERED = `
select min(d.message_id)::text as x from sm_delivery d
where d.user_id = ? and d.message_id in (select value::bigint from jsonb_array_elements_text(?::jsonb))
  and d.message_id <= ${readUptoOf('d.user_id')} and ${LIVE}`;

/**
 * Direct sends in ONE statement (atomic on its own): one send, or several that queued while others ran
 * (group commit, OrmMessageStore.grouped). An upsert of each recipient registers new users and bumps the
 * counters of known ones (by their number of sends in the statement), then each message and a delivery
 * per recipient. The upsert, not a separate UPDATE, keeps counters right when two sends register the same
 * new user at once. Recipients are locked in a fixed order (collate "C", as CATCH_UP) so concurrent sends
 * cannot deadlock, and BEFORE any message takes its id and delivery time (`ids` reads the upsert's count,
 * so the upsert runs to completion first): a mark-all-read, which holds the user's lock while it reads,
 * therefore never sets a watermark above a delivery still to commit, and each user's deliveries grow in id
 * and time together.
 * Param: a JSON array of sends, each { u: [user ids, distinct], l: level, t: text, x: extra tags,
 * r: url, d: data, c: createdAt, e: expiresAt }. One row per (send, recipient): `i` is the send's 1-based
 * position, `unread` the recipient's count just after that send's message (a user with several sends
 * counts them in id order), `behind`: the recipient has broadcasts not yet copied (the caller then runs
 * CATCH_UP for them).
 */
export const SEND = `
with s as (
  select a.i::int as i, x.u, x.l, x.t, x.x, x.r, x.d, x.c, x.e
  from jsonb_array_elements(?::jsonb) with ordinality as a(v, i)
  cross join lateral jsonb_to_record(a.v) as x(u jsonb, l smallint, t text, x text, r text, d jsonb, c timestamptz, e timestamptz)
), pairs as (
  select s.i, r.value as user_id from s cross join lateral jsonb_array_elements_text(s.u) as r
), u as (
  insert into sm_user as su (id, bcast_id, unread_count, total_count)
  select user_id, ${LATEST_BROADCAST}, count(*), count(*) from pairs group by user_id order by user_id collate "C"
  on conflict (id) do update set unread_count = su.unread_count + excluded.unread_count, total_count = su.total_count + excluded.total_count
  returning su.id, su.unread_count, su.bcast_id, su.read_upto, (su.xmax::text = '0') as inserted
), ids as (
  select s.i, nextval(pg_get_serial_sequence('sm_message', 'id')) as id
  from s cross join (select count(*) from u) as locked
), m as (
  insert into sm_message (id, level, text, extra_tags, url, data, created_at, delivered_at, expires_at, broadcast)
  select ids.id, s.l, s.t, s.x, s.r, s.d, s.c, clock_timestamp(), s.e, false from s join ids using (i)
  returning id, level, created_at, delivered_at, expires_at
), d as (
  insert into sm_delivery (user_id, message_id, level, created_at, delivered_at, expires_at)
  select pairs.user_id, m.id, m.level, m.created_at, m.delivered_at, m.expires_at from pairs join ids using (i) join m on m.id = ids.id
  returning 1
), stats as (
  update sm_stats set known_users = known_users + (select count(*) from u where inserted)
  where id = 1 and exists (select 1 from u where inserted)
  returning 1
), later as (
  -- How many of the batch's sends to the same user come after this one (their messages have larger ids).
  select pairs.i, pairs.user_id, ids.id,
    (count(*) over (partition by pairs.user_id order by ids.id desc rows between unbounded preceding and current row) - 1)::int as after
  from pairs join ids using (i)
), x as materialized (
  -- Materialised: once per recipient; inlined, it would run once per send of the batch.
  select u.id, ${expiredUnread('u.id', 'u.read_upto')} as expired from u
)
select later.i, later.id::text as id, u.id as user_id,
  u.unread_count - later.after - x.expired as unread,
  u.bcast_id < ${LATEST_BROADCAST} as behind
from later join u on u.id = later.user_id join x on x.id = u.id`;

/** Those of the listed users with broadcasts not yet copied. */
export const BEHIND_OF = `select id from sm_user where id in ${IDS} and bcast_id < ${LATEST_BROADCAST}`;

/** Params: message id, users (JSON). Each known user's exact unread count and whether the message is theirs. */
export const BROADCAST_VIEWS = `
select u.id as user_id,
  exists (select 1 from sm_delivery d where d.user_id = u.id and d.message_id = ?::bigint and ${LIVE}) as has,
  u.unread_count - ${expiredUnread('u.id', 'u.read_upto')} as unread
from sm_user u where u.id in ${IDS}`;

/** Exact unread counts of several users. */
export const UNREAD_OF = `
select u.id as user_id,
  u.unread_count - ${expiredUnread('u.id', 'u.read_upto')} as unread
from sm_user u where u.id in ${IDS}`;

export const INSERT_MESSAGE = `
insert into sm_message (level, text, extra_tags, url, data, created_at, expires_at, broadcast)
values (?, ?, ?, ?, ?::jsonb, ?, ?, ?)
returning id::text as id, delivered_at`;

/** A record's columns from a delivery `d` and its message `m`; `ru`: the user's read watermark. */
export const messageColumns = (ru: string) => `d.message_id::text as id, ${readAtOf(ru)} as read_at,
  m.level, m.text, m.extra_tags, m.url, m.data, m.created_at, m.expires_at`;
export const DELIVERIES_WITH_MESSAGES = 'from sm_delivery d join sm_message m on m.id = d.message_id';
/** A user's deliveries with their messages; `u` is the user (for the read watermark). */
export const SELECT_MESSAGES = `select ${messageColumns('u.read_upto')} ${DELIVERIES_WITH_MESSAGES} join sm_user u on u.id = d.user_id`;

/**
 * The one-statement writes below share a shape. `p` binds the user and the requested ids once; `st` says
 * whether the user has broadcasts not yet copied: then NOTHING changes (`behind` comes back true), the
 * store runs CATCH_UP and repeats the statement, so a broadcast id is never wrongly "not found".
 * Each returns one row: behind, what changed, the user's exact unread count after, and the messages found.
 */
const PARAMS = `p as (select ?::text as user_id, ?::jsonb as ids)`;
/**
 * `st` locks the user's row, and FOR UPDATE hands back its newest version: the watermark a concurrent
 * mark-all-read has just committed is the one used, so no delivery is counted as read twice.
 */
const STATE = `st as (
  select u.id, u.unread_count, u.total_count, u.read_upto, u.bcast_id < ${LATEST_BROADCAST} as behind
  from sm_user u where u.id = (select user_id from p) for update
), go as (select id from st where not behind)`;
/**
 * How the requested deliveries are matched (alias d); the statements come in two forms, `idCount` picks one.
 * - One id (the usual call: markRead of one message): an equality, so user and id are equalities on both
 *   columns of the primary key, one probe whatever the statistics say.
 * - Several: `message_id = any(array)`, the array computed once (an InitPlan). With `in (select ...)` the
 *   planner chose a hash semi join that walked all of the user's unread deliveries (W6 cost PostgreSQL
 *   ~480 µs for a user with 1,000 unread). It still estimates the array's size blind and may rather walk
 *   the user's range of an index and filter: with one id in this form, a user with 100,000 unread cost
 *   100,002 rows read, 13–20 ms, with fresh statistics or none.
 */
export type IdCount = 'one' | 'many';
export const idCount = (ids: readonly unknown[]): IdCount => (ids.length === 1 ? 'one' : 'many');
const requested = (ids: IdCount) =>
  ids === 'one' ? 'd.message_id = (select (p.ids->>0)::bigint from p)' : 'd.message_id = any(array(select value::bigint from p, jsonb_array_elements_text(p.ids)))';
const RU = '(select read_upto from st)';
const EXPIRED_UNREAD = expiredUnread('(select user_id from p)', RU);

/** The requested deliveries that are the user's and alive, as JSON, with `readAt` after the change. */
const FOUND = (readAt: string, ids: IdCount) => `(
  select json_agg(json_build_object(
    'id', d.message_id::text, 'read_at', ${readAt}, 'level', m.level, 'text', m.text, 'extra_tags', m.extra_tags,
    'url', m.url, 'data', m.data, 'created_at', m.created_at, 'expires_at', m.expires_at))
  from sm_delivery d join sm_message m on m.id = d.message_id
  where d.user_id = (select user_id from p) and ${requested(ids)} and ${LIVE}
)`;

/**
 * Marking unread runs with the user locked and their requested deliveries above the watermark
 * (the store lowers it first, LOWER_READ_UPTO): a delivery the watermark covers cannot be unread alone.
 */
const setRead = (read: boolean, ids: IdCount) => `
with ${PARAMS}, ${STATE}, upd as (
  update sm_delivery d set read_at = ${read ? 'now()' : 'null'}
  where d.user_id = (select id from go) and ${requested(ids)} and d.message_id > ${RU}
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
  ${FOUND(`case when d.message_id in (select message_id from upd) then ${read ? 'now()' : 'null::timestamptz'} else ${readAtOf(RU)} end`, ids)} as messages`;

/** Params: user, ids (JSON; `one`: exactly one id). */
export const MARK_READ = { one: setRead(true, 'one'), many: setRead(true, 'many') };
export const MARK_UNREAD = { one: setRead(false, 'one'), many: setRead(false, 'many') };

/** Params: user, ids (JSON; `one`: exactly one id). Returns behind, deleted (ids), unread. */
const deleteDeliveries = (ids: IdCount) => `
with ${PARAMS}, ${STATE}, del as (
  delete from sm_delivery d
  where d.user_id = (select id from go) and ${requested(ids)} and ${LIVE}
  returning d.message_id, d.read_at
), cnt as (
  update sm_user su
  set unread_count = su.unread_count - (select count(*) from del where read_at is null and message_id > ${RU}),
      total_count = su.total_count - (select count(*) from del)
  where su.id = (select id from go) and exists (select 1 from del)
  returning su.unread_count
)
select coalesce((select behind from st), false) as behind,
  (select json_agg(message_id::text order by message_id) from del) as deleted,
  coalesce((select unread_count from cnt), (select unread_count from st), 0) - ${EXPIRED_UNREAD} as unread`;
export const DELETE_DELIVERIES = { one: deleteDeliveries('one'), many: deleteDeliveries('many') };

/**
 * Params: user, until, user. Locks the user (LOCK_USER) and finds the newest delivery at or before until
 * (a backward walk of the primary key that stops at the first match: the very first when until is now).
 * Deliveries grow in id and time together, so everything at or below it was delivered at or before until.
 * It is read before the lock is granted, which is safe: a delivery still to commit belongs to a send
 * holding this lock, which took its id after every delivery already committed.
 */
export const LOCK_FOR_MARK_ALL = `
select u.bcast_id < ${LATEST_BROADCAST} as behind, (
  select d.message_id::text from sm_delivery d
  where d.user_id = ? and d.delivered_at <= ? order by d.message_id desc limit 1
) as upto
from sm_user u where u.id = ? for update`;

/**
 * Params: user, upto, user, upto, user, user (literal values, so the planner sees the real bound;
 * upto from LOCK_FOR_MARK_ALL). Marks read everything up
 * to it by raising the read watermark and recording the mark: O(1) whatever the number of unread. Runs
 * with the user locked and caught up with broadcasts (LOCK_FOR_MARK_ALL earlier in the same transaction),
 * so what it counts is the committed state. The new unread counter is the unread deliveries above the new
 * watermark (normally none); n is the live ones it covered.
 */
export const MARK_ALL_READ = `
with p as (select ?::text as user_id, ?::bigint as upto
), nw as (
  select su.id, p.upto, su.read_upto as old, su.unread_count from sm_user su, p where su.id = p.user_id and p.upto > su.read_upto
), above as (
  -- A range of the unread index above the new watermark, both ends given as row comparisons: they keep
  -- the planner off the global message_id index (which it picks for "message_id > a recent id", then
  -- walks every user's newer messages), and unlike an equality on user_id they start the scan at the bound.
  select count(*)::int as n from sm_delivery d
  where (d.user_id, d.message_id) > (?::text, ?::bigint) and (d.user_id, d.message_id) <= (?::text, ${BIGINT_MAX}) and d.read_at is null
), expired as (
  select (count(*) filter (where e.message_id <= nw.upto))::int as covered, (count(*) filter (where e.message_id > nw.upto))::int as rest
  from ${expiredOf('?::text')}, nw where e.read_at is null and e.message_id > nw.old
), mark as (
  insert into sm_read_mark (user_id, upto, at) select id, upto, now() from nw returning 1
), raise as (
  update sm_user su set read_upto = nw.upto, unread_count = (select n from above) from nw where su.id = nw.id returning 1
)
select coalesce((select nw.unread_count - (select n from above) - (select covered from expired) from nw), 0) as n,
  (select n from above) - coalesce((select rest from expired), 0) as unread,
  exists (select 1 from nw) as raised`;

/** Reclaims a bounded batch of expired deliveries, keeping the counters exact. */
export const CLEANUP_DELIVERIES = `
with victims as (
  -- Through the expired messages (sm_message's expires_at index, then each message's deliveries): a
  -- global expires_at index on sm_delivery would cost every send one more index entry (WAL per send).
  select d.user_id, d.message_id from sm_message m join sm_delivery d on d.message_id = m.id
  where m.expires_at <= now() order by m.expires_at limit ? for update of d skip locked
), del as (
  delete from sm_delivery d using victims v
  where d.user_id = v.user_id and d.message_id = v.message_id
  returning d.user_id, d.message_id, d.read_at
), per_user as (
  select user_id, array_agg(message_id) filter (where read_at is null) as unread_ids, count(*) as total from del group by user_id
), upd as (
  -- Which of them were unread depends on the watermark: judged against the user row this update locks
  -- (re-evaluated on its newest version if a mark-all-read commits meanwhile).
  update sm_user u
  set unread_count = u.unread_count - (select count(*) from unnest(p.unread_ids) x where x > u.read_upto),
      total_count = u.total_count - p.total
  from per_user p where u.id = p.user_id
  returning 1
)
select (select count(*) from del)::int as n, (select json_agg(user_id) from per_user) as users`;

/**
 * Params: users (JSON). Drops the read marks of these users that no longer cover any delivery (what they
 * covered has expired or been deleted): marks otherwise grow by one per mark-all-read. A mark covers the
 * watermark-read deliveries between the next lower mark and itself; only a mark-all-read (in a new mark's
 * range) or LOWER_READ_UPTO (which writes read times out first) changes what lies there, so an empty
 * range stays empty.
 */
export const CLEANUP_READ_MARKS = `
delete from sm_read_mark k where k.user_id in ${IDS} and not exists (
  select 1 from sm_delivery d
  where d.user_id = k.user_id and d.read_at is null and d.message_id <= k.upto
    and d.message_id > coalesce((select max(k2.upto) from sm_read_mark k2 where k2.user_id = k.user_id and k2.upto < k.upto), 0)
)
returning 1`;

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
  select scope, key from sm_idempotency where created_at < now() - make_interval(secs => ?) limit ?
)
returning 1`;

export const IDEMPOTENCY_EXPIRE_ONE = `
delete from sm_idempotency where scope = ? and key = ? and created_at < now() - make_interval(secs => ?)`;

export const IDEMPOTENCY_INSERT = `
insert into sm_idempotency (scope, key, fingerprint) values (?, ?, ?)
on conflict do nothing
returning 1`;

export const IDEMPOTENCY_GET = `select fingerprint, response from sm_idempotency where scope = ? and key = ?`;

export const IDEMPOTENCY_SAVE = `update sm_idempotency set response = ?::jsonb where scope = ? and key = ?`;

export const IDEMPOTENCY_FORGET = `delete from sm_idempotency where scope = ? and key = ? and fingerprint = ?`;

import { statement } from '../statement.js';

/**
 * Direct sends in ONE statement (atomic on its own): one send, or several that queued while others ran
 * (group commit). An upsert of each recipient registers new users and bumps the counters of known ones
 * (by their number of sends in the statement), then each message and a delivery per recipient. The
 * upsert, not a separate UPDATE, keeps counters right when two sends register the same new user at once.
 * Recipients are locked in a fixed order (collate "C", as CATCH_UP) so concurrent sends cannot deadlock,
 * and BEFORE any message takes its id and delivery time (`ids` reads the upsert's count, so the upsert
 * runs to completion first): a mark-all-read, which holds the user's lock while it reads, therefore never
 * sets a watermark above a delivery still to commit, and each user's deliveries grow in id and time together.
 *
 * Preferences: a recipient who disabled the send's category is left out (`pairs`) unless it is critical.
 * Grouping (`prev`): a recipient's unread, unsnoozed, live delivery with the send's group key is marked
 * read and the new one counts on from it. `prev` reads before the upsert's lock, so a grouped send runs
 * alone, in a transaction that locked its recipients first (LOCK_RECIPIENTS): then it reads what every
 * earlier send to them committed. Without a category or group key both steps are no-ops, and so is `cat`,
 * which keeps the recipients' counters of each category (sm_category) beside sm_user's.
 *
 * :sends is a JSON array of sends, each { u: [user ids, distinct], l: level, t: text, x: extra tags,
 * r: url, d: data, c: createdAt, e: expiresAt, k: category, g: group key, p: critical }. One row per
 * (send, recipient): `i` is the send's 1-based position, `unread` and `unseen` the recipient's counts just
 * after that send's message (a user with several sends counts them in id order), `behind`: the recipient
 * has broadcasts not yet copied (the store then catches them up), `group_count` and `superseded` (the id
 * of the delivery it marked read, or null). A send that reached nobody answers one row with user_id null.
 * The expired-unread correction is materialised: once per recipient, not once per send.
 */
export const SEND = statement<
  { sends: string },
  { i: number; id: string; user_id: string | null; unread: number; unseen: number; behind: boolean; group_count: number; superseded: string | null }
>(`
with s as (
  select a.i::int as i, x.u, x.l, x.t, x.x, x.r, x.d, x.c, x.e, x.k, x.g, coalesce(x.p, false) as p
  from jsonb_array_elements(:sends::jsonb) with ordinality as a(v, i)
  cross join lateral jsonb_to_record(a.v) as x(u jsonb, l smallint, t text, x text, r text, d jsonb, c timestamptz, e timestamptz, k text, g text, p boolean)
), pairs as (
  select s.i, r.value as user_id from s cross join lateral jsonb_array_elements_text(s.u) as r
  where s.k is null or s.p
     or not exists (select 1 from sm_preference p where p.user_id = r.value and p.category = s.k and not p.enabled)
), prev as (
  select pairs.i, pairs.user_id, o.message_id, o.group_count, o.unseen, o.category
  from pairs join s on s.i = pairs.i
  cross join lateral (
    select d.message_id, d.group_count, d.category,
      d.seen_at is null and d.message_id > greatest(su.seen_upto, sm_cat_upto(d.user_id, d.category, 'seen')) as unseen
    from sm_delivery d join sm_user su on su.id = d.user_id
    where d.user_id = pairs.user_id and d.group_key = s.g and d.read_at is null and d.snoozed_until is null
      and d.message_id > su.read_upto and d.message_id > sm_cat_upto(d.user_id, d.category, 'read')
      and (d.expires_at is null or d.expires_at > now())
    order by d.message_id desc limit 1
  ) o
  where s.g is not null
), u as (
  insert into sm_user as su (id, bcast_id, unread_count, unseen_count, total_count)
  select pairs.user_id, (select coalesce(max(id), 0) from sm_message where broadcast),
    count(*) - count(prev.message_id), count(*) - count(prev.message_id) filter (where prev.unseen), count(*)
  from pairs left join prev on prev.i = pairs.i and prev.user_id = pairs.user_id
  group by pairs.user_id order by pairs.user_id collate "C"
  on conflict (id) do update
  set unread_count = su.unread_count + excluded.unread_count, unseen_count = su.unseen_count + excluded.unseen_count,
      total_count = su.total_count + excluded.total_count
  returning su.id, su.unread_count, su.unseen_count, su.bcast_id, su.seen_upto, su.read_upto, su.archived_upto, (su.xmax::text = '0') as inserted
), sup as materialized (
  -- Marks each superseded delivery read: one primary-key probe each (sm_supersede, a function of the
  -- migrations), whatever this statement's plan. Run once ids counts it.
  select sm_supersede(prev.user_id, prev.message_id) as done from prev
), ids as (
  select s.i, nextval(pg_get_serial_sequence('sm_message', 'id')) as id
  from s cross join (select count(*) from u) as locked cross join (select count(*) from sup) as superseded
), m as (
  insert into sm_message (id, level, text, extra_tags, url, data, created_at, delivered_at, expires_at, broadcast, category, group_key, critical)
  select ids.id, s.l, s.t, s.x, s.r, s.d, s.c, clock_timestamp(), s.e, false, s.k, s.g, s.p from s join ids using (i)
  returning id, level, created_at, delivered_at, expires_at, category, group_key
), d as (
  insert into sm_delivery (user_id, message_id, level, created_at, delivered_at, expires_at, category, group_key, group_count)
  select pairs.user_id, m.id, m.level, m.created_at, m.delivered_at, m.expires_at, m.category, m.group_key, coalesce(prev.group_count, 0) + 1
  from pairs join ids using (i) join m on m.id = ids.id left join prev on prev.i = pairs.i and prev.user_id = pairs.user_id
  returning 1
), cat as (
  -- The category counters: +1 for each new delivery in one, -1 unread (and unseen) for each superseded one.
  insert into sm_category as sc (user_id, category, total_count, unread_count, unseen_count)
  select x.user_id, x.category, sum(x.total), sum(x.unread), sum(x.unseen)
  from (
    select pairs.user_id, s.k as category, 1 as total, 1 as unread, 1 as unseen from pairs join s on s.i = pairs.i where s.k is not null
    union all
    select prev.user_id, prev.category, 0, -1, case when prev.unseen then -1 else 0 end from prev where prev.category is not null
  ) x join u on u.id = x.user_id
  group by x.user_id, x.category order by x.user_id collate "C", x.category
  on conflict (user_id, category) do update
  set total_count = sc.total_count + excluded.total_count, unread_count = sc.unread_count + excluded.unread_count,
      unseen_count = sc.unseen_count + excluded.unseen_count
  returning 1
), stats as (
  update sm_stats set known_users = known_users + (select count(*) from u where inserted)
  where id = 1 and exists (select 1 from u where inserted)
  returning 1
), later as (
  -- How many of the batch's sends to the same user come after this one (their messages have larger ids).
  select pairs.i, pairs.user_id,
    (count(*) over (partition by pairs.user_id order by ids.id desc rows between unbounded preceding and current row) - 1)::int as after
  from pairs join ids using (i)
), x as materialized (
  select u.id, e.unread, e.unseen from u cross join lateral sm_expired(u.id, u.seen_upto, u.read_upto, u.archived_upto) e
)
select ids.i, ids.id::text as id, r.user_id, r.unread, r.unseen, r.behind, r.group_count, r.superseded
from ids left join (
  select later.i, u.id as user_id,
    u.unread_count - later.after - x.unread as unread,
    u.unseen_count - later.after - x.unseen as unseen,
    u.bcast_id < (select coalesce(max(id), 0) from sm_message where broadcast) as behind,
    coalesce(prev.group_count, 0) + 1 as group_count, prev.message_id::text as superseded
  from later join u on u.id = later.user_id join x on x.id = u.id
  left join prev on prev.i = later.i and prev.user_id = later.user_id
) r on r.i = ids.i`);

/**
 * A grouped send's first step, in its transaction: registers the recipients it does not know yet, in
 * SEND's order (a user another transaction is registering is waited for, until it commits).
 */
export const REGISTER_RECIPIENTS = statement<{ userIds: string }>(`
with ins as (
  insert into sm_user (id, bcast_id)
  select value, (select coalesce(max(id), 0) from sm_message where broadcast)
  from jsonb_array_elements_text(:userIds::jsonb) order by value collate "C"
  on conflict do nothing
  returning 1
)
update sm_stats set known_users = known_users + (select count(*) from ins)
where id = 1 and exists (select 1 from ins)`);

/**
 * Its second step: locks the recipients in SEND's order. A statement of its own, so SEND, the next one,
 * reads every send to them committed before (a grouped send's lookup of the unread message of its group).
 */
export const LOCK_RECIPIENTS = statement<{ userIds: string }>(`
select id from sm_user where id in (select value from jsonb_array_elements_text(:userIds::jsonb))
order by id collate "C" for update`);

import { statement } from '../statement.js';

/**
 * Direct sends in ONE statement (atomic on its own): one send, or several that queued while others ran
 * (group commit), with or without group keys. An upsert of each recipient registers new users and bumps
 * the counters of known ones (by their number of sends in the statement that stay unread), then each
 * message and a delivery per recipient. The upsert, not a separate UPDATE, keeps counters right when two
 * sends register the same new user at once. Recipients are locked in a fixed order (collate "C", as
 * CATCH_UP) so concurrent sends cannot deadlock, and BEFORE any message takes its id and delivery time
 * (`ids` reads the upsert's count, so the upsert runs to completion first): a mark-all-read, which holds
 * the user's lock while it reads, therefore never sets a watermark above a delivery still to commit, and
 * each user's deliveries grow in id and time together.
 *
 * Preferences: a recipient who disabled the send's category is left out (`pairs`) unless it is critical.
 * Grouping: under the locks, sm_supersede_groups (a function of the migrations, with a snapshot of its own)
 * marks read each recipient's unread message of the group as every earlier send committed it (`sup`), and
 * the new delivery counts on from it. Two sends of one group to one user in a batch chain in id order
 * (`chain`): the earlier is stored already read, superseded by the later. Without a category or group key
 * these steps are no-ops, and so is `cat`, which keeps the recipients' counters of each category
 * (sm_category) beside sm_user's.
 *
 * :sends is a JSON array of sends, each { u: [user ids, distinct], l: level, t: text, x: extra tags,
 * r: url, d: data, c: createdAt, e: expiresAt, k: category, g: group key, p: critical }. One row per
 * (send, recipient): `i` is the send's 1-based position, `unread` and `unseen` the recipient's counts just
 * after that send's message (a user with several sends counts them in id order), `behind`: the recipient
 * has broadcasts not yet copied (the store then catches them up), `group_count` and `superseded` (the id
 * of the delivery it marked read, or null). A send that reached nobody answers one row with user_id null.
 * The expired-unread correction is materialised: once per recipient, not once per send; where it is not
 * zero it is read again after the locks (`x`).
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
  select s.i, r.value as user_id, s.g from s cross join lateral jsonb_array_elements_text(s.u) as r
  where s.k is null or s.p
     or not exists (select 1 from sm_preference p where p.user_id = r.value and p.category = s.k and not p.enabled)
), u as (
  -- Unread and unseen grow by the sends that stay so: of a batch's sends of one group to a user, the last.
  insert into sm_user as su (id, bcast_id, unread_count, unseen_count, total_count)
  select pairs.user_id, (select coalesce(max(id), 0) from sm_message where broadcast),
    count(*) - count(pairs.g) + count(distinct pairs.g), count(*) - count(pairs.g) + count(distinct pairs.g), count(*)
  from pairs
  group by pairs.user_id order by pairs.user_id collate "C"
  on conflict (id) do update
  set unread_count = su.unread_count + excluded.unread_count, unseen_count = su.unseen_count + excluded.unseen_count,
      total_count = su.total_count + excluded.total_count
  returning su.id, su.unread_count, su.unseen_count, su.bcast_id, su.seen_upto, su.read_upto, su.archived_upto, (su.xmax::text = '0') as inserted
), sup as materialized (
  -- Its input reads all of u: the function runs once every recipient is locked.
  select * from sm_supersede_groups((
    select jsonb_agg(distinct jsonb_build_object('u', pairs.user_id, 'g', pairs.g))
    from pairs join u on u.id = pairs.user_id where pairs.g is not null
  ))
), sup_user as (
  select sup.user_id, count(*)::int as unread, (count(*) filter (where sup.unseen))::int as unseen from sup group by sup.user_id
), ids as (
  select s.i, nextval(pg_get_serial_sequence('sm_message', 'id')) as id
  from s cross join (select count(*) from u) as locked cross join (select count(*) from sup) as superseded
), chain as (
  select pairs.i, pairs.user_id, pairs.g, row_number() over w as k, lag(ids.id) over w as before, lead(ids.id) over w is null as last
  from pairs join ids using (i) where pairs.g is not null
  window w as (partition by pairs.user_id, pairs.g order by ids.id)
), grp as (
  -- A grouped pair's count and what it superseded, and what it adds to the user's unread and unseen counts.
  select chain.i, chain.user_id, chain.last, (coalesce(sup.group_count, 0) + chain.k)::int as group_count,
    coalesce(chain.before, sup.message_id) as superseded,
    case when chain.before is null and sup.message_id is null then 1 else 0 end as unread,
    case when chain.before is null and (sup.message_id is null or not sup.unseen) then 1 else 0 end as unseen
  from chain left join sup on sup.user_id = chain.user_id and sup.group_key = chain.g
), m as (
  insert into sm_message (id, level, text, extra_tags, url, data, created_at, delivered_at, expires_at, broadcast, category, group_key, critical)
  select ids.id, s.l, s.t, s.x, s.r, s.d, s.c, clock_timestamp(), s.e, false, s.k, s.g, s.p from s join ids using (i)
  returning id, level, created_at, delivered_at, expires_at, category, group_key
), d as (
  insert into sm_delivery (user_id, message_id, level, created_at, delivered_at, expires_at, category, group_key, group_count, read_at)
  select pairs.user_id, m.id, m.level, m.created_at, m.delivered_at, m.expires_at, m.category, m.group_key, coalesce(grp.group_count, 1),
    case when not grp.last then clock_timestamp() end
  from pairs join ids using (i) join m on m.id = ids.id left join grp on grp.i = pairs.i and grp.user_id = pairs.user_id
  returning 1
), cat as (
  -- The category counters: +1 for each new delivery in one (unread unless the batch superseded it), -1
  -- unread (and unseen) for each message sup superseded.
  insert into sm_category as sc (user_id, category, total_count, unread_count, unseen_count)
  select x.user_id, x.category, sum(x.total), sum(x.unread), sum(x.unseen)
  from (
    select pairs.user_id, s.k as category, 1 as total, case when grp.last = false then 0 else 1 end as unread, case when grp.last = false then 0 else 1 end as unseen
    from pairs join s on s.i = pairs.i left join grp on grp.i = pairs.i and grp.user_id = pairs.user_id where s.k is not null
    union all
    select sup.user_id, sup.category, 0, -1, case when sup.unseen then -1 else 0 end from sup where sup.category is not null
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
  -- What the batch's sends to the same user after this one (larger ids) add to their unread and unseen counts.
  select pairs.i, pairs.user_id,
    (sum(coalesce(grp.unread, 1)) over w - coalesce(grp.unread, 1))::int as unread,
    (sum(coalesce(grp.unseen, 1)) over w - coalesce(grp.unseen, 1))::int as unseen
  from pairs join ids using (i) left join grp on grp.i = pairs.i and grp.user_id = pairs.user_id
  window w as (partition by pairs.user_id order by ids.id desc rows between unbounded preceding and current row)
), x0 as materialized (
  select u.id, e.unread, e.unseen from u cross join lateral sm_expired(u.id, u.seen_upto, u.read_upto, u.archived_upto) e
), x as (
  -- Recipients with expired deliveries counted are read again once all are locked (sm_expired_of has a
  -- snapshot of its own): a cleanup that reclaimed them while SEND waited has lowered u's counters already.
  select x0.id, x0.unread, x0.unseen from x0 where x0.unread = 0 and x0.unseen = 0
  union all
  select e.user_id, e.unread, e.unseen from sm_expired_of((
    select jsonb_agg(jsonb_build_object('id', u.id, 'seen_upto', u.seen_upto, 'read_upto', u.read_upto, 'archived_upto', u.archived_upto))
    from x0 join u on u.id = x0.id where x0.unread > 0 or x0.unseen > 0
  )) e
)
select ids.i, ids.id::text as id, r.user_id, r.unread, r.unseen, r.behind, r.group_count, r.superseded
from ids left join (
  select later.i, u.id as user_id,
    u.unread_count - coalesce(su.unread, 0) - later.unread - x.unread as unread,
    u.unseen_count - coalesce(su.unseen, 0) - later.unseen - x.unseen as unseen,
    u.bcast_id < (select coalesce(max(id), 0) from sm_message where broadcast) as behind,
    coalesce(grp.group_count, 1) as group_count, grp.superseded::text as superseded
  from later join u on u.id = later.user_id join x on x.id = u.id
  left join sup_user su on su.user_id = u.id
  left join grp on grp.i = later.i and grp.user_id = later.user_id
) r on r.i = ids.i`);

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
 * :sends is a JSON array of sends, each { u: [user ids, distinct], l: level, t: text, x: extra tags,
 * r: url, d: data, c: createdAt, e: expiresAt }. One row per (send, recipient): `i` is the send's 1-based
 * position, `unread` and `unseen` the recipient's counts just after that send's message (a user with several sends
 * counts them in id order), `behind`: the recipient has broadcasts not yet copied (the store then catches
 * them up). The expired-unread correction is materialised: once per recipient, not once per send.
 */
export const SEND = statement<{ sends: string }, { i: number; id: string; user_id: string; unread: number; unseen: number; behind: boolean }>(`
with s as (
  select a.i::int as i, x.u, x.l, x.t, x.x, x.r, x.d, x.c, x.e
  from jsonb_array_elements(:sends::jsonb) with ordinality as a(v, i)
  cross join lateral jsonb_to_record(a.v) as x(u jsonb, l smallint, t text, x text, r text, d jsonb, c timestamptz, e timestamptz)
), pairs as (
  select s.i, r.value as user_id from s cross join lateral jsonb_array_elements_text(s.u) as r
), u as (
  insert into sm_user as su (id, bcast_id, unread_count, unseen_count, total_count)
  select user_id, (select coalesce(max(id), 0) from sm_message where broadcast), count(*), count(*), count(*)
  from pairs group by user_id order by user_id collate "C"
  on conflict (id) do update
  set unread_count = su.unread_count + excluded.unread_count, unseen_count = su.unseen_count + excluded.unseen_count,
      total_count = su.total_count + excluded.total_count
  returning su.id, su.unread_count, su.unseen_count, su.bcast_id, su.seen_upto, su.read_upto, su.archived_upto, (su.xmax::text = '0') as inserted
), ids as (
  select s.i, nextval(pg_get_serial_sequence('sm_message', 'id')) as id
  from s cross join (select count(*) from u) as locked
), m as (
  insert into sm_message (id, level, text, extra_tags, url, data, created_at, delivered_at, expires_at, broadcast)
  select ids.id, s.l, s.t, s.x, s.r, s.d, s.c, clock_timestamp(), s.e, false from s join ids using (i)
  returning id, level, created_at, delivered_at, expires_at
), d as (
  insert into sm_delivery (user_id, message_id, level, created_at, delivered_at, expires_at)
  select pairs.user_id, m.id, m.level, m.created_at, m.delivered_at, m.expires_at
  from pairs join ids using (i) join m on m.id = ids.id
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
  select u.id, e.unread, e.unseen from u cross join lateral sm_expired(u.id, u.seen_upto, u.read_upto, u.archived_upto) e
)
select later.i, later.id::text as id, u.id as user_id,
  u.unread_count - later.after - x.unread as unread,
  u.unseen_count - later.after - x.unseen as unseen,
  u.bcast_id < (select coalesce(max(id), 0) from sm_message where broadcast) as behind
from later join u on u.id = later.user_id join x on x.id = u.id`);

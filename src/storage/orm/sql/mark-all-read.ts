/** markAllRead: two statements in one transaction, holding the user's row lock. */
import { statement } from '../statement.js';

/**
 * Locks the user and finds the newest delivery at or before :until (a backward walk of the primary key
 * that stops at the first match: the very first when :until is now). Deliveries grow in id and time
 * together, so everything at or below it was delivered at or before :until. It is read before the lock
 * is granted, which is safe: a delivery still to commit belongs to a send holding this lock, which took
 * its id after every delivery already committed.
 */
export const LOCK_FOR_MARK_ALL = statement<{ userId: string; until: Date }, { behind: boolean; upto: string | null }>(`
select u.bcast_id < (select coalesce(max(id), 0) from sm_message where broadcast) as behind, (
  select d.message_id::text from sm_delivery d
  where d.user_id = :userId and d.delivered_at <= :until order by d.message_id desc limit 1
) as upto
from sm_user u where u.id = :userId
for update`);

/**
 * Marks read everything up to :upto (from LOCK_FOR_MARK_ALL, in the same transaction, the user caught
 * up with broadcasts) by raising the read watermark and recording the mark: O(1) whatever the number of
 * unread. Runs unprepared, so the planner sees the real bound. The new unread counter is the unread
 * deliveries above the new watermark (normally none); n is the live ones it covered; raised is false
 * when the watermark was already there.
 */
export const MARK_ALL_READ = statement<{ userId: string; upto: string }, { n: number; unread: number; raised: boolean }>(`
with nw as (
  select su.id, :upto::bigint as upto, su.read_upto as old, su.unread_count from sm_user su
  where su.id = :userId::text and :upto::bigint > su.read_upto
), above as (
  -- A range of the unread index above the new watermark, both ends given as row comparisons: they keep
  -- the planner off the global message_id index (which it picks for "message_id > a recent id", then
  -- walks every user's newer messages), and unlike an equality on user_id they start the scan at the bound.
  select count(*)::int as n from sm_delivery d
  where (d.user_id, d.message_id) > (:userId::text, :upto::bigint)
    and (d.user_id, d.message_id) <= (:userId::text, 9223372036854775807::bigint)
    and d.read_at is null
), expired as (
  select (count(*) filter (where e.message_id <= nw.upto))::int as covered,
         (count(*) filter (where e.message_id > nw.upto))::int as rest
  from (
    select e.read_at, e.message_id from sm_delivery e
    where e.user_id = :userId::text and e.expires_at <= now() order by e.expires_at offset 0
  ) e, nw
  where e.read_at is null and e.message_id > nw.old
), mark as (
  insert into sm_read_mark (user_id, upto, at) select id, upto, now() from nw returning 1
), raise as (
  update sm_user su set read_upto = nw.upto, unread_count = (select n from above) from nw where su.id = nw.id returning 1
)
select coalesce((select nw.unread_count - (select n from above) - (select covered from expired) from nw), 0) as n,
  (select n from above) - coalesce((select rest from expired), 0) as unread,
  exists (select 1 from nw) as raised`);

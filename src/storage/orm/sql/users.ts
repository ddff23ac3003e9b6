/**
 * Statements about users: registering them, their exact counters and whether broadcasts wait for them.
 * States (entities.ts): a delivery is unread when `read_at is null and message_id > read_upto` and it is
 * not snoozed. "Expired" deliveries vanish from every read at once; the counters still hold them until
 * the cleanup reclaims them, so an exact count subtracts the user's expired ones (sm_expired, a function
 * of the migrations that keeps to the (user_id, expires_at) index).
 */
import type { InboxCounts } from '../../../domain/message-store.js';
import { statement } from '../statement.js';

/** New users start after the newest broadcast: users known later do not get earlier broadcasts. */
export const REGISTER_USERS = statement<{ userIds: string }>(`
with ins as (
  insert into sm_user (id, bcast_id)
  select value, (select coalesce(max(id), 0) from sm_message where broadcast)
  from jsonb_array_elements_text(:userIds::jsonb)
  on conflict do nothing
  returning 1
)
update sm_stats set known_users = known_users + (select count(*) from ins)
where id = 1 and exists (select 1 from ins)`);

/** The user's five counts (InboxCounts), corrected for expired deliveries not yet reclaimed, and whether broadcasts newer than their watermark exist. */
export const USER_STATE = statement<{ userId: string }, InboxCounts & { behind: boolean }>(`
select u.total_count - x.total as total, u.unread_count - x.unread as unread, u.unseen_count - x.unseen as unseen,
       u.archived_count - x.archived as archived, u.snoozed_count - x.snoozed as snoozed,
       u.bcast_id < (select coalesce(max(id), 0) from sm_message where broadcast) as behind
from sm_user u cross join lateral sm_expired(u.id, u.seen_upto, u.read_upto, u.archived_upto) x
where u.id = :userId`);

/** Exact unread and unseen counts of several users. */
export const UNREAD_OF = statement<{ userIds: string }, { user_id: string; unread: number; unseen: number }>(`
select u.id as user_id, u.unread_count - x.unread as unread, u.unseen_count - x.unseen as unseen
from sm_user u cross join lateral sm_expired(u.id, u.seen_upto, u.read_upto, u.archived_upto) x
where u.id in (select value from jsonb_array_elements_text(:userIds::jsonb))`);

/** Those of the listed users with broadcasts not yet copied to them. */
export const BEHIND_OF = statement<{ userIds: string }, { id: string }>(`
select id from sm_user
where id in (select value from jsonb_array_elements_text(:userIds::jsonb))
  and bcast_id < (select coalesce(max(id), 0) from sm_message where broadcast)`);

/** Each known user's exact unread and unseen counts, and whether the message is theirs (and alive). */
export const BROADCAST_VIEWS = statement<{ messageId: string; userIds: string }, { user_id: string; has: boolean; unread: number; unseen: number }>(`
select u.id as user_id,
  exists (
    select 1 from sm_delivery d
    where d.user_id = u.id and d.message_id = :messageId::bigint and (d.expires_at is null or d.expires_at > now())
  ) as has,
  u.unread_count - x.unread as unread, u.unseen_count - x.unseen as unseen
from sm_user u cross join lateral sm_expired(u.id, u.seen_upto, u.read_upto, u.archived_upto) x
where u.id in (select value from jsonb_array_elements_text(:userIds::jsonb))`);

/** Locks one user's row (their writes then see every change committed before), and says whether broadcasts are pending. */
export const LOCK_USER = statement<{ userId: string }, { behind: boolean }>(`
select u.bcast_id < (select coalesce(max(id), 0) from sm_message where broadcast) as behind
from sm_user u where u.id = :userId
for update`);

/** Locks several users' rows in CATCH_UP's order (no deadlock between the two), answering LOCK_USER's `behind` for each. */
export const LOCK_USERS = statement<{ userIds: string }, { id: string; behind: boolean }>(`
select u.id, u.bcast_id < (select coalesce(max(id), 0) from sm_message where broadcast) as behind
from sm_user u where u.id in (select value from jsonb_array_elements_text(:userIds::jsonb))
order by u.id collate "C"
for update`);

/** The five counts of several users, as USER_STATE. */
export const USER_STATES = statement<{ userIds: string }, InboxCounts & { user_id: string }>(`
select u.id as user_id, u.total_count - x.total as total, u.unread_count - x.unread as unread, u.unseen_count - x.unseen as unseen,
       u.archived_count - x.archived as archived, u.snoozed_count - x.snoozed as snoozed
from sm_user u cross join lateral sm_expired(u.id, u.seen_upto, u.read_upto, u.archived_upto) x
where u.id in (select value from jsonb_array_elements_text(:userIds::jsonb))`);

export const KNOWN_USERS = statement<Record<never, never>, { known_users: number }>(`
select known_users::int as known_users from sm_stats where id = 1`);

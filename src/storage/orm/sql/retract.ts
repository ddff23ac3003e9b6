/**
 * Retraction (retraction.ts): what an id names, marking it retracted, the marker row of a retracted
 * broadcast, the users who have a message, and sm_retracted (what a catch-up removed, for live events).
 */
import { statement } from '../statement.js';

/** The message an id names (not a marker row), locked while its retraction is decided. */
export const MESSAGE_TO_RETRACT = statement<{ id: string }, { broadcast: boolean; retracted: boolean; recipient_count: number | null; expires_at: Date | null }>(`
select broadcast, retracted, recipient_count, expires_at from sm_message
where id = :id::bigint and retracts is null
for update`);

export const SCHEDULE_TO_RETRACT = statement<{ id: string }, { state: string; delivered_id: string | null }>(`
select state, delivered_id::text as delivered_id from sm_schedule where id = :id::bigint`);

export const MARK_RETRACTED = statement<{ id: string }>(`
update sm_message set retracted = true where id = :id::bigint`);

/**
 * The marker of a retracted broadcast: a broadcast row of its own (under LOCK_BROADCASTS, so ids commit in
 * order), never copied, which puts every user behind once; their catch-up then removes the retracted one.
 * It expires with the retracted broadcast.
 */
export const INSERT_RETRACTION_MARKER = statement<{ id: string; expiresAt: Date | null }>(`
insert into sm_message (level, text, created_at, expires_at, broadcast, retracts)
values (0, '', now(), :expiresAt, true, :id::bigint)`);

/** The users who have a message (sm_delivery_message_idx). */
export const HOLDERS = statement<{ id: string }, { user_id: string }>(`
select user_id from sm_delivery where message_id = :id::bigint`);

/**
 * Before a catch-up: for each of the users, the retracted broadcasts they still have whose markers lie
 * past their watermark (the broadcasts' index from the watermark up).
 */
export const RETRACTED_HELD = statement<{ userIds: string }, { user_id: string; ids: string[] }>(`
select d.user_id, json_agg(d.message_id::text order by d.message_id) as ids
from sm_user u
join sm_message t on t.broadcast and t.id > u.bcast_id and t.retracts is not null
join sm_delivery d on d.user_id = u.id and d.message_id = t.retracts
where u.id in (select value from jsonb_array_elements_text(:userIds::jsonb))
group by d.user_id`);

/** Records what a catch-up removed from the user (ids), and which of them were unread. */
export const RECORD_RETRACTED = statement<{ userId: string; ids: string; unread: string }>(`
insert into sm_retracted (user_id, message_id, was_unread)
select :userId, i.value::bigint, i.value in (select jsonb_array_elements_text(:unread::jsonb))
from jsonb_array_elements_text(:ids::jsonb) i
on conflict do nothing`);

export const RETRACTED_VIEW = statement<{ userId: string; id: string }, { was_unread: boolean }>(`
select was_unread from sm_retracted where user_id = :userId and message_id = :id::bigint`);

/** sm_retracted rows past their use (live events follow a retraction within seconds). */
export const CLEANUP_RETRACTED = statement<{ ttlSeconds: number; limit: number }>(`
delete from sm_retracted where (user_id, message_id) in (
  select user_id, message_id from sm_retracted where at < now() - make_interval(secs => :ttlSeconds) limit :limit
)
returning 1`);

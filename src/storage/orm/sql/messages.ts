/** Reads of a user's messages besides pages (pages.ts). Times come from sm_times (a function of the migrations). */
import { statement } from '../statement.js';
import type { MessageRow } from '../reads.js';

/**
 * One live delivery of the user, with its message. Its state times: its own, or the time of the "all"
 * operation whose watermark first covered it (sm_times).
 */
export const GET_MESSAGE = statement<{ userId: string; messageId: string }, MessageRow>(`
select d.message_id::text as id, t.read_at, t.seen_at, t.archived_at, d.snoozed_until,
  m.level, m.text, m.extra_tags, m.url, m.data, m.created_at, m.expires_at, d.category, d.group_key, d.group_count
from sm_delivery d join sm_message m on m.id = d.message_id join sm_user u on u.id = d.user_id
cross join lateral sm_times(d, u.seen_upto, u.read_upto, u.archived_upto) t
where d.user_id = :userId and d.message_id = :messageId
  and (d.expires_at is null or d.expires_at > now())`);

/** Several live deliveries of the user (a JSON list of ids), as GET_MESSAGE; the array is computed once, each id one probe. */
export const GET_MESSAGES = statement<{ userId: string; ids: string }, MessageRow>(`
select d.message_id::text as id, t.read_at, t.seen_at, t.archived_at, d.snoozed_until,
  m.level, m.text, m.extra_tags, m.url, m.data, m.created_at, m.expires_at, d.category, d.group_key, d.group_count
from sm_delivery d join sm_message m on m.id = d.message_id join sm_user u on u.id = d.user_id
cross join lateral sm_times(d, u.seen_upto, u.read_upto, u.archived_upto) t
where d.user_id = :userId and d.message_id = any(array(select value::bigint from jsonb_array_elements_text(:ids::jsonb)))
  and (d.expires_at is null or d.expires_at > now())`);

/** Live deliveries of several users (:users, a JSON list of { user_id, ids }), as GET_MESSAGE, by user and id. */
export const GET_MESSAGES_OF = statement<{ users: string }, MessageRow & { user_id: string }>(`
select d.user_id, d.message_id::text as id, t.read_at, t.seen_at, t.archived_at, d.snoozed_until,
  m.level, m.text, m.extra_tags, m.url, m.data, m.created_at, m.expires_at, d.category, d.group_key, d.group_count
from jsonb_to_recordset(:users::jsonb) as x(user_id text, ids bigint[])
join sm_delivery d on d.user_id = x.user_id and d.message_id = any(x.ids)
join sm_message m on m.id = d.message_id join sm_user u on u.id = d.user_id
cross join lateral sm_times(d, u.seen_upto, u.read_upto, u.archived_upto) t
where d.expires_at is null or d.expires_at > now()
order by d.user_id, d.message_id`);

/** The user's oldest unread live deliveries, snoozed ones aside (the unread index holds neither). */
export const OLDEST_UNREAD = statement<{ userId: string; limit: number }, MessageRow>(`
select d.message_id::text as id, t.read_at, t.seen_at, t.archived_at, d.snoozed_until,
  m.level, m.text, m.extra_tags, m.url, m.data, m.created_at, m.expires_at, d.category, d.group_key, d.group_count
from sm_delivery d join sm_message m on m.id = d.message_id join sm_user u on u.id = d.user_id
cross join lateral sm_times(d, u.seen_upto, u.read_upto, u.archived_upto) t
where d.user_id = :userId and d.read_at is null and d.snoozed_until is null and d.message_id > u.read_upto
  and d.message_id > sm_cat_upto(d.user_id, d.category, 'read')
  and (d.expires_at is null or d.expires_at > now())
order by d.message_id asc
limit :limit`);

/**
 * How many live deliveries of the user pass a filter, for the totals the counters cannot give:
 * :read, :seen, :archived true, false or null (both); :snoozed true (only snoozed) or false (none);
 * :levels, :since, :until as in pages.ts. A snoozed delivery ignores the watermarks.
 */
export const COUNT_FILTERED = statement<
  { userId: string; read: boolean | null; seen: boolean | null; archived: boolean | null; snoozed: boolean; levels: string | null; categories: string | null; since: Date | null; until: Date | null },
  { n: number }
>(`
with w as (select seen_upto, read_upto, archived_upto from sm_user where id = :userId)
select count(*)::int as n from sm_delivery d, w
where d.user_id = :userId and (d.expires_at is null or d.expires_at > now())
  and (d.snoozed_until is not null) = :snoozed::boolean
  and (:read::boolean is null or (d.read_at is not null or (d.snoozed_until is null and d.message_id <= greatest(w.read_upto, sm_cat_upto(d.user_id, d.category, 'read')))) = :read::boolean)
  and (:seen::boolean is null or (d.seen_at is not null or d.read_at is not null or (d.snoozed_until is null and d.message_id <= greatest(w.seen_upto, sm_cat_upto(d.user_id, d.category, 'seen')))) = :seen::boolean)
  and (:archived::boolean is null or (d.archived_at is not null or (d.snoozed_until is null and d.message_id <= greatest(w.archived_upto, sm_cat_upto(d.user_id, d.category, 'archived')))) = :archived::boolean)
  and (:levels::jsonb is null or d.level in (select value::int from jsonb_array_elements_text(:levels::jsonb)))
  and (:categories::jsonb is null or d.category in (select value from jsonb_array_elements_text(:categories::jsonb)))
  and (:since::timestamptz is null or d.created_at >= :since::timestamptz)
  and (:until::timestamptz is null or d.created_at <= :until::timestamptz)`);

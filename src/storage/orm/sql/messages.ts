/** Reads of a user's messages besides pages (pages.ts). */
import { statement } from '../statement.js';
import type { MessageRow } from '../reads.js';

/**
 * One live delivery of the user, with its message. readAt: its own, or the time of the mark-all-read
 * whose watermark first covered it (the lowest mark at or above its id).
 */
export const GET_MESSAGE = statement<{ userId: string; messageId: string }, MessageRow>(`
select d.message_id::text as id,
  coalesce(d.read_at, case when d.message_id <= u.read_upto then (
    select k.at from sm_read_mark k where k.user_id = d.user_id and k.upto >= d.message_id order by k.upto limit 1
  ) end) as read_at,
  m.level, m.text, m.extra_tags, m.url, m.data, m.created_at, m.expires_at
from sm_delivery d join sm_message m on m.id = d.message_id join sm_user u on u.id = d.user_id
where d.user_id = :userId and d.message_id = :messageId
  and (d.expires_at is null or d.expires_at > now())`);

/** The user's oldest unread live deliveries (unread ones have no read time to look up). */
export const OLDEST_UNREAD = statement<{ userId: string; limit: number }, MessageRow>(`
select d.message_id::text as id,
  coalesce(d.read_at, case when d.message_id <= u.read_upto then (
    select k.at from sm_read_mark k where k.user_id = d.user_id and k.upto >= d.message_id order by k.upto limit 1
  ) end) as read_at,
  m.level, m.text, m.extra_tags, m.url, m.data, m.created_at, m.expires_at
from sm_delivery d join sm_message m on m.id = d.message_id join sm_user u on u.id = d.user_id
where d.user_id = :userId and d.read_at is null and d.message_id > u.read_upto
  and (d.expires_at is null or d.expires_at > now())
order by d.message_id asc
limit :limit`);

/**
 * How many live deliveries of the user pass a filter, for the totals the counters cannot give:
 * :unread true (unread only), false (read only) or null (both); :levels, :since, :until as in pages.ts.
 */
export const COUNT_FILTERED = statement<
  { userId: string; unread: boolean | null; levels: string | null; since: Date | null; until: Date | null },
  { n: number }
>(`
select count(*)::int as n from sm_delivery d
where d.user_id = :userId and (d.expires_at is null or d.expires_at > now())
  and (:unread::boolean is null
       or (d.read_at is null and d.message_id > (select ru.read_upto from sm_user ru where ru.id = :userId)) = :unread::boolean)
  and (:levels::jsonb is null or d.level in (select value::int from jsonb_array_elements_text(:levels::jsonb)))
  and (:since::timestamptz is null or d.created_at >= :since::timestamptz)
  and (:until::timestamptz is null or d.created_at <= :until::timestamptz)`);

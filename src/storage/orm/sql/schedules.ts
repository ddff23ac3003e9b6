import { statement } from '../statement.js';

/** A schedule as the store reads it: deliver_ms is deliver_at in epoch milliseconds (the page cursor's unit). */
export interface ScheduleRow {
  id: string;
  message: Record<string, unknown>;
  user_ids: string[] | null;
  deliver_ms: string;
  recipient_count: number;
  state: 'pending' | 'delivered' | 'cancelled';
}

/**
 * Keeps a message for later. Its id comes from sm_message's sequence (one id space with messages);
 * :userIds is a JSON array of distinct users, or null for a broadcast.
 */
export const INSERT_SCHEDULE = statement<{ message: string; userIds: string | null; deliverAt: Date; recipientCount: number }, ScheduleRow>(`
insert into sm_schedule (id, message, user_ids, deliver_at, recipient_count)
values (nextval(pg_get_serial_sequence('sm_message', 'id')), :message::jsonb, :userIds::jsonb, :deliverAt, :recipientCount)
returning id::text, message, user_ids, (extract(epoch from deliver_at) * 1000)::bigint::text as deliver_ms, recipient_count, state`);

export const GET_SCHEDULE = statement<{ id: string }, ScheduleRow>(`
select id::text, message, user_ids, (extract(epoch from deliver_at) * 1000)::bigint::text as deliver_ms, recipient_count, state
from sm_schedule where id = :id::bigint`);

/** Pending schedules after the cursor (deliver_at, id), soonest first, through sm_schedule_due_idx. */
export const PENDING_PAGE = statement<{ afterAt: Date; afterId: string; limit: number }, ScheduleRow>(`
select id::text, message, user_ids, (extract(epoch from deliver_at) * 1000)::bigint::text as deliver_ms, recipient_count, state
from sm_schedule
where state = 'pending' and (deliver_at, id) > (:afterAt::timestamptz, :afterId::bigint)
order by deliver_at, id
limit :limit`);

export const PENDING_COUNT = statement<Record<never, never>, { n: number }>(`
select count(*)::int as n from sm_schedule where state = 'pending'`);

/**
 * Pending -> cancelled. A delivery holding the row makes this wait, then see it delivered (READ
 * COMMITTED re-checks the state on the row's newest version): no row back then.
 */
export const CANCEL_SCHEDULE = statement<{ id: string }, { id: string }>(`
update sm_schedule set state = 'cancelled', done_at = now()
where id = :id::bigint and state = 'pending'
returning id::text`);

/**
 * Claims the due schedules, soonest first, for the caller's transaction: rows another transaction holds
 * are skipped (it is delivering them), so concurrent callers share the work and none is sent twice.
 */
export const CLAIM_DUE = statement<{ now: Date; limit: number }, ScheduleRow>(`
select id::text, message, user_ids, (extract(epoch from deliver_at) * 1000)::bigint::text as deliver_ms, recipient_count, state
from sm_schedule
where state = 'pending' and deliver_at <= :now
order by deliver_at, id
limit :limit
for update skip locked`);

/** :done is a JSON array of { id, delivered } (the delivered message's id, null when nobody received it). */
export const MARK_DELIVERED = statement<{ done: string }>(`
update sm_schedule s set state = 'delivered', delivered_id = d.delivered, done_at = now()
from jsonb_to_recordset(:done::jsonb) as d(id bigint, delivered bigint)
where s.id = d.id`);

/** Delivered and cancelled schedules older than the idempotency TTL (a late cancel still finds them until then). */
export const CLEANUP_SCHEDULES = statement<{ ttlSeconds: number; limit: number }>(`
delete from sm_schedule where id in (
  select id from sm_schedule
  where state <> 'pending' and done_at < now() - make_interval(secs => :ttlSeconds)
  order by done_at limit :limit
)
returning 1`);

/** The webhook outbox (sm_webhook, outbox.ts): events written with each change, claimed by streams. */
import { statement } from '../statement.js';

/**
 * Appends a change's webhook bodies (a JSON array) in their order, in the change's transaction: a user's
 * stream is `userId`, the broadcasts' ''. Called after the change's statements locked the users it
 * touched (or the broadcast lock), so a stream's `seq` order is its commit order. Ids: `msg_` and a
 * random UUID, unique whatever the database's past.
 */
export const RECORD_WEBHOOKS = statement<{ bodies: string }>(`
insert into sm_webhook (id, stream, body, occurred_at)
select 'msg_' || replace(gen_random_uuid()::text, '-', ''), coalesce(b.body->>'userId', ''), b.body, statement_timestamp()
from jsonb_array_elements(:bodies::jsonb) with ordinality as b(body, n)
order by b.n`);

export type WebhookRow = { id: string; stream: string; seq: string; body: Record<string, unknown>; occurred_ms: number; attempts: number; delivered: string[] };

/**
 * Leases up to :streams streams whose first event (lowest seq) is due at :now, oldest due first, and up
 * to :perStream of each one's first events, for :leaseMs. The first events are row-locked SKIP LOCKED, and
 * only a stream's first event makes it claimable: two claimers never hold one stream, and a leased or
 * retried first event (due later) holds its whole stream. The first-event test is a correlated subquery
 * on (stream, seq), one index probe per candidate; run unprepared, so a table grown since the last
 * ANALYZE is planned by its size now.
 */
export const CLAIM_WEBHOOKS = statement<{ now: Date; streams: number; perStream: number; leaseMs: number }, WebhookRow>(`
with heads as (
  select w.stream
  from sm_webhook w
  where w.due_at <= :now
    and w.seq = (select min(e.seq) from sm_webhook e where e.stream = w.stream)
  order by w.due_at, w.seq
  limit :streams
  for update skip locked
), claimed as (
  select f.seq
  from heads h
  cross join lateral (select e.seq from sm_webhook e where e.stream = h.stream order by e.seq limit :perStream) f
)
update sm_webhook w
set due_at = :now::timestamptz + make_interval(secs => :leaseMs::float8 / 1000)
from claimed c
where w.seq = c.seq
returning w.id, w.stream, w.seq, w.body, extract(epoch from w.occurred_at)::float8 * 1000 as occurred_ms, w.attempts, w.delivered`);

/** Delivered (or given up on): removed; the stream's next event becomes its first. */
export const ACKNOWLEDGE_WEBHOOKS = statement<{ ids: string }>(`
delete from sm_webhook where id in (select jsonb_array_elements_text(:ids::jsonb))`);

/** A failed attempt at a stream's first event: it stays first, due again at :dueAt, with its attempts and the endpoints that acknowledged it. */
export const RETRY_WEBHOOK = statement<{ id: string; attempts: number; delivered: string; dueAt: Date }>(`
update sm_webhook
set attempts = :attempts, delivered = array(select jsonb_array_elements_text(:delivered::jsonb)), due_at = :dueAt
where id = :id`);

/** Claimed and not attempted: due again now. */
export const RELEASE_WEBHOOKS = statement<{ ids: string }>(`
update sm_webhook set due_at = now() where id in (select jsonb_array_elements_text(:ids::jsonb))`);

export const PENDING_WEBHOOKS = statement<Record<never, never>, { n: number }>(`
select count(*)::int as n from sm_webhook`);

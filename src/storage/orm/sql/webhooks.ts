/**
 * The webhook outbox (outbox.ts): events in sm_webhook, one sm_webhook_stream row per stream with events.
 * Locks: a writer and an acknowledgement take a stream's row lock (in stream order), so an acknowledgement
 * that empties a stream sees every event written meanwhile; claimers skip locked streams.
 */
import { statement } from '../statement.js';

/**
 * Appends a change's webhook bodies (a JSON array) in their order, in the change's transaction: a user's
 * stream is `userId`, the broadcasts' ''. Called after the change's statements locked the users it
 * touched (or took the broadcast lock), so a stream's `seq` order is its commit order. Each stream's row
 * is created (due now) or row-locked until the commit (ON CONFLICT ... WHERE false locks without
 * writing). The nonce (64 random bits) keeps ids unique across databases and a database recreated.
 */
export const RECORD_WEBHOOKS = statement<{ bodies: string }>(`
with b as (
  select coalesce(x.body->>'userId', '') as stream, x.body, x.n
  from json_array_elements(:bodies::json) with ordinality as x(body, n)
), streams as (
  insert into sm_webhook_stream (stream)
  select distinct b.stream from b order by b.stream
  on conflict (stream) do update set due_at = excluded.due_at where false
)
insert into sm_webhook (stream, nonce, body, occurred_at)
select b.stream, substr(md5(random()::text), 1, 16), b.body, statement_timestamp()
from b
order by b.n`);

export type WebhookRow = { id: string; stream: string; seq: string; body: Record<string, unknown>; occurred_ms: number; attempts: number; delivered: string[] };

/**
 * Leases up to :streams streams due at :now, oldest due first (row-locked SKIP LOCKED: two claimers never
 * hold one stream), until :now + :leaseMs, and answers up to :perStream of each one's first events
 * (`claimed_upto`: the last of them). Due at :now means within its millisecond (:now is a JS Date; the
 * database's now(), which writes and releases set, has microseconds). Events are read by index, only the
 * claimed streams' (a LATERAL with LIMIT, which no plan turns into a join over the table); run
 * unprepared, so a table grown since the last ANALYZE is planned by its size now.
 */
export const CLAIM_WEBHOOKS = statement<{ now: Date; streams: number; perStream: number; leaseMs: number }, WebhookRow>(`
with heads as (
  select s.stream
  from sm_webhook_stream s
  where s.due_at < :now::timestamptz + interval '1 millisecond'
  order by s.due_at
  limit :streams
  for update skip locked
), leased as (
  update sm_webhook_stream s
  set due_at = :now::timestamptz + make_interval(secs => :leaseMs::float8 / 1000),
      claimed_upto = coalesce((select max(f.seq) from (select e.seq from sm_webhook e where e.stream = s.stream order by e.seq limit :perStream) f), 0)
  where s.stream = any(array(select h.stream from heads h))
  returning s.stream, s.claimed_upto
)
select 'msg_' || e.seq || '_' || e.nonce as id, e.stream, e.seq, e.body, extract(epoch from e.occurred_at)::float8 * 1000 as occurred_ms, e.attempts, e.delivered
from leased l
cross join lateral (
  select * from sm_webhook e where e.stream = l.stream and e.seq <= l.claimed_upto order by e.seq limit :perStream
) e
order by e.seq`);

/*
 * Events by id (`msg_<seq>_<nonce>`, as CLAIM_WEBHOOKS makes it): :seqs are the ids' seqs, found by the
 * primary key; the whole id must match, so an id of another database (or of one wiped since) finds nothing.
 */
type ByIds = { seqs: string; ids: string };

/** Acknowledgement, first: the events go; answers their streams, in order (ACKNOWLEDGED_STREAMS locks them next). */
export const DELETE_WEBHOOKS = statement<ByIds, { stream: string }>(`
with gone as (
  delete from sm_webhook
  where seq = any(array(select jsonb_array_elements_text(:seqs::jsonb)::bigint))
    and 'msg_' || seq || '_' || nonce = any(array(select jsonb_array_elements_text(:ids::jsonb)))
  returning stream
)
select distinct stream from gone order by stream`);

/** Then the streams' rows, locked: waits for writers still adding events to them. */
export const LOCK_WEBHOOK_STREAMS = statement<{ streams: string }>(`
select s.stream from sm_webhook_stream s
where s.stream = any(array(select jsonb_array_elements_text(:streams::jsonb)))
order by s.stream
for update`);

/**
 * Then, seeing every event committed before (a new statement): a stream left without events goes; one
 * whose lease's events are all acknowledged is due now for its next ones. A stream held by a retry
 * (claimed_upto 0) keeps its time. (Lists of streams and ids go as ANY of an array throughout: an index
 * probe each, never a join that could scan a whole table.)
 */
export const SETTLE_WEBHOOK_STREAMS = statement<{ streams: string }>(`
with st as (
  select s.stream, s.claimed_upto, (select min(e.seq) from sm_webhook e where e.stream = s.stream) as first
  from sm_webhook_stream s
  where s.stream = any(array(select jsonb_array_elements_text(:streams::jsonb)))
), emptied as (
  delete from sm_webhook_stream s using st where s.stream = st.stream and st.first is null
)
update sm_webhook_stream s
set due_at = now(), claimed_upto = 0
from st
where s.stream = st.stream and st.first > st.claimed_upto and st.claimed_upto > 0`);

/** Claimed and not attempted: their streams' leases end now (unless a retry holds the stream since). */
export const RELEASE_WEBHOOKS = statement<ByIds>(`
with released as (
  select e.stream, min(e.seq) as first
  from sm_webhook e
  where e.seq = any(array(select jsonb_array_elements_text(:seqs::jsonb)::bigint))
    and 'msg_' || e.seq || '_' || e.nonce = any(array(select jsonb_array_elements_text(:ids::jsonb)))
  group by e.stream
)
update sm_webhook_stream s
set due_at = now(), claimed_upto = 0
where s.stream = any(array(select r.stream from released r))
  and s.claimed_upto >= (select r.first from released r where r.stream = s.stream)`);

/**
 * A failed attempt at a stream's first event: it keeps its attempts and the endpoints that acknowledged
 * it, and its stream (the lease ended) is due again at :dueAt, from that event.
 */
export const RETRY_WEBHOOK = statement<{ seq: string; id: string; attempts: number; delivered: string; dueAt: Date }>(`
with e as (
  update sm_webhook
  set attempts = :attempts, delivered = array(select jsonb_array_elements_text(:delivered::jsonb))
  where seq = :seq::bigint and 'msg_' || seq || '_' || nonce = :id
  returning stream
)
update sm_webhook_stream s
set due_at = :dueAt, claimed_upto = 0
where s.stream = (select e.stream from e)`);

export const PENDING_WEBHOOKS = statement<Record<never, never>, { n: number }>(`
select count(*)::int as n from sm_webhook`);

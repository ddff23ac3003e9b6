import { defineEntity, p } from '@mikro-orm/core';

/**
 * The webhook outbox (outbox.ts, sql/webhooks.ts): one sm_webhook row per event, written in its change's
 * transaction. `seq` orders each stream (a user's id, or '' for broadcasts) and with the random `nonce`
 * makes the event's id (`msg_<seq>_<nonce>`: no index of its own); `body` is the WebhookBody as JSON
 * (json, not jsonb: stored as written, never queried); `attempts` and `delivered` (the endpoints that
 * acknowledged it) are its first event's delivery so far.
 */
export const WebhookEntity = defineEntity({
  name: 'SmWebhook',
  tableName: 'sm_webhook',
  properties: {
    seq: p.bigint('string').primary().autoincrement(),
    nonce: p.string().length(16),
    stream: p.string().length(255),
    body: p.json<unknown>().columnType('json'),
    occurredAt: p.datetime(),
    attempts: p.integer().default(0),
    delivered: p.array().defaultRaw(`'{}'`),
  },
  indexes: [{ name: 'sm_webhook_stream_idx', properties: ['stream', 'seq'] }],
});

/**
 * One row per stream with events: when it may be claimed next (`due_at`: now when written, the lease's
 * end while claimed, the next attempt after a failure) and the last event the current lease handed out
 * (`claimed_upto`, 0 without one). Claims scan these by due_at, so a backlog of events behind a failing
 * endpoint costs a claim nothing.
 */
export const WebhookStreamEntity = defineEntity({
  name: 'SmWebhookStream',
  tableName: 'sm_webhook_stream',
  properties: {
    stream: p.string().length(255).primary(),
    dueAt: p.datetime().defaultRaw('now()'),
    claimedUpto: p.bigint('string').default(0),
  },
  indexes: [{ name: 'sm_webhook_stream_due_idx', properties: ['dueAt'] }],
});

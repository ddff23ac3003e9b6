import { defineEntity, p } from '@mikro-orm/core';

/**
 * The webhook outbox (outbox.ts, sql/webhooks.ts): one row per event, written in its change's transaction.
 * `seq` orders each stream (a user's id, or '' for broadcasts) and with the random `nonce` makes the
 * event's id (`msg_<seq>_<nonce>`: no index of its own); `body` is the WebhookBody as JSON (json, not
 * jsonb: stored as written, never queried); an event is claimable when it is its stream's first and
 * `due_at` has passed (a claim leases it by moving `due_at`, a retry sets it to the next attempt);
 * `delivered` lists the endpoints that acknowledged it.
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
    dueAt: p.datetime().defaultRaw('now()'),
    attempts: p.integer().default(0),
    delivered: p.array().defaultRaw(`'{}'`),
  },
  indexes: [
    { name: 'sm_webhook_stream_idx', properties: ['stream', 'seq'] },
    { name: 'sm_webhook_due_idx', properties: ['dueAt'] },
  ],
});

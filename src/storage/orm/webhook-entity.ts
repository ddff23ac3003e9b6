import { defineEntity, p } from '@mikro-orm/core';

/**
 * The webhook outbox (outbox.ts, sql/webhooks.ts): one row per event, written in its change's transaction.
 * `seq` orders each stream (a user's id, or '' for broadcasts); `body` is the WebhookBody as JSON; an event
 * is claimable when it is its stream's first and `due_at` has passed (a claim leases it by moving `due_at`,
 * a retry by setting it to the next attempt); `delivered` lists the endpoints that acknowledged it.
 */
export const WebhookEntity = defineEntity({
  name: 'SmWebhook',
  tableName: 'sm_webhook',
  properties: {
    seq: p.bigint('string').primary().autoincrement(),
    id: p.text().unique(),
    stream: p.string().length(255),
    body: p.json<unknown>(),
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

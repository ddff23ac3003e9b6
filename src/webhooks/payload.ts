import { createHmac } from 'node:crypto';
import type { WebhookEvent } from '../domain/webhooks.js';

/**
 * The body and signature of a webhook (CONTRACT.md §10; Standard Webhooks). The body is built from the
 * stored event alone, field by field in a fixed order, so a retry sends the same bytes. Message ids are the ones the API shows (`publicId`).
 */
export function webhookBody(e: WebhookEvent, publicId: (messageId: string) => string): string {
  return JSON.stringify({
    id: e.id,
    type: e.type,
    userId: e.userId,
    messageIds: e.messageIds.map(publicId),
    unreadCount: e.unreadCount,
    unseenCount: e.unseenCount,
    until: e.until === null ? null : iso(e.until),
    category: e.category,
    broadcast: e.broadcast,
    occurredAt: iso(e.occurredAt),
  });
}

// A backend that keeps events as JSON may hand dates back as their ISO strings.
const iso = (d: Date | string) => new Date(d).toISOString();

/** The headers of one attempt: its id, its time in seconds, and `v1,` + the base64 HMAC-SHA256 of "id.timestamp.body". */
export function signatureHeaders(key: Buffer, id: string, body: string, at = new Date()): Record<string, string> {
  const timestamp = Math.floor(at.getTime() / 1000);
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': `v1,${signature}` };
}

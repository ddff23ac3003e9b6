import { createHmac, timingSafeEqual } from 'node:crypto';

/** The event, when `rawBody` is signed with `secret` (`whsec_…` or plain text) less than 5 minutes ago; throws otherwise. */
export function verifyWebhook(secret: string, headers: Record<string, string | string[] | undefined>, rawBody: string) {
  const [id, timestamp, signatures] = ['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((h) => String(headers[h] ?? ''));
  if (!id || Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) throw new Error('webhook: missing id, or too old');
  const key = secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');
  const expected = Buffer.from(`v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${rawBody}`).digest('base64')}`);
  const signed = signatures.split(' ').some((s) => s.length === expected.length && timingSafeEqual(Buffer.from(s), expected));
  if (!signed) throw new Error('webhook: bad signature');
  return JSON.parse(rawBody) as { id: string; type: string; userId: string | null; messageIds: string[]; occurredAt: string };
}

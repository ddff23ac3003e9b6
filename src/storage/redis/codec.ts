import { reviveMessage, type MessageRecord, type NewMessage } from '../../domain/message.js';
import type { SendResult } from '../../domain/message-store.js';
import type { StoredItem } from './replies.js';

/**
 * How messages are written in Redis. A body is a compact JSON array, stored once per message:
 * [level, text, extraTags, url, data, createdAt ms, expiresAt ms | null, category, groupKey] (the last
 * two absent from bodies written before categories, and when both are null). Per-recipient state (read
 * time, groupCount, metadata for filters and expiry) lives in the user's keys, never in the body.
 */
type Body = [number, string, string, string | null, unknown, number, number | null, (string | null)?, (string | null)?];

export function encodeBody(m: NewMessage): string {
  const body: Body = [m.level, m.text, m.extraTags, m.url, m.data ?? null, m.createdAt.getTime(), m.expiresAt?.getTime() ?? null];
  if (m.category !== null || m.groupKey !== null) body.push(m.category, m.groupKey);
  return JSON.stringify(body);
}

/** A state time as the scripts answer it (ms, '' = unset). */
function time(t: string | undefined): Date | null {
  return t ? new Date(Number(t)) : null;
}

/** A message as a recipient has it: the body and the recipient's delivery as a script answers it. */
export function decodeBody(item: StoredItem, raw: string): MessageRecord {
  const [level, text, extraTags, url, data, createdAt, expiresAt, category, groupKey] = JSON.parse(raw) as Body;
  return {
    id: item[0],
    level,
    text,
    extraTags,
    url,
    data,
    createdAt: new Date(createdAt),
    expiresAt: expiresAt === null ? null : new Date(expiresAt),
    readAt: time(item[1]),
    seenAt: time(item[2]),
    archivedAt: time(item[3]),
    snoozedUntil: time(item[4]),
    category: category ?? null,
    groupKey: groupKey ?? null,
    groupCount: item[5] ? Number(item[5]) : 1,
    stored: true,
  };
}

/** The script arguments shared by every send: level, createdAt, expiresAt ('' = never). */
export function metaArgs(m: NewMessage): [string, string, string] {
  return [String(m.level), String(m.createdAt.getTime()), m.expiresAt ? String(m.expiresAt.getTime()) : ''];
}

/**
 * What follows a message's "level|createdAt|deliveredAt|expiresAt" on its way to each recipient
 * (lua/lib/delivery.lua parse_spec): "|category|critical|groupKey", or '' when it has none of them.
 */
export function specTail(m: NewMessage): string {
  if (m.category === null && !m.critical && m.groupKey === null) return '';
  return `|${m.category ?? ''}|${m.critical ? '1' : ''}|${m.groupKey ?? ''}`;
}

/** The message as kept in an idempotency record, so a replay returns the first call's message. */
export function messageJson(m: NewMessage): string {
  return JSON.stringify({ ...m, data: m.data ?? null });
}

/**
 * What a script found under an idempotency key: ['replay', id, recipientCount, message JSON, result JSON].
 * A send answers its first result; a key holding a remembered (non-send) result answers that, like
 * the PostgreSQL store does.
 */
export function replayedSend(r: readonly string[]): SendResult {
  const [, id, rc, message, saved] = r;
  if (id) {
    // The claim kept the NewMessage: `critical` is the send's, not the message's.
    const { critical: _critical, ...body } = JSON.parse(message) as Omit<MessageRecord, 'id'> & { critical?: boolean };
    const record = reviveMessage({ ...body, id, readAt: null, stored: true });
    return { message: record, recipientCount: Number(rc), recipients: null, replayed: true };
  }
  const earlier = JSON.parse(saved) as SendResult;
  return { ...earlier, message: reviveMessage(earlier.message as never), replayed: true };
}

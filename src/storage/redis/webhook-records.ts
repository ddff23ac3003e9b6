import type { StoreChange } from '../../domain/changes.js';
import { deliveredRecord, type MessageRecord, type NewMessage } from '../../domain/message.js';
import type { InboxCounts } from '../../domain/message-store.js';
import type { SignalName } from '../../domain/signals.js';
import { webhookBodies, type WebhookEvent } from '../../domain/webhooks.js';
import { parseUserReply } from './replies.js';

/**
 * The webhook outbox's records (lua/lib/webhooks.lua) read back into the change that wrote them, whose
 * bodies domain/webhooks.ts gives: the scripts record what their reply carries, never which signals fire.
 */

/** One event of a stream: its record's number, its place among the record's events and their number. */
export interface StreamEvent {
  event: WebhookEvent;
  seq: string;
  k: number;
  n: number;
}

const byId = (a: string, b: string) => Number(a) - Number(b);

/**
 * A webhook body carries message ids and counts, not the message: the records keep only the id, so the
 * change is rebuilt with this stand-in wherever the store's result holds a record.
 */
const NO_MESSAGE: NewMessage = { level: 0, text: '', extraTags: '', url: null, data: null, createdAt: new Date(0), expiresAt: null, category: null, critical: false, groupKey: null };
const idOnly = (id: string): MessageRecord => deliveredRecord(id, NO_MESSAGE);

/** "<unread>:<unseen>" as the counts (the only ones a webhook body carries). */
function countsOf(s: string): InboxCounts {
  const [unread, unseen] = s.split(':').map(Number);
  return { total: 0, unread, unseen, archived: 0, snoozed: 0 };
}

const ALL_OPS = { 'all-seen': 'markAllSeen', 'all-read': 'markAllRead', 'all-archive': 'archiveAll', 'all-archive-read': 'archiveAll' } as const;

/** The change a record (after its seq and time) describes, in stream `stream` (a user id, or '' for the broadcasts'). */
export function changeOf(stream: string, op: string, f: readonly string[]): StoreChange {
  const userId = stream;
  if (op === 'send') {
    const d = parseUserReply(f[1])!;
    return { op: 'send', result: { message: idOnly(f[0]), recipientCount: 1, recipients: [{ userId, ...d }], replayed: false } };
  }
  if (op === 'broadcast') return { op: 'send', result: { message: idOnly(f[0]), recipientCount: 0, recipients: null, replayed: false } };
  if (op === 'unbroadcast') return { op: 'retract', messageId: f[0], result: { recipientCount: 0, broadcast: true, recipients: null } };
  const counts = countsOf(f[0]);
  if (op === 'retract') return { op: 'retract', messageId: f[1], result: { recipientCount: 1, broadcast: false, recipients: [{ userId, wasUnread: f[2] === '1', counts }] } };
  if (op in ALL_OPS) {
    return { op: ALL_OPS[op as keyof typeof ALL_OPS], userId, until: new Date(Number(f[1])), category: f[2] || null, result: { count: 1, counts } };
  }
  const ids = f[1].split(',');
  const state = { changed: [...ids].sort(byId), messages: [], notFound: [], counts };
  switch (op) {
    case 'read':
    case 'unread':
      return { op: 'setRead', userId, read: op === 'read', result: { ...state, unreadCount: counts.unread } };
    case 'seen':
      return { op: 'markSeen', userId, result: state };
    case 'archive':
    case 'unarchive':
      return { op: 'setArchived', userId, archived: op === 'archive', result: state };
    case 'snooze':
      return { op: 'snooze', userId, until: new Date(Number(f[2])), result: state };
    case 'unsnooze':
      return { op: 'snooze', userId, until: null, result: state };
    case 'delete':
      return { op: 'deleteMessages', userId, result: { deleted: state.changed, notFound: [], unreadCount: counts.unread, counts } };
    case 'wake':
      // In the order the script woke them, as the store answers them.
      return { op: 'wake', user: { userId, messages: ids.map(idOnly), counts } };
  }
  throw new Error(`unknown webhook record op ${op}`);
}

/** base64url of a stream name: any user id becomes id-safe characters. */
const streamCode = (stream: string) => Buffer.from(stream, 'utf8').toString('base64url');

/**
 * An event id: `msg_<epoch>_<seq>_<k>_<n>_<stream>`. The epoch is chosen once per keyspace (a wiped and
 * recreated one never reuses an id), the stream and its record number make it unique, and everything
 * comes from the stored record, so every retry sends the same id.
 */
const ID = /^msg_([A-Za-z0-9]+)_(\d+)_(\d+)_(\d+)_([A-Za-z0-9_-]*)$/;

export function parseEventId(id: string): { stream: string; seq: string; k: number; n: number } | null {
  const m = ID.exec(id);
  if (!m) return null;
  return { seq: m[2], k: Number(m[3]), n: Number(m[4]), stream: Buffer.from(m[5], 'base64url').toString('utf8') };
}

/** A stored record's events (its wanted bodies, each with its id and the record's time); none when no body is wanted. */
export function recordEvents(stream: string, record: string, wanted: ReadonlySet<SignalName>, epoch: string): StreamEvent[] {
  const [seq, at, op, ...fields] = record.split('|');
  const bodies = webhookBodies(changeOf(stream, op, fields), wanted);
  const occurredAt = new Date(Number(at));
  return bodies.map((body, k) => ({
    event: { ...body, id: `msg_${epoch}_${seq}_${k}_${bodies.length}_${streamCode(stream)}`, occurredAt },
    seq,
    k,
    n: bodies.length,
  }));
}

/** The record number of a stored record. */
export const recordSeq = (record: string): string => record.slice(0, record.indexOf('|'));

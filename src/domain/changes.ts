import type { AllChange, DeleteResult, RetractResult, SendResult, SetReadResult, StateChange, WokenUser } from './message-store.js';
import type { MessageRecord } from './message.js';
import { userSignal, type BroadcastSignal, type Signals, type UserSignal } from './signals.js';

/**
 * A committed change of stored messages, named by the store operation that made it. This module owns
 * which signals each change fires: live delivery fires them after the commit (emitChange), and a store
 * with webhooks on writes the same signals to its outbox inside the change's own transaction or script.
 */
export type StoreChange =
  | { op: 'send'; result: SendResult }
  | { op: 'setRead'; userId: string; read: boolean; result: SetReadResult }
  | { op: 'markAllRead' | 'markAllSeen' | 'archiveAll'; userId: string; until: Date; category: string | null; result: AllChange }
  | { op: 'deleteMessages'; userId: string; result: DeleteResult }
  | { op: 'markSeen'; userId: string; result: StateChange }
  | { op: 'setArchived'; userId: string; archived: boolean; result: StateChange }
  /** `until` null: unsnooze (a wake-up now). */
  | { op: 'snooze'; userId: string; until: Date | null; result: StateChange }
  | { op: 'wake'; user: WokenUser }
  | { op: 'retract'; messageId: string; result: RetractResult };

export type StoredSignal = UserSignal | BroadcastSignal;

const ALL_SIGNAL = { markAllRead: 'INBOX_PURGED', markAllSeen: 'INBOX_SEEN', archiveAll: 'INBOX_ARCHIVED' } as const;

/** The newest of the changed messages: what an INBOX_STORED event carries (markUnread, unsnooze). */
const newestChanged = (r: StateChange): MessageRecord | null => r.messages.find((m) => m.id === r.changed[r.changed.length - 1]) ?? null;

/** The signals a committed change fires, in order; [] when it changed nothing (or replayed an earlier send). */
export function signalsOf(change: StoreChange): StoredSignal[] {
  switch (change.op) {
    case 'send':
      return change.result.replayed ? [] : sentSignals(change.result);
    case 'setRead': {
      const r = change.result;
      if (!r.changed.length) return [];
      return [userSignal(change.read ? 'INBOX_DELETED' : 'INBOX_STORED', change.userId, r.changed, r.counts, { message: change.read ? null : newestChanged(r) })];
    }
    case 'markAllRead':
    case 'markAllSeen':
    case 'archiveAll':
      if (change.result.count === 0) return [];
      return [userSignal(ALL_SIGNAL[change.op], change.userId, [], change.result.counts, { until: change.until, category: change.category })];
    case 'deleteMessages':
      return change.result.deleted.length ? [userSignal('ARCHIVE_DELETED', change.userId, change.result.deleted, change.result.counts)] : [];
    case 'markSeen':
      return stateSignal('INBOX_SEEN', change.userId, change.result, false);
    case 'setArchived':
      return stateSignal(change.archived ? 'INBOX_ARCHIVED' : 'INBOX_UNARCHIVED', change.userId, change.result, false);
    case 'snooze':
      // Unsnoozing is a wake-up now: INBOX_STORED with the newest woken message, as a timed wake-up fires.
      return change.until ? stateSignal('INBOX_SNOOZED', change.userId, change.result, false) : stateSignal('INBOX_STORED', change.userId, change.result, true);
    case 'wake':
      return change.user.messages.length ? [wokenSignal(change.user)] : [];
    case 'retract':
      return retractedSignals(change.messageId, change.result);
  }
}

/** Fires a committed change's signals on the in-process bus (live delivery, embedding code). */
export function emitChange(signals: Signals, change: StoreChange): void {
  for (const s of signalsOf(change)) signals.emit(s);
}

function stateSignal(signal: UserSignal['signal'], userId: string, r: StateChange, withMessage: boolean): UserSignal[] {
  return r.changed.length ? [userSignal(signal, userId, r.changed, r.counts, { message: withMessage ? newestChanged(r) : null })] : [];
}

/**
 * A send's signals: a broadcast's two events, or for each recipient the INBOX_DELETED of the message of
 * the same group it superseded (if any), then ARCHIVE_STORED and INBOX_STORED of the new one with that
 * recipient's groupCount; all with the recipient's counts once the send committed.
 */
function sentSignals(result: SendResult): StoredSignal[] {
  const ids = [result.message.id];
  if (result.recipients === null) return (['ARCHIVE_STORED', 'INBOX_STORED'] as const).map((signal) => ({ kind: 'broadcast', signal, message: result.message, messageIds: ids }));
  const out: StoredSignal[] = [];
  // One message object per groupCount, one id list per superseded message: live delivery serializes
  // an object shared by many events once.
  const byCount = new Map<number, MessageRecord>([[result.message.groupCount, result.message]]);
  const supersededIds = new Map<string, string[]>();
  for (const r of result.recipients) {
    const counts = { unreadCount: r.unreadCount, unseenCount: r.unseenCount };
    if (r.superseded !== null) {
      let messageIds = supersededIds.get(r.superseded);
      if (!messageIds) supersededIds.set(r.superseded, (messageIds = [r.superseded]));
      out.push({ kind: 'user', signal: 'INBOX_DELETED', userId: r.userId, message: null, messageIds, ...counts });
    }
    let message = byCount.get(r.groupCount);
    if (!message) byCount.set(r.groupCount, (message = { ...result.message, groupCount: r.groupCount }));
    for (const signal of ['ARCHIVE_STORED', 'INBOX_STORED'] as const) out.push({ kind: 'user', signal, userId: r.userId, message, messageIds: ids, ...counts });
  }
  return out;
}

/**
 * A retraction's signals (CONTRACT.md §9): a broadcast's INBOX_DELETED and ARCHIVE_DELETED (each consumer
 * resolves who had it), or for each recipient who still had it INBOX_DELETED when it was unread, then
 * ARCHIVE_DELETED, with their counts after.
 */
function retractedSignals(messageId: string, result: RetractResult): StoredSignal[] {
  const ids = [messageId];
  if (result.recipients === null) {
    return result.broadcast ? (['INBOX_DELETED', 'ARCHIVE_DELETED'] as const).map((signal) => ({ kind: 'broadcast', signal, message: null, messageIds: ids })) : [];
  }
  return result.recipients.flatMap((r) => [
    ...(r.wasUnread ? [userSignal('INBOX_DELETED', r.userId, ids, r.counts)] : []),
    userSignal('ARCHIVE_DELETED', r.userId, ids, r.counts),
  ]);
}

/** One user's wake-ups as one INBOX_STORED (section 8 allows one signal for all that woke together), the newest as its message. */
function wokenSignal(user: WokenUser): UserSignal {
  const ids = user.messages.map((m) => m.id);
  return userSignal('INBOX_STORED', user.userId, ids, user.counts, { message: user.messages.at(-1) ?? null });
}

import { EventEmitter } from 'node:events';
import type { MessageRecord } from './message.js';
import type { InboxCounts, SendResult } from './message-store.js';

/** The original's four signals, ARCHIVE_DELETED, and the inbox states' (contract section 8), in the GraphQL InboxSignal enum's order. */
export const SIGNAL_NAMES = [
  'ARCHIVE_STORED',
  'INBOX_STORED',
  'INBOX_DELETED',
  'INBOX_PURGED',
  'ARCHIVE_DELETED',
  'INBOX_SEEN',
  'INBOX_ARCHIVED',
  'INBOX_UNARCHIVED',
  'INBOX_SNOOZED',
] as const;

export type SignalName = (typeof SIGNAL_NAMES)[number];

export const isSignalName = (name: string): name is SignalName => (SIGNAL_NAMES as readonly string[]).includes(name);

/** One change to one user's messages, fired once, after it is committed. */
export interface UserSignal {
  kind: 'user';
  signal: SignalName;
  userId: string;
  /** The message for *_STORED; null otherwise (and for a multi-message markUnread, the newest one). */
  message: MessageRecord | null;
  /** Every message the signal is about; [] for the "all" operations (INBOX_PURGED, and INBOX_SEEN / INBOX_ARCHIVED with `until`). */
  messageIds: string[];
  /** The user's unread count once the whole change is committed. */
  unreadCount: number;
  /** The user's unseen count once the whole change is committed. */
  unseenCount: number;
  /** The cut-off of markAllRead, markAllSeen and archiveAll; absent otherwise. */
  until?: Date | null;
  /** The category those three were limited to; absent otherwise. */
  category?: string | null;
}

/** A user signal with the counts a store answered once the change was committed. */
export function userSignal(
  signal: SignalName,
  userId: string,
  messageIds: string[],
  counts: InboxCounts,
  more: { message?: MessageRecord | null; until?: Date | null; category?: string | null } = {},
): UserSignal {
  return {
    kind: 'user',
    signal,
    userId,
    message: more.message ?? null,
    messageIds,
    unreadCount: counts.unread,
    unseenCount: counts.unseen,
    ...(more.until ? { until: more.until } : {}),
    ...(more.category ? { category: more.category } : {}),
  };
}

/** A send's message as its producer's payload shows it: with the recipient's groupCount when there is one recipient. */
export function sentView(result: SendResult): MessageRecord {
  const only = result.recipients?.length === 1 ? result.recipients[0] : null;
  return only && only.groupCount !== result.message.groupCount ? { ...result.message, groupCount: only.groupCount } : result.message;
}

/**
 * A broadcast: one event for every known user, never one per user (the cost of a broadcast does
 * not grow with the number of users). Consumers resolve per-user counts for the users they serve.
 */
export type BroadcastSignal =
  | { kind: 'broadcast'; signal: 'ARCHIVE_STORED' | 'INBOX_STORED'; message: MessageRecord; messageIds: string[] }
  /** A retracted broadcast: consumers tell each user's by MessageStore.retractedViews (INBOX_DELETED only where it was unread). */
  | { kind: 'broadcast'; signal: 'INBOX_DELETED' | 'ARCHIVE_DELETED'; message: null; messageIds: string[] };

/** A flash (non-persisted) message for one user: live subscribers see it, no signal names it. */
export interface FlashAdded {
  kind: 'flash';
  userId: string;
  message: MessageRecord;
}

export type InboxChange = UserSignal | BroadcastSignal | FlashAdded;

/**
 * The in-process signal bus that embedding code subscribes to (`app.signals.on(listener)`).
 * A throwing listener is logged and never undoes or fails the change that fired it.
 */
export class Signals {
  private readonly emitter = new EventEmitter();

  constructor(private readonly onListenerError: (err: unknown) => void = () => {}) {
    this.emitter.setMaxListeners(0);
  }

  /** Returns a function that removes the listener. */
  on(listener: (change: InboxChange) => void | Promise<void>): () => void {
    const wrapped = (change: InboxChange) => {
      try {
        const r = listener(change);
        if (r && typeof (r as Promise<void>).catch === 'function') (r as Promise<void>).catch(this.onListenerError);
      } catch (err) {
        this.onListenerError(err);
      }
    };
    this.emitter.on('change', wrapped);
    return () => this.emitter.off('change', wrapped);
  }

  emit(change: InboxChange): void {
    this.emitter.emit('change', change);
  }
}

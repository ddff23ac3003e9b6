import { levelName, levelTag, messageTags, type LevelName } from '../domain/levels.js';
import type { MessageRecord } from '../domain/message.js';
import type { InboxChange, SignalName, Signals } from '../domain/signals.js';
import { encodeMessageId } from '../graphql/ids.js';

/** A message as GraphQL's `Message` type shows it (CONTRACT.md §4), with Dates for its DateTime fields. */
export interface Message {
  /** The global id: the one GraphQL clients see, accepted by markRead, markUnread and deleteMessages. */
  id: string;
  text: string;
  level: LevelName;
  levelValue: number;
  levelTag: string;
  /** "" when none. */
  extraTags: string;
  tags: string;
  url: string | null;
  data: unknown;
  createdAt: Date;
  readAt: Date | null;
  read: boolean;
  /** False for a flash (non-persisted) message. */
  stored: boolean;
  expiresAt: Date | null;
  /** Shown to the recipient (markSeen); read implies seen. */
  seen: boolean;
  seenAt: Date | null;
  archived: boolean;
  archivedAt: Date | null;
  /** Null unless snoozed now. */
  snoozedUntil: Date | null;
  /** The producer's category, or null. */
  category: string | null;
  /** The producer's group key, or null. */
  groupKey: string | null;
  /** How many messages of its group this one stands for (1 for an ungrouped message). */
  groupCount: number;
}

export function messageView(m: MessageRecord): Message {
  return {
    id: encodeMessageId(m.id, m.stored),
    text: m.text,
    level: levelName(m.level),
    levelValue: m.level,
    levelTag: levelTag(m.level),
    extraTags: m.extraTags,
    tags: messageTags(m.extraTags, m.level),
    url: m.url,
    data: m.data ?? null,
    createdAt: m.createdAt,
    readAt: m.readAt,
    read: m.readAt !== null,
    stored: m.stored,
    expiresAt: m.expiresAt,
    seen: m.seenAt !== null,
    seenAt: m.seenAt,
    archived: m.archivedAt !== null,
    archivedAt: m.archivedAt,
    snoozedUntil: m.snoozedUntil,
    category: m.category,
    groupKey: m.groupKey,
    groupCount: m.groupCount,
  };
}

/**
 * One signal of CONTRACT.md §5 and §8, fired once after its change is committed, with global ids. A
 * broadcast is one event for all its recipients (`broadcast: true`, no user, no counts), as its webhook
 * is. `until` is the cut-off of markAllRead, markAllSeen and archiveAll, `category` the category they were
 * limited to (null otherwise).
 */
export type SignalEvent =
  | { signal: SignalName; broadcast: false; userId: string; messageIds: string[]; unreadCount: number; unseenCount: number; until: Date | null; category: string | null; message: Message | null }
  | { signal: 'ARCHIVE_STORED' | 'INBOX_STORED'; broadcast: true; userId: null; messageIds: string[]; unreadCount: null; unseenCount: null; until: null; category: null; message: Message }
  | { signal: 'INBOX_DELETED' | 'ARCHIVE_DELETED'; broadcast: true; userId: null; messageIds: string[]; unreadCount: null; unseenCount: null; until: null; category: null; message: null };

export interface StoredMessagesSignals {
  /**
   * Calls `listener` for every signal of this process's changes, in order; returns a function that
   * removes it. A listener that throws or rejects is logged, and never undoes or fails the change.
   */
  on(listener: (event: SignalEvent) => void | Promise<void>): () => void;
}

/** The domain's signals with global ids; flash messages are live deliveries, not signals, so they are left out. */
export function signalsView(signals: Signals): StoredMessagesSignals {
  return {
    on: (listener) =>
      signals.on((change: InboxChange) => {
        if (change.kind === 'flash') return;
        const messageIds = change.messageIds.map((id) => encodeMessageId(id, true));
        if (change.kind === 'broadcast') {
          const none = { broadcast: true, userId: null, messageIds, unreadCount: null, unseenCount: null, until: null, category: null } as const;
          // A retracted broadcast's two signals carry no message (each user's is resolved by who had it).
          return listener(change.message === null ? { ...none, signal: change.signal, message: null } : { ...none, signal: change.signal, message: messageView(change.message) });
        }
        const message = change.message ? messageView(change.message) : null;
        const { signal, userId, unreadCount, unseenCount } = change;
        return listener({ signal, broadcast: false, userId, messageIds, unreadCount, unseenCount, until: change.until ?? null, category: change.category ?? null, message });
      }),
  };
}

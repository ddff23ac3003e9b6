import type { MessageRecord } from './message.js';
import type { BroadcastView, InboxCounts, RetractedView } from './message-store.js';
import type { Viewer } from './messages.js';
import type { SignalName } from './signals.js';

/** One event of `inboxEvents`, with storage ids (the GraphQL layer makes global ids). */
export interface LiveInboxEvent {
  signal: SignalName | 'RESYNC';
  message: MessageRecord | null;
  messageIds: string[];
  unreadCount: number;
  unseenCount: number;
  /** The cut-off of markAllRead, markAllSeen and archiveAll; null otherwise. */
  until: Date | null;
  /** The category those were limited to; null otherwise. */
  category: string | null;
  /** Opaque: the subscriber passes it back as `after` to resume after this event. */
  cursor: string;
}

/** What a live subscription yields: an inbox event, a new message (messageAdded), or "the token expired" (then it ends). */
export type LiveItem = { kind: 'event'; event: LiveInboxEvent } | { kind: 'message'; message: MessageRecord } | { kind: 'expired' };

export interface OpenLive {
  viewer: Viewer;
  /** `events`: inboxEvents (every signal, with cursors); `messages`: messageAdded (new messages, flash too). */
  mode: 'events' | 'messages';
  /** A cursor of an earlier event, as the client sent it; one this server did not make is BAD_USER_INPUT on `after`. */
  after?: string | null;
  /** Seconds since the epoch (the token's exp): the subscription ends with an `expired` item a little after it. */
  expiresAt?: number | null;
  /** The request's signal (SSE): when the client goes away, the subscription ends, even if it was still starting. */
  signal?: AbortSignal;
}

/** Live delivery of committed signals to subscribers (implemented by realtime/, wired in app.ts). */
export interface LiveHub {
  /** A started subscription: replayed after `after` (or RESYNCed), then live. Rejects when Redis or storage fails. */
  open(o: OpenLive): Promise<AsyncIterable<LiveItem>>;
  /**
   * Where the viewer's events stand now, as an inboxEvents cursor: a client that asks for it, then loads
   * what it shows, then subscribes after it misses nothing committed in between.
   */
  cursor(viewer: Viewer): Promise<string>;
}

/** What live delivery reads about its subscribers (bound to the use cases and the store in app.ts). */
export interface LiveReads {
  /** The viewer's counts now (unread and unseen go in RESYNC events); also makes them a known user (so broadcasts reach them). */
  counts(viewer: Viewer): Promise<InboxCounts>;
  /** Many users' view of one broadcast in one call: see MessageStore.broadcastViews. */
  broadcastViews(messageId: string, userIds: readonly string[]): Promise<Map<string, BroadcastView>>;
  /** Many users' view of one retracted broadcast in one call: see MessageStore.retractedViews. */
  retractedViews(messageId: string, userIds: readonly string[]): Promise<Map<string, RetractedView>>;
}

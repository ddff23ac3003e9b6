import type { MessageRecord } from '../domain/message.js';
import type { SignalName } from '../domain/signals.js';

/**
 * The event logs behind live delivery, and the transport that carries them between processes.
 *
 * Every user has a log of their own events; broadcasts have ONE shared log (a broadcast is never
 * written once per user). Entry ids are Redis-stream-like "<ms>-<seq>", increasing within a log,
 * and every entry names the id of the entry before it (`prev`, "0-0" for the first entry of a log),
 * so a reader can tell "nothing in between" from "something was missed" (trimmed, expired, or lost
 * on the way) without a global counter.
 */

/** One signal about stored messages, as it is kept and published (JSON-safe). */
export interface LoggedEvent {
  signal: SignalName;
  message: MessageRecord | null;
  /** Storage ids of the messages the signal is about. */
  messageIds: string[];
  /** The cut-off of an "all" operation (markAllRead, markAllSeen, archiveAll); null otherwise. */
  until: Date | null;
  /** The category such an operation was limited to; null otherwise. */
  category: string | null;
  /** The user's unread count after the change; null in the broadcast log (each reader resolves its own). */
  unreadCount: number | null;
  /** The user's unseen count after the change; null in the broadcast log, and in entries logged before inbox states. */
  unseenCount: number | null;
}

export interface LogEntry {
  id: string;
  /** The id of the entry before this one in the same log; "0-0" when it starts the log. */
  prev: string;
  event: LoggedEvent;
}

/** One user's events to append (one mutation's, or several gathered in one flush), in order. */
export interface UserEvents {
  userId: string;
  events: LoggedEvent[];
}

export type Stream = 'user' | 'broadcast';

/** What arrives from the pub/sub for one user (their own log, or the broadcast log) or as a flash message. */
export type Wire = { kind: 'entry'; stream: Stream; entry: LogEntry } | { kind: 'flash'; message: MessageRecord };

export interface LogRead {
  /** Entries after the given id, oldest first (at most the read limit). */
  entries: LogEntry[];
  /** The newest id in the log, or null when the log is empty or gone (expired). */
  last: string | null;
}

/** Where a wire message is for: one user's subscribers, or everyone's. */
export type WireTarget = { userId: string } | 'broadcast';

/**
 * Appends to the logs and publishes what was appended, in order; reads the logs back for replay and
 * gap filling. In-process (MemoryTransport) or through Redis (RedisTransport).
 */
export interface EventTransport {
  /**
   * Users one appendUsers call may carry (at least 1): that many are appended in one step, so a
   * failed call is retried as a whole without appending anyone's events twice.
   */
  readonly userBatch: number;
  /**
   * Appends each user's events to their own log, in order, and publishes each to that user's
   * subscribers; at most `userBatch` users, each named once.
   */
  appendUsers(users: UserEvents[]): Promise<void>;
  /** Appends to the broadcast log and publishes to every process. */
  appendBroadcast(events: LoggedEvent[]): Promise<void>;
  /** A flash message for one user's live subscribers (no log: flash messages are pending in the FlashStore). */
  publishFlash(userId: string, message: MessageRecord): Promise<void>;
  /** Entries of one log with an id greater than `after`, oldest first, at most `limit`. */
  read(stream: Stream, userId: string, after: string, limit: number): Promise<LogRead>;
  /** The newest ids of the user's log and of the broadcast log ("0-0" when empty). */
  heads(userId: string): Promise<{ user: string; broadcast: string }>;
  /** Starts / stops receiving a user's wire messages in this process (the hub reference-counts). */
  subscribeUser(userId: string): Promise<void>;
  unsubscribeUser(userId: string): Promise<void>;
  /** The one receiver of every wire message this process gets (set once by the hub). */
  onWire(handler: (target: WireTarget, wire: Wire) => void): void;
  /** Called when the pub/sub connection came back after an outage: messages may have been lost meanwhile. */
  onResume(handler: () => void): void;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const LOG_START = '0-0';

const ID = /^(\d{1,15})-(\d{1,15})$/;

export const isLogId = (id: string) => ID.test(id);

/** Orders two log ids ("<ms>-<seq>"). */
export function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-');
  const [bm, bs] = b.split('-');
  return Number(am) - Number(bm) || Number(as) - Number(bs);
}

/** The time (ms since the epoch) a log id was assigned. */
export const idTime = (id: string) => Number(id.split('-')[0]);

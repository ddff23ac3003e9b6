import { reviveMessage, type MessageRecord, type NewMessage } from './message.js';

/**
 * The storage contract every backend implements (PostgreSQL / embedded through MikroORM; Redis).
 * `test/storage/contract.ts` is the suite a backend must pass.
 *
 * Rules every backend keeps:
 * - A user sees only their own deliveries; another user's id behaves exactly like a missing one.
 * - A message past `expiresAt` is invisible to every read, count and write at once, even before
 *   `cleanupExpired` reclaims it.
 * - Writes are atomic: all recipients of a send get the message or none do, and counts always
 *   agree with the deliveries.
 * - Broadcasts cost the same whatever the number of known users; users known after a broadcast
 *   do not receive it.
 */
export interface MessageStore {
  /** Registers a user as known (broadcasts reach known users). Idempotent and cheap when already known. */
  ensureUser(userId: string): Promise<void>;

  /**
   * Stores one message for each listed user (de-duplicated), or for every known user. A user who disabled
   * `message.category` gets nothing unless `message.critical` (a broadcast applies that when it reaches the
   * user's inbox). With `message.groupKey`, each recipient's unread, unarchived, unsnoozed message of that
   * group is marked read (`superseded`) and the new one counts on from it (`groupCount`), atomically.
   */
  send(message: NewMessage, to: Recipients, idempotency?: IdempotencyClaim): Promise<SendResult>;

  /** The user's messages, newest delivery first, keyset-paginated. */
  list(userId: string, query: ListQuery): Promise<ListPage>;

  get(userId: string, messageId: string): Promise<MessageRecord | null>;
  unreadCount(userId: string): Promise<number>;

  /** Marks read (`read: true`) or unread. Ids that are not the user's (or expired) come back in `notFound`. */
  setRead(userId: string, ids: readonly string[], read: boolean): Promise<SetReadResult>;

  /** Marks read every unread message delivered at or before `until` (in `category` when given), in one step. */
  markAllRead(userId: string, until: Date, category?: string | null): Promise<{ count: number; unreadCount: number; counts: InboxCounts }>;

  deleteMessages(userId: string, ids: readonly string[]): Promise<DeleteResult>;

  /** The user's five exact counts (section 8 of the contract), of the whole inbox or of one category; O(1) whatever the inbox size. */
  counts(userId: string, category?: string | null): Promise<InboxCounts>;

  /** Marks seen. Ids that are not the user's (or expired) come back in `notFound`. */
  markSeen(userId: string, ids: readonly string[]): Promise<StateChange>;

  /** Marks seen every message delivered at or before `until` (snoozed ones left alone), in one step. */
  markAllSeen(userId: string, until: Date, category?: string | null): Promise<AllChange>;

  /** Archives (and so marks read and seen), or unarchives (`archived: false`; stays read). */
  setArchived(userId: string, ids: readonly string[], archived: boolean): Promise<StateChange>;

  /** Archives what was delivered at or before `until` (only what is read now with `onlyRead`), snoozed ones left alone. */
  archiveAll(userId: string, until: Date, onlyRead: boolean, category?: string | null): Promise<AllChange>;

  /**
   * Snoozes until `until`, or with `until` null wakes now (unsnooze). A woken message is unread, unseen and
   * not archived, and keeps its place. `changed` lists the ids snoozed or woken (unsnoozing one not snoozed changes nothing).
   */
  snooze(userId: string, ids: readonly string[], until: Date | null): Promise<StateChange>;

  /**
   * Wakes up to `limit` snoozed deliveries whose time is at or before `now`, across all users, each exactly
   * once even when several instances call this at once. Returns them by user, with the user's counts after.
   */
  wakeDue(now: Date, limit: number): Promise<WokenUser[]>;

  /**
   * For a broadcast reaching live subscribers: whether each user has `messageId` (it may predate them)
   * and their exact unread count, for many users in a few round trips. Users the store does not know
   * come back as { has: false, unreadCount: 0 }.
   */
  broadcastViews(messageId: string, userIds: readonly string[]): Promise<Map<string, BroadcastView>>;

  /** The `limit` oldest unread messages, oldest first by delivery. */
  oldestUnread(userId: string, limit: number): Promise<MessageRecord[]>;

  /**
   * Claims the key for a result that is not a stored message (a flash or dropped message): returns
   * `result` when the key was free, else the first call's result.
   */
  remember(claim: IdempotencyClaim, result: RememberedFlash): Promise<RememberedFlash>;
  /** Drops what `remember` kept for this claim (its fingerprint only), when the work it stood for failed, so a retry runs again. */
  forget(claim: IdempotencyClaim): Promise<void>;

  /** The categories the user has set, by name in code-point order. */
  preferences(userId: string): Promise<CategoryPreference[]>;

  /** Enables or disables a category for the user; affects only messages sent from now on. */
  setPreference(userId: string, category: string, enabled: boolean): Promise<CategoryPreference>;

  /**
   * Keeps `message` for delivery at `deliverAt` to `to` (a broadcast reaches the users known then). The
   * record's id is the schedule's, taken from the message ids (never a delivered message's: the delivery gets its own); `recipientCount` is the addressed users (a
   * broadcast's: the users known now).
   */
  schedule(message: NewMessage, to: Recipients, deliverAt: Date, idempotency?: IdempotencyClaim): Promise<ScheduledRecord & { replayed: boolean }>;

  /** Scheduled messages not yet delivered, soonest first (then by id), keyset-paginated. */
  scheduled(query: { limit: number; cursor: string | null }): Promise<ScheduledPage>;

  /**
   * Cancels a scheduled message: `cancelled` true when nobody will ever see it, false when it was already
   * delivered (or cancelled). Null for an id never scheduled.
   */
  cancelScheduled(id: string): Promise<{ cancelled: boolean; scheduled: ScheduledRecord } | null>;

  /**
   * Delivers up to `limit` scheduled messages due at or before `now`, each exactly once even when several
   * instances call this at once or one died midway, as `send` would at that moment. Each delivery is
   * answered to exactly one call, whose caller fires its signals (none fired them before).
   */
  deliverDue(now: Date, limit: number): Promise<DeliveredSchedule[]>;

  /**
   * Removes a sent message from every recipient's inbox and archive (CONTRACT.md §9 "Retraction"). A
   * schedule id still pending is cancelled (recipientCount 0); one delivered retracts the delivered message.
   * Null for an id never sent (or a flash message's); retracting again answers recipientCount 0. A
   * broadcast is retracted in one step whatever the number of users: each user loses it at their next
   * access, and `retractedViews` tells the live consumers who had it.
   */
  retract(messageId: string): Promise<RetractResult | null>;

  /**
   * For a retracted broadcast reaching live subscribers: whether each user had it when it was retracted,
   * whether it was unread then, and their counts after. Users who never had it: { had: false }.
   */
  retractedViews(messageId: string, userIds: readonly string[]): Promise<Map<string, RetractedView>>;

  /** Reclaims up to `limit` expired deliveries/messages and stale idempotency records; returns how many went. */
  cleanupExpired(limit: number): Promise<number>;

  /** Throws when the backend is unreachable (readiness probe). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export type Recipients = { userIds: readonly string[] } | { everyone: true };

/**
 * What an idempotency key keeps for a call answered with a message that was not stored (`stored: false`),
 * or, when the same key first stored one (STORE_LEVELS changed in between), that message.
 */
export interface RememberedFlash {
  message: MessageRecord;
  stored: boolean;
}

/** A RememberedFlash as it comes back from JSON (dates as strings). */
export function reviveRememberedFlash(raw: unknown): RememberedFlash {
  const r = raw as { message: Parameters<typeof reviveMessage>[0]; stored?: boolean };
  return { message: reviveMessage(r.message), stored: r.stored ?? r.message.stored };
}

/** How long an idempotency key is remembered, on every backend. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

export interface IdempotencyClaim {
  /** The caller and the operation: keys are scoped to both. */
  scope: string;
  key: string;
  /** A hash of the request; the same key with another fingerprint is refused. */
  fingerprint: string;
}

export interface SendResult {
  /** The message as a recipient sees it before reading it. */
  message: MessageRecord;
  recipientCount: number;
  /** Each recipient (after preferences) with their counts after the send; `null` for a broadcast (resolved by consumers per user). */
  recipients: SendRecipient[] | null;
  /** True when an earlier call with the same idempotency key produced this result. */
  replayed: boolean;
}

export interface SendRecipient {
  userId: string;
  unreadCount: number;
  unseenCount: number;
  /** The new message's groupCount for this recipient (1 when ungrouped or nothing was superseded). */
  groupCount: number;
  /** The id of the unread message of the same group this send marked read, or null. */
  superseded: string | null;
}

/** A user's setting for one category (every category is enabled until the user disables it). */
export interface CategoryPreference {
  category: string;
  enabled: boolean;
}

/** A message waiting for its delivery time. */
export interface ScheduledRecord {
  id: string;
  /** As it will be delivered (createdAt is deliverAt unless the producer gave a date), with the schedule's id. */
  message: MessageRecord;
  deliverAt: Date;
  recipientCount: number;
  broadcast: boolean;
}

export interface ScheduledPage {
  items: { cursor: string; scheduled: ScheduledRecord }[];
  hasNextPage: boolean;
  totalCount: number;
}

/** One scheduled message delivered by `deliverDue`: the send's result, for the signals. */
export interface DeliveredSchedule {
  scheduled: ScheduledRecord;
  result: SendResult;
}

export interface ListQuery {
  unreadOnly: boolean;
  filter: MessageFilter;
  /** Forward pagination: `first` items older than `after`; backward: `last` items newer than `before`. */
  direction: 'forward' | 'backward';
  limit: number;
  cursor: string | null;
}

export interface MessageFilter {
  read?: boolean | null;
  seen?: boolean | null;
  /** Absent: both. */
  archived?: boolean | null;
  /** Absent or false: not snoozed; true: only snoozed. */
  snoozed?: boolean | null;
  levels?: readonly number[] | null;
  /** Any of these categories; a message without a category never matches. */
  categories?: readonly string[] | null;
  since?: Date | null;
  until?: Date | null;
}

export interface ListPage {
  /** Newest first, each with the opaque-to-domain cursor that orders it. */
  items: { cursor: string; message: MessageRecord }[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  totalCount: number;
}

export interface RetractResult {
  /** The recipients who still had it (a broadcast: the users known when it was sent; see the backends). */
  recipientCount: number;
  broadcast: boolean;
  /** Each recipient who still had it, with their counts after; null for a broadcast retracted now (resolved by consumers per user); [] when nobody had it. */
  recipients: RetractedRecipient[] | null;
}

export interface RetractedRecipient {
  userId: string;
  wasUnread: boolean;
  counts: InboxCounts;
}

export interface RetractedView {
  had: boolean;
  wasUnread: boolean;
  unreadCount: number;
  unseenCount: number;
}

export interface BroadcastView {
  has: boolean;
  unreadCount: number;
  unseenCount: number;
}

/** Section 8's counts. Snoozed messages count only in `snoozed`; `total` includes archived ones. */
export interface InboxCounts {
  total: number;
  unread: number;
  unseen: number;
  archived: number;
  snoozed: number;
}

export interface StateChange {
  /** Ids whose state changed, in id order. */
  changed: string[];
  /** Every found message, in request order, in its state after the change. */
  messages: MessageRecord[];
  notFound: string[];
  counts: InboxCounts;
}

export interface AllChange {
  /** How many live messages changed state. */
  count: number;
  counts: InboxCounts;
}

export interface WokenUser {
  userId: string;
  /** The woken messages, in id order, in their state after waking. */
  messages: MessageRecord[];
  counts: InboxCounts;
}

export interface SetReadResult extends StateChange {
  unreadCount: number;
}

export interface DeleteResult {
  deleted: string[];
  notFound: string[];
  unreadCount: number;
  counts: InboxCounts;
}

/** Thrown by a backend for a list cursor it never handed out (the caller decides which argument to blame). */
export class InvalidCursor extends Error {
  override readonly name = 'InvalidCursor';
}

/** List cursors are delivery sequence numbers on every backend. */
export function checkListCursor(cursor: string | null): void {
  if (cursor !== null && !/^\d{1,18}$/.test(cursor)) throw new InvalidCursor('malformed cursor');
}

/** How many categories one user may set a preference for. */
export const PREFERENCES_MAX = 1_000;

/** Thrown by a backend for a preference that would be the user's PREFERENCES_MAX + 1st category (the domain answers BAD_USER_INPUT). */
export class PreferenceLimit extends Error {
  override readonly name = 'PreferenceLimit';
}

/** Thrown by a backend when an idempotency key is reused with different input. */
export class IdempotencyMismatch extends Error {
  override readonly name = 'IdempotencyMismatch';
}

import { badInput } from '../domain/errors.js';
import { isLevelName, LEVEL_NAMES } from '../domain/levels.js';
import type { StatesPayload } from '../domain/inbox-states.js';
import type { CategoryPreference, InboxCounts } from '../domain/message-store.js';
import type { MessageInput, Messages, Viewer } from '../domain/messages.js';
import * as v from '../domain/validate.js';
import { decodeMessageId, withGlobalIds } from '../graphql/ids.js';
import { toInput } from '../graphql/mutation.schema.js';
import { messageView, type Message } from './views.js';

export type AddMessageInput = Omit<MessageInput, 'date' | 'deliverAt'>;
export type AddMessageForInput = MessageInput & { userIds: readonly string[] };
export type BroadcastMessageInput = MessageInput;

export interface AddMessagePayload {
  message: Message;
  stored: boolean;
}
export interface AddMessageForPayload {
  message: Message;
  recipientCount: number;
}
export type BroadcastMessagePayload = AddMessageForPayload;
export interface MarkReadPayload {
  /** How many changed state. */
  count: number;
  messages: Message[];
  /** The ids given that are not the user's messages, exactly as given. */
  notFound: string[];
  unreadCount: number;
}
export interface MarkAllReadPayload {
  count: number;
  unreadCount: number;
}
export interface DeleteMessagesPayload {
  count: number;
  notFound: string[];
  unreadCount: number;
}
export type { CategoryPreference, InboxCounts };
/** The "all" operations' scope: what was delivered at or before `until` (default: now), in `category` if given. */
export interface AllOptions {
  until?: Date | null;
  category?: string | null;
}
export interface MarkSeenPayload {
  count: number;
  notFound: string[];
  unseenCount: number;
}
export interface MarkAllSeenPayload {
  count: number;
  unseenCount: number;
}
/** What archive, unarchive, snooze and unsnooze answer: the found messages after the change, and the whole inbox's counts. */
export interface ArchivePayload {
  count: number;
  messages: Message[];
  notFound: string[];
  counts: InboxCounts;
}
export type SnoozePayload = ArchivePayload;
export interface ArchiveAllPayload {
  count: number;
  counts: InboxCounts;
}

/**
 * The mutations' use cases for code beside the server, with their rules, their signals and their
 * answers (CONTRACT.md §4 payloads), message ids being the global ids GraphQL clients see. A refused
 * call rejects with an AppError carrying the GraphQL error's `code` (`BAD_USER_INPUT`...) and `field`.
 */
export interface StoredMessagesUseCases {
  /** Django's add_message for `userId` (as if that user called addMessage): stored when the level is in storeLevels, else a flash message. */
  addMessage(userId: string, input: AddMessageInput): Promise<AddMessagePayload>;
  /** add_message_for: one message stored for each listed user, at any level. */
  addMessageFor(input: AddMessageForInput): Promise<AddMessageForPayload>;
  /** broadcast_message: one message for every user known now. */
  broadcastMessage(input: BroadcastMessageInput): Promise<BroadcastMessagePayload>;
  markRead(userId: string, ids: readonly string[]): Promise<MarkReadPayload>;
  markUnread(userId: string, ids: readonly string[]): Promise<MarkReadPayload>;
  /** Marks read what was delivered to `userId` at or before `until` (default: now), in `category` if given (options). */
  markAllRead(userId: string, until?: Date | null | AllOptions): Promise<MarkAllReadPayload>;
  deleteMessages(userId: string, ids: readonly string[]): Promise<DeleteMessagesPayload>;
  /** The user's exact counts (CONTRACT.md §8): total, unread, unseen, archived, snoozed; of one category when given. */
  counts(userId: string, category?: string | null): Promise<InboxCounts>;
  markSeen(userId: string, ids: readonly string[]): Promise<MarkSeenPayload>;
  /** Marks seen what was delivered to `userId` at or before `until` (default: now), in `category` if given (options). */
  markAllSeen(userId: string, until?: Date | null | AllOptions): Promise<MarkAllSeenPayload>;
  archive(userId: string, ids: readonly string[]): Promise<ArchivePayload>;
  unarchive(userId: string, ids: readonly string[]): Promise<ArchivePayload>;
  /** Archives what was delivered at or before `until` (default: now), in `category` if given; `onlyRead`: only what is read now. */
  archiveAll(userId: string, options?: AllOptions & { onlyRead?: boolean }): Promise<ArchiveAllPayload>;
  /** Hides the messages until `until` (in the future, at most 365 days ahead). */
  snooze(userId: string, ids: readonly string[], until: Date): Promise<SnoozePayload>;
  /** Wakes the messages now: unread, unseen, not archived. */
  unsnooze(userId: string, ids: readonly string[]): Promise<SnoozePayload>;
  /** The categories the user has set (enabled or not), by name in code-point order. */
  preferences(userId: string): Promise<CategoryPreference[]>;
  /** Enables or disables a category for what is sent to the user from now on (at most 1,000 categories a user). */
  setPreference(userId: string, input: CategoryPreference): Promise<CategoryPreference>;
  /** Removes a sent message (its global id) from every recipient's inbox and archive; `recipientCount`: those who still had it. */
  retractMessage(id: string): Promise<{ recipientCount: number }>;
}

/** The library writes as one producer: idempotency keys of addMessageFor and broadcastMessage are scoped to it. */
const LIBRARY_PRODUCER: Viewer = { id: 'stored-messages-library', producer: true };

/** A user id as a token's `sub` is one: what GraphQL would take from a verified token is checked here. */
const userViewer = (userId: string): Viewer => ({ id: v.userIds('userId', [userId])[0], producer: false });

/**
 * What GraphQL's types check before a resolver runs (the level enum, DateTime values), for JavaScript
 * callers; then the mutations' own normalisation, so an idempotency key sees the same input either way.
 */
function checked(input: MessageInput): MessageInput {
  if (!isLevelName(input.level)) throw badInput('input.level', `must be one of ${LEVEL_NAMES.join(', ')}`);
  for (const field of ['date', 'expiresAt', 'deliverAt'] as const) validDate(`input.${field}`, input[field]);
  for (const field of ['category', 'groupKey'] as const) optionalString(`input.${field}`, input[field]);
  if (input.critical !== null && input.critical !== undefined && typeof input.critical !== 'boolean') throw badInput('input.critical', 'must be a boolean');
  return toInput(input);
}

function optionalString(field: string, value: unknown): void {
  if (value !== null && value !== undefined && typeof value !== 'string') throw badInput(field, 'must be a string');
}

/** `until`, or the options object of an "all" operation, checked. */
function allOptions(arg: Date | null | undefined | AllOptions): AllOptions {
  const options = arg instanceof Date || arg === null || arg === undefined ? { until: arg } : arg;
  validDate('until', options.until);
  optionalString('category', options.category);
  return options;
}

function validDate(field: string, value: Date | null | undefined): void {
  if (value !== null && value !== undefined && !(value instanceof Date && !Number.isNaN(value.getTime()))) throw badInput(field, 'must be a valid Date');
}

export function libraryUseCases(messages: Messages): StoredMessagesUseCases {
  const readState = (read: boolean) => async (userId: string, ids: readonly string[]) => {
    const viewer = userViewer(userId);
    const result = await withGlobalIds(ids, (storageIds) => (read ? messages.markRead(viewer, storageIds) : messages.markUnread(viewer, storageIds)));
    return { ...result, messages: result.messages.map(messageView) };
  };
  /** archive, unarchive, snooze, unsnooze: global ids in and out, messages as GraphQL shows them. */
  const byIds = (run: (viewer: Viewer, storageIds: string[]) => Promise<StatesPayload>) => async (userId: string, ids: readonly string[]) => {
    const viewer = userViewer(userId);
    const result = await withGlobalIds(ids, (storageIds) => run(viewer, storageIds));
    return { ...result, messages: result.messages.map(messageView) };
  };
  return {
    async addMessage(userId, input) {
      const result = await messages.addMessage(userViewer(userId), checked({ ...input, date: null }));
      return { ...result, message: messageView(result.message) };
    },
    async addMessageFor(input) {
      const result = await messages.addMessageFor(LIBRARY_PRODUCER, { ...checked(input), userIds: input.userIds });
      return { ...result, message: messageView(result.message) };
    },
    async broadcastMessage(input) {
      const result = await messages.broadcastMessage(LIBRARY_PRODUCER, checked(input));
      return { ...result, message: messageView(result.message) };
    },
    markRead: readState(true),
    markUnread: readState(false),
    async markAllRead(userId, until) {
      const { count, unreadCount } = await messages.markAllRead(userViewer(userId), allOptions(until));
      return { count, unreadCount };
    },
    deleteMessages: (userId, ids) => withGlobalIds(ids, (storageIds) => messages.deleteMessages(userViewer(userId), storageIds)),
    async counts(userId, category) {
      optionalString('category', category);
      return messages.counts(userViewer(userId), category);
    },
    markSeen: (userId, ids) => withGlobalIds(ids, (storageIds) => messages.markSeen(userViewer(userId), storageIds)),
    markAllSeen: async (userId, until) => messages.markAllSeen(userViewer(userId), allOptions(until)),
    archive: byIds((viewer, ids) => messages.archive(viewer, ids)),
    unarchive: byIds((viewer, ids) => messages.unarchive(viewer, ids)),
    archiveAll: async (userId, options = {}) => messages.archiveAll(userViewer(userId), { ...allOptions(options), onlyRead: options.onlyRead }),
    async snooze(userId, ids, until) {
      if (!(until instanceof Date)) throw badInput('input.until', 'must be a Date');
      validDate('input.until', until);
      return byIds((viewer, storageIds) => messages.snooze(viewer, storageIds, until))(userId, ids);
    },
    unsnooze: byIds((viewer, ids) => messages.unsnooze(viewer, ids)),
    preferences: (userId) => messages.preferences(userViewer(userId)),
    async setPreference(userId, input) {
      if (typeof input.category !== 'string') throw badInput('input.category', 'must be a string');
      return messages.setPreference(userViewer(userId), { category: input.category, enabled: input.enabled });
    },
    async retractMessage(id) {
      if (typeof id !== 'string') throw badInput('input.id', 'must be a string');
      return messages.retractMessage(LIBRARY_PRODUCER, decodeMessageId('input.id', id));
    },
  };
}

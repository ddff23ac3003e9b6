import { randomUUID } from 'node:crypto';
import type { FlashStore } from './flash-store.js';
import { emitChange } from './changes.js';
import { createInboxStates } from './inbox-states.js';
import { IdempotencyMismatch, InvalidCursor, type IdempotencyClaim, type ListPage, type MessageFilter, type MessageStore, type Recipients, type SendResult } from './message-store.js';
import { badInput, forbidden } from './errors.js';
import { LEVELS } from './levels.js';
import { createPreferences } from './preferences.js';
import { deliveredRecord, reviveMessage, type MessageRecord, type NewMessage } from './message.js';
import { createRetraction } from './retraction.js';
import { createSchedules } from './schedules.js';
import { sentView, type Signals } from './signals.js';
import { newMessage, producedSend, type MessageInput, type ProducedSend } from './message-input.js';
import * as v from './validate.js';

/** Who is calling: `sub` of a verified token; producers hold the `messages:send` scope. */
export interface Viewer {
  id: string;
  producer: boolean;
}

export type { MessageInput } from './message-input.js';

export interface MessagesOptions {
  store: MessageStore;
  flash: FlashStore;
  signals: Signals;
  /** Levels `addMessage` persists (integers). */
  storeLevels: ReadonlySet<number>;
  /** The minimum level `addMessage` accepts. */
  messageLevel: number;
  /** 0 = never expire. */
  messageExpireDays: number;
}

/** The "all" operations' scope: what was delivered at or before `until` (default: now), in `category` if given. */
export interface AllOptions {
  until?: Date | null;
  category?: string | null;
}

export interface Pagination {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

const PENDING_STORED_MAX = 100;

/**
 * The use cases of stored-messages, one function each. They validate, call the store, and fire
 * signals after the store has committed. No GraphQL, HTTP or SQL here.
 */
export function createMessages(o: MessagesOptions) {
  /** Users become known when they call the API; producers do not become users by calling. */
  const touch = async (viewer: Viewer) => {
    if (!viewer.producer) await o.store.ensureUser(viewer.id);
  };

  const claimFor = (viewer: Viewer, operation: string, input: { idempotencyKey?: string | null }, request: unknown): IdempotencyClaim | undefined => {
    if (input.idempotencyKey === null || input.idempotencyKey === undefined) return undefined;
    const key = v.requireText('input.idempotencyKey', input.idempotencyKey, v.LIMITS.idempotencyKey);
    // Operation first: its name never holds ':', so the scope is unambiguous for any user id.
    // (Not a NUL separator: PostgreSQL text cannot hold U+0000.)
    return { scope: `${operation}:${viewer.id}`, key, fingerprint: v.fingerprint(request) };
  };

  const mismatch = (err: unknown): never => {
    if (err instanceof IdempotencyMismatch) throw badInput('input.idempotencyKey', 'was already used with different input');
    throw err;
  };

  const flashRecord = (m: NewMessage): MessageRecord => ({ ...deliveredRecord(randomUUID(), m), stored: false });

  const emitStored = (result: SendResult) => emitChange(o.signals, { op: 'send', result });

  /** A producer's send: now, or kept for `deliverAt` (the payload then carries the scheduled message). */
  const produce = async (viewer: Viewer, operation: 'addMessageFor' | 'broadcastMessage', input: MessageInput, checked: ProducedSend, request: unknown) => {
    const { deliverAt, message: m } = checked;
    const to: Recipients = checked.userIds ? { userIds: checked.userIds } : { everyone: true };
    const claim = claimFor(viewer, operation, input, request);
    if (deliverAt) {
      const scheduled = await o.store.schedule(m, to, deliverAt, claim).catch(mismatch);
      return { message: scheduled.message, recipientCount: scheduled.recipientCount };
    }
    const result = await o.store.send(m, to, claim).catch(mismatch);
    emitStored(result);
    return { message: sentView(result), recipientCount: result.recipientCount };
  };

  const enabled = async (userId: string, category: string) => (await o.store.preferences(userId)).find((p) => p.category === category)?.enabled ?? true;

  async function setRead(viewer: Viewer, ids: readonly string[], read: boolean) {
    v.messageIds('input.ids', ids);
    await touch(viewer);
    const result = await o.store.setRead(viewer.id, ids, read);
    emitChange(o.signals, { op: 'setRead', userId: viewer.id, read, result });
    return { count: result.changed.length, messages: result.messages, notFound: result.notFound, unreadCount: result.unreadCount };
  }

  /** The caller's flash messages, oldest first, without those past their own expiresAt (the flash TTL is only a ceiling). */
  const liveFlash = async (userId: string): Promise<MessageRecord[]> => {
    const now = Date.now();
    return (await o.flash.list(userId)).filter((m) => m.expiresAt === null || new Date(m.expiresAt).getTime() > now);
  };

  async function pending(viewer: Viewer): Promise<MessageRecord[]> {
    await touch(viewer);
    const [flash, stored] = await Promise.all([liveFlash(viewer.id), o.store.oldestUnread(viewer.id, PENDING_STORED_MAX)]);
    return [...flash, ...stored];
  }

  return {
    ...createPreferences({ store: o.store, touch }),
    ...createInboxStates({ store: o.store, signals: o.signals, touch }),
    ...createSchedules({ store: o.store }),
    ...createRetraction({ store: o.store, signals: o.signals }),

    /** Makes a caller with a user token a known user (broadcasts reach known users); producers never become users this way. */
    register: touch,

    /** Django's messages.add_message for the caller: stored when the level is in STORE_LEVELS, else flash. */
    async addMessage(viewer: Viewer, input: MessageInput): Promise<{ message: MessageRecord; stored: boolean }> {
      if (input.deliverAt) throw badInput('input.deliverAt', 'is for addMessageFor and broadcastMessage');
      const m = newMessage(input, { allowDate: false, deliverAt: null, messageExpireDays: o.messageExpireDays });
      const claim = claimFor(viewer, 'addMessage', input, { ...input, idempotencyKey: undefined });
      await touch(viewer);
      if (o.storeLevels.has(m.level) && m.level >= o.messageLevel) {
        const result = await o.store.send(m, { userIds: [viewer.id] }, claim).catch(mismatch);
        emitStored(result);
        // Nothing stored: the caller disabled the message's category.
        if (result.recipientCount === 0) return { message: { ...result.message, stored: false }, stored: false };
        return { message: sentView(result), stored: true };
      }
      if (m.category !== null && !m.critical && !(await enabled(viewer.id, m.category))) {
        // Flash messages follow preferences too: answered, never shown.
        return { message: flashRecord(m), stored: false };
      }
      const message = flashRecord(m);
      if (claim) {
        // The key is claimed before delivering (insert-or-get in the store): of concurrent calls with it,
        // only the first delivers, and every one answers its message.
        const first = await o.store.remember(claim, { message, stored: false }).catch(mismatch);
        if (first.message.id !== message.id) return first;
      }
      if (m.level >= o.messageLevel) {
        try {
          await o.flash.push(viewer.id, message);
        } catch (err) {
          // Not delivered: the key must not answer this message to a retry.
          if (claim) await o.store.forget(claim).catch(() => {});
          throw err;
        }
        o.signals.emit({ kind: 'flash', userId: viewer.id, message });
      }
      return { message, stored: false };
    },

    /** add_message_for: one message stored for each listed user, in one transaction. */
    async addMessageFor(viewer: Viewer, input: MessageInput & { userIds: readonly string[] }) {
      if (!viewer.producer) throw forbidden('addMessageFor needs the messages:send scope');
      const checked = producedSend(input, o.messageExpireDays);
      return produce(viewer, 'addMessageFor', input, checked, { ...input, userIds: [...(checked.userIds ?? [])].sort(), idempotencyKey: undefined });
    },

    /** broadcast_message: one write that reaches every user known now. */
    async broadcastMessage(viewer: Viewer, input: MessageInput) {
      if (!viewer.producer) throw forbidden('broadcastMessage needs the messages:send scope');
      return produce(viewer, 'broadcastMessage', input, producedSend({ ...input, userIds: undefined }, o.messageExpireDays), { ...input, idempotencyKey: undefined });
    },

    async list(viewer: Viewer, opts: { unreadOnly: boolean; filter?: MessageFilter | null; page: Pagination }): Promise<ListPage> {
      const { first, after, last, before } = opts.page;
      if ((first ?? null) !== null && (last ?? null) !== null) throw badInput('last', 'cannot be combined with first');
      if ((after ?? null) !== null && (before ?? null) !== null) throw badInput('before', 'cannot be combined with after');
      // One direction per request: forward is first/after, backward is last/before.
      if ((first ?? null) !== null && (before ?? null) !== null) throw badInput('before', 'cannot be combined with first (use last with before)');
      if ((last ?? null) !== null && (after ?? null) !== null) throw badInput('after', 'cannot be combined with last (use first with after)');
      const backward = (last ?? null) !== null || ((before ?? null) !== null && (first ?? null) === null);
      const limit = backward ? v.pageSize('last', last) : v.pageSize('first', first);
      const filter = opts.filter ?? {};
      if (filter.since && filter.until && filter.since > filter.until) throw badInput('filter.until', 'must not be before filter.since');
      const categories = filter.categories?.map((c, i) => v.category(`filter.categories[${i}]`, c)) ?? null;
      await touch(viewer);
      const page = o.store.list(viewer.id, {
        unreadOnly: opts.unreadOnly,
        filter: { ...filter, levels: filter.levels ? [...new Set(filter.levels)] : null, categories },
        direction: backward ? 'backward' : 'forward',
        limit,
        cursor: (backward ? before : after) ?? null,
      });
      return page.catch((err: unknown) => {
        throw err instanceof InvalidCursor ? badInput(backward ? 'before' : 'after', err.message) : err;
      });
    },

    /** One of the caller's messages (stored, or a pending flash message), or null. */
    async get(viewer: Viewer, ref: { stored: boolean; id: string }): Promise<MessageRecord | null> {
      await touch(viewer);
      if (ref.stored) return o.store.get(viewer.id, ref.id);
      return (await liveFlash(viewer.id)).find((m) => m.id === ref.id) ?? null;
    },

    async unreadCount(viewer: Viewer): Promise<number> {
      await touch(viewer);
      return o.store.unreadCount(viewer.id);
    },

    /** Flash messages, then the oldest unread stored ones; changes nothing (Django's storage.used = False). */
    pending,

    markRead: (viewer: Viewer, ids: readonly string[]) => setRead(viewer, ids, true),
    markUnread: (viewer: Viewer, ids: readonly string[]) => setRead(viewer, ids, false),

    /** Marks read what was delivered at or before `until` (default now), in `category` if given, so newer arrivals stay unread. */
    async markAllRead(viewer: Viewer, opts: AllOptions = {}) {
      const category = v.optionalCategory('input.category', opts.category);
      await touch(viewer);
      const at = opts.until ?? new Date();
      const result = await o.store.markAllRead(viewer.id, at, category);
      emitChange(o.signals, { op: 'markAllRead', userId: viewer.id, until: at, category, result });
      return result;
    },

    async deleteMessages(viewer: Viewer, ids: readonly string[]) {
      v.messageIds('input.ids', ids);
      await touch(viewer);
      const result = await o.store.deleteMessages(viewer.id, ids);
      emitChange(o.signals, { op: 'deleteMessages', userId: viewer.id, result });
      return { count: result.deleted.length, notFound: result.notFound, unreadCount: result.unreadCount };
    },

    /** Iterating Django's storage: returns what `pending` would, drops those flash messages, marks exactly those stored ones read. */
    async consume(viewer: Viewer) {
      const messages = await pending(viewer);
      const flashIds = messages.filter((m) => !m.stored).map((m) => m.id);
      const storedIds = messages.filter((m) => m.stored).map((m) => m.id);
      if (flashIds.length) await o.flash.remove(viewer.id, flashIds);
      const read = await setRead(viewer, storedIds, true);
      const after = new Map(read.messages.map((m) => [m.id, m]));
      return { messages: messages.map((m) => after.get(m.id) ?? m), unreadCount: read.unreadCount };
    },
  };
}

export type Messages = ReturnType<typeof createMessages>;

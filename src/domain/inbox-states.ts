import type { InboxCounts, MessageStore, StateChange } from './message-store.js';
import type { MessageRecord } from './message.js';
import type { AllOptions, Viewer } from './messages.js';
import { emitChange, type StoreChange } from './changes.js';
import type { Signals } from './signals.js';
import * as v from './validate.js';

export interface InboxStatesOptions {
  store: MessageStore;
  signals: Signals;
  /** Makes the caller a known user (as every other use case does). */
  touch(viewer: Viewer): Promise<void>;
}

/** What archive, unarchive, snooze and unsnooze answer (the contract's ArchivePayload / SnoozePayload). */
export interface StatesPayload {
  count: number;
  messages: MessageRecord[];
  notFound: string[];
  counts: InboxCounts;
}

/**
 * The inbox states' use cases (CONTRACT.md §8): seen, archived, snoozed. Each validates, calls one
 * store operation, and fires one signal after the commit, only when something changed.
 */
export function createInboxStates(o: InboxStatesOptions) {
  /** Validates the ids, runs the store operation, and fires the signals of the change it committed. */
  const byIds = async (viewer: Viewer, ids: readonly string[], run: (ids: readonly string[]) => Promise<StateChange>, change: (r: StateChange) => StoreChange) => {
    v.messageIds('input.ids', ids);
    await o.touch(viewer);
    const r = await run(ids);
    emitChange(o.signals, change(r));
    return r;
  };

  const payload = (r: StateChange): StatesPayload => ({ count: r.changed.length, messages: r.messages, notFound: r.notFound, counts: r.counts });

  return {
    /** The caller's five counts, of the whole inbox or of one category (snoozed messages count only in `snoozed`). */
    async counts(viewer: Viewer, category?: string | null): Promise<InboxCounts> {
      const only = v.optionalCategory('category', category);
      await o.touch(viewer);
      return o.store.counts(viewer.id, only);
    },

    async unseenCount(viewer: Viewer): Promise<number> {
      await o.touch(viewer);
      return (await o.store.counts(viewer.id)).unseen;
    },

    /** What the client has shown: seen (drives the badge); read stays as it was. */
    async markSeen(viewer: Viewer, ids: readonly string[]) {
      const r = await byIds(viewer, ids, (i) => o.store.markSeen(viewer.id, i), (result) => ({ op: 'markSeen', userId: viewer.id, result }));
      return { count: r.changed.length, notFound: r.notFound, unseenCount: r.counts.unseen };
    },

    /** Marks seen what was delivered at or before `until` (default now), in `category` if given; snoozed messages are left alone. */
    async markAllSeen(viewer: Viewer, opts: AllOptions = {}) {
      const category = v.optionalCategory('input.category', opts.category);
      await o.touch(viewer);
      const at = opts.until ?? new Date();
      const r = await o.store.markAllSeen(viewer.id, at, category);
      emitChange(o.signals, { op: 'markAllSeen', userId: viewer.id, until: at, category, result: r });
      return { count: r.count, unseenCount: r.counts.unseen };
    },

    /** Archives (and so marks read and seen) for the caller alone. */
    archive: async (viewer: Viewer, ids: readonly string[]) => payload(await byIds(viewer, ids, (i) => o.store.setArchived(viewer.id, i, true), (result) => ({ op: 'setArchived', userId: viewer.id, archived: true, result }))),

    /** Takes out of the archive; the message stays read. */
    unarchive: async (viewer: Viewer, ids: readonly string[]) => payload(await byIds(viewer, ids, (i) => o.store.setArchived(viewer.id, i, false), (result) => ({ op: 'setArchived', userId: viewer.id, archived: false, result }))),

    /** Archives what was delivered at or before `until` (default now), in `category` if given; with `onlyRead`, only what is read now. */
    async archiveAll(viewer: Viewer, opts: AllOptions & { onlyRead?: boolean | null } = {}) {
      const category = v.optionalCategory('input.category', opts.category);
      await o.touch(viewer);
      const at = opts.until ?? new Date();
      const r = await o.store.archiveAll(viewer.id, at, opts.onlyRead ?? false, category);
      emitChange(o.signals, { op: 'archiveAll', userId: viewer.id, until: at, category, result: r });
      return { count: r.count, counts: r.counts };
    },

    /** Hides until `until` (in the future, at most 365 days ahead); snoozing again moves the time. */
    async snooze(viewer: Viewer, ids: readonly string[], until: Date) {
      v.snoozeUntil('input.until', until, new Date());
      return payload(await byIds(viewer, ids, (i) => o.store.snooze(viewer.id, i, until), (result) => ({ op: 'snooze', userId: viewer.id, until, result })));
    },

    /** Wakes now: unread, unseen, not archived, in its place; fires INBOX_STORED as a wake-up does. */
    unsnooze: async (viewer: Viewer, ids: readonly string[]) => payload(await byIds(viewer, ids, (i) => o.store.snooze(viewer.id, i, null), (result) => ({ op: 'snooze', userId: viewer.id, until: null, result }))),
  };
}

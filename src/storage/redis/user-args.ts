import type { UserScriptName } from './scripts.js';

/** A per-delivery state change (set-state.lua). */
export type StateOp = 'read' | 'unread' | 'seen' | 'archive' | 'unarchive';

/** What mark-all.lua puts every delivery up to a time in. */
export type AllKind = 'seen' | 'read' | 'archive' | 'archive-read';

/**
 * The named parameters of each per-user script and how they become its ARGV (after the prelude's,
 * lua/lib/deliver.lua): the order and encodings of each script's header.
 */
export interface UserArgs {
  list: {
    /** Each: true, false, or null for either. */
    read: boolean | null;
    seen: boolean | null;
    archived: boolean | null;
    /** true: only snoozed deliveries; false: none of them. */
    snoozed: boolean;
    /** Level values; null = any. */
    levels: readonly number[] | null;
    since: Date | null;
    until: Date | null;
    /** 'forward' = newest first. */
    direction: 'forward' | 'backward';
    limit: number;
    /** The id to start after; null = the start. */
    cursor: string | null;
    /** 'counters' when no level or time filter applies, else 'scan'. */
    totalBy: 'counters' | 'scan';
    /** Any of these; null = any, even none. */
    categories: readonly string[] | null;
  };
  get: { messageId: string };
  /** category: null = the whole inbox. */
  count: { category: string | null };
  setState: { op: StateOp; ids: readonly string[] };
  /** category: null = every delivery. */
  markAll: { kind: AllKind; until: Date; category: string | null };
  /** until: null wakes them now. */
  snooze: { until: Date | null; ids: readonly string[] };
  wake: { now: Date; limit: number };
  /** tombstones: always (Cluster), or only while the message's send is journalled. */
  delete: { ids: readonly string[]; tombstones: 'always' | 'while-journalled' };
  /** A retraction's step for one recipient (retract-user.lua). */
  retract: { messageId: string };
  /** Whether a retraction removed messageId from the user's inbox (retracted.lua). */
  retracted: { messageId: string };
  oldestUnread: { limit: number };
  /** spec: lua/lib/delivery.lua parse_spec; registered: the watermark to start from if the user is new. */
  deliver: { id: string; spec: string; registered: string };
  /** What a send of messageId did for the user, read again (sent-to.lua). */
  sentTo: { messageId: string };
  /** max: the preferences a user may have. */
  setPreference: { category: string; enabled: boolean; max: number };
}

type Arg = string | number;
const ms = (d: Date | null) => (d ? String(d.getTime()) : '');
const tri = (v: boolean | null) => (v === null ? '' : v ? '1' : '0');

export const encodeUserArgs: { [N in UserScriptName]: (a: UserArgs[N]) => Arg[] } = {
  list: (a) => [
    tri(a.read),
    tri(a.seen),
    tri(a.archived),
    a.snoozed ? '1' : '',
    a.levels ? a.levels.join(',') : '-',
    ms(a.since),
    ms(a.until),
    a.direction,
    a.limit,
    a.cursor ?? '',
    a.totalBy,
    // Categories are a-z 0-9 . _ - (validated), so a comma separates them.
    a.categories ? a.categories.join(',') : '-',
  ],
  get: (a) => [a.messageId],
  count: (a) => [a.category ?? ''],
  setState: (a) => [a.op, ...a.ids],
  markAll: (a) => [a.kind, a.until.getTime(), a.category ?? ''],
  snooze: (a) => [ms(a.until), ...a.ids],
  wake: (a) => [a.now.getTime(), a.limit],
  delete: (a) => [a.tombstones === 'always' ? '1' : '', ...a.ids],
  retract: (a) => [a.messageId],
  retracted: (a) => [a.messageId],
  oldestUnread: (a) => [a.limit],
  deliver: (a) => [a.id, a.spec, a.registered],
  sentTo: (a) => [a.messageId],
  setPreference: (a) => [a.category, a.enabled ? '1' : '0', a.max],
};

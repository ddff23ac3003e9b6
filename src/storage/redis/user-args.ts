import type { UserScriptName } from './scripts.js';

/**
 * The named parameters of each per-user script and how they become its ARGV (after the prelude's,
 * lua/lib/deliver.lua): the order and encodings of each script's header.
 */
export interface UserArgs {
  list: {
    source: 'all' | 'unread';
    readOnly: boolean;
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
  };
  get: { messageId: string };
  count: Record<string, never>;
  setRead: { read: boolean; ids: readonly string[] };
  markAllRead: { until: Date };
  /** tombstones: always (Cluster), or only while the message's send is journalled. */
  delete: { ids: readonly string[]; tombstones: 'always' | 'while-journalled' };
  oldestUnread: { limit: number };
  /** registered: the watermark to start from if the user is new. */
  deliver: { id: string; meta: string; registered: string };
}

type Arg = string | number;
const ms = (d: Date | null) => (d ? String(d.getTime()) : '');

export const encodeUserArgs: { [N in UserScriptName]: (a: UserArgs[N]) => Arg[] } = {
  list: (a) => [a.source, a.readOnly ? '1' : '', a.levels ? a.levels.join(',') : '-', ms(a.since), ms(a.until), a.direction, a.limit, a.cursor ?? '', a.totalBy],
  get: (a) => [a.messageId],
  count: () => [],
  setRead: (a) => [a.read ? '1' : '0', ...a.ids],
  markAllRead: (a) => [a.until.getTime()],
  delete: (a) => [a.tombstones === 'always' ? '1' : '', ...a.ids],
  oldestUnread: (a) => [a.limit],
  deliver: (a) => [a.id, a.meta, a.registered],
};

import type { InboxCounts } from '../../domain/message-store.js';

/** How the scripts answer counts and delivery states (lua/lib/deliver.lua append_counts, lua/lib/read-state.lua append_states). */

/** Fields per delivery: id, readAt, seenAt, archivedAt, snoozedUntil, groupCount ('' = 1). */
const PER_ITEM = 6;
/** Fields of the counts: total, unread, unseen, archived, snoozed. */
export const COUNT_FIELDS = 5;

/** A delivery as a script answers it: id, then its four state times (ms, '' = unset), then its groupCount ('' = 1). */
export type StoredItem = readonly string[];

export function parseCounts(r: readonly string[], at = 0): InboxCounts {
  const [total, unread, unseen, archived, snoozed] = r.slice(at, at + COUNT_FIELDS).map(Number);
  return { total, unread, unseen, archived, snoozed };
}

/** What a send did for one recipient: their counts after it and the grouping, or null when their preference skipped them. */
export interface UserDelivery {
  unreadCount: number;
  unseenCount: number;
  groupCount: number;
  superseded: string | null;
}

/** A send's answer per recipient (lua/lib/delivery.lua user_reply): '-', or "<unread>:<unseen>[:<groupCount>:<superseded>]". */
export function parseUserReply(s: string | undefined): UserDelivery | null {
  if (s === '-') return null;
  const [unread, unseen, groupCount, superseded] = (s ?? '0:0').split(':');
  return { unreadCount: Number(unread), unseenCount: Number(unseen), groupCount: groupCount ? Number(groupCount) : 1, superseded: superseded || null };
}

/** The deliveries of a flat reply, each [id, readAt, seenAt, archivedAt, snoozedUntil, groupCount]. */
export function parseItems(flat: readonly string[]): StoredItem[] {
  const out: StoredItem[] = [];
  for (let i = 0; i + PER_ITEM <= flat.length; i += PER_ITEM) out.push(flat.slice(i, i + PER_ITEM));
  return out;
}

/**
 * A state change's reply after its header: the counts, then (with `wake`) the next wake, #changed,
 * the changed ids, and the found deliveries.
 */
export function parseChange(r: readonly string[], withWake: boolean): { counts: InboxCounts; nextWake: string; changed: string[]; items: StoredItem[] } {
  const counts = parseCounts(r);
  let at = COUNT_FIELDS;
  const nextWake = withWake ? r[at++] : '';
  const n = Number(r[at++]);
  return { counts, nextWake, changed: r.slice(at, at + n) as string[], items: parseItems(r.slice(at + n)) };
}

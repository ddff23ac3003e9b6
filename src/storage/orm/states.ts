/** The inbox-state operations of the PostgreSQL store (sql/states.ts, sql/mark-all.ts), each inside the store's transaction. */
import type { MessageRecord } from '../../domain/message.js';
import type { AllChange, InboxCounts, StateChange } from '../../domain/message-store.js';
import { isMessageId } from '../../domain/message.js';
import { jsonList, type Sql, type UserIds } from './db.js';
import { countsOf, toRecord } from './reads.js';
import { LOWER_UPTO, LOWEST_COVERED } from './sql/broadcasts.js';
import { RAISE_UPTO } from './sql/mark-all.js';
import { GET_MESSAGES } from './sql/messages.js';
import { ARCHIVE, MARK_SEEN, SNOOZE, UNARCHIVE, WAKE } from './sql/states.js';
import { USER_STATE } from './sql/users.js';

/** Which watermarks an operation lowers below a message, or raises. */
export type Kinds = { seen: boolean; read: boolean; archived: boolean };
export const ALL_KINDS: Kinds = { seen: true, read: true, archived: true };

/** One state change by ids: its statement (after lowering watermarks where needed), answering the ids changed. */
export type Change = (sql: Sql, inputs: { userId: string; ids: string; wanted: string[] }) => Promise<{ changed: string[] }[]>;

export const seeing: Change = (sql, inputs) => sql(MARK_SEEN, inputs);
export const archiving: Change = (sql, inputs) => sql(ARCHIVE, inputs);
export const unarchiving: Change = async (sql, inputs) => {
  await lowerBelow(sql, inputs.userId, inputs.wanted, 'archived', { seen: false, read: false, archived: true });
  return sql(UNARCHIVE, inputs);
};
export const snoozing = (until: Date): Change => (sql, inputs) => sql(SNOOZE, { ...inputs, until });
export const waking: Change = async (sql, inputs) => {
  const users = [{ user_id: inputs.userId, ids: inputs.wanted }];
  await lowerBelowEach(sql, users, 'seen', ALL_KINDS, true);
  const [woken] = await sql(WAKE, { users: jsonList(users), due: null });
  return [{ changed: woken?.changed ?? [] }];
};

/** Runs `change` (the user locked), then reads the requested messages in their state after, and the counts. */
export async function changeIn(sql: Sql, userId: string, ids: readonly string[], change: Change): Promise<StateChange> {
  const wanted = [...new Set(ids.filter(isMessageId))];
  const [{ changed }] = wanted.length ? await change(sql, { userId, ids: jsonList(wanted), wanted }) : [{ changed: [] }];
  const messages = wanted.length ? (await sql(GET_MESSAGES, { userId, ids: jsonList(wanted) })).map(toRecord) : [];
  return found(ids, changed, messages, countsOf((await sql(USER_STATE, { userId }))[0]));
}

/** An "all" operation once the user is locked and caught up: raises `kinds` to `user.upto` (RAISE_UPTO). */
export async function raiseIn(
  sql: Sql,
  userId: string,
  user: { upto: string; seen_upto: string; read_upto: string; archived_upto: string },
  kinds: Kinds,
  onlyRead: boolean,
): Promise<AllChange> {
  const [r] = await sql(RAISE_UPTO, { userId, upto: user.upto, lo: lowestRaised(user, kinds, onlyRead), ...kinds, onlyRead });
  const [state] = await sql(USER_STATE, { userId });
  return { count: r.n, counts: countsOf(state) };
}

/**
 * Lowers the watermarks of `kinds` below the lowest of `ids` that the `covering` watermark covers (the
 * snoozed ones only, with `snoozedOnly`), so those messages alone can lose a state (LOWER_UPTO).
 */
export async function lowerBelow(sql: Sql, userId: string, ids: readonly string[], covering: keyof Kinds, kinds: Kinds, snoozedOnly = false): Promise<void> {
  await lowerBelowEach(sql, [{ user_id: userId, ids }], covering, kinds, snoozedOnly);
}

/** lowerBelow for several users at once, with one statement to find whose watermarks must go. */
export async function lowerBelowEach(sql: Sql, users: readonly UserIds[], covering: keyof Kinds, kinds: Kinds, snoozedOnly = false): Promise<void> {
  if (!users.some((u) => u.ids.length)) return;
  for (const low of await sql(LOWEST_COVERED, { users: jsonList(users), kind: covering, snoozedOnly })) {
    if (low.x !== null) await sql(LOWER_UPTO, { userId: low.user_id, below: low.x, ...kinds });
  }
}

/** The lowest watermark an "all" operation raising `kinds` to `w.upto` leaves (RAISE_UPTO's :lo, a constant bound for its scans). */
export function lowestRaised(w: { upto: string; seen_upto: string; read_upto: string; archived_upto: string }, kinds: Kinds, onlyRead: boolean): string {
  const max = (a: bigint, b: bigint) => (a > b ? a : b);
  const min = (a: bigint, b: bigint) => (a < b ? a : b);
  const to = BigInt(w.upto);
  const raised = [
    kinds.seen && max(BigInt(w.seen_upto), to),
    kinds.read && max(BigInt(w.read_upto), to),
    kinds.archived && max(BigInt(w.archived_upto), onlyRead ? min(to, BigInt(w.read_upto)) : to),
  ].filter((x): x is bigint => x !== false);
  return String(raised.reduce(min));
}

/** A StateChange: the found messages in request order (each once), the others not found. */
export function found(ids: readonly string[], changed: string[], messages: MessageRecord[], counts: InboxCounts): StateChange {
  const byId = new Map(messages.map((m) => [m.id, m]));
  const asked = [...new Set(ids)];
  return { changed, messages: asked.flatMap((id) => byId.get(id) ?? []), notFound: asked.filter((id) => !byId.has(id)), counts };
}

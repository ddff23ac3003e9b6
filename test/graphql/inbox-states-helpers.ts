import { newProducer, newUser, sendMany, type Caller } from '../factories.js';
import type { GqlResult, TestApp } from '../harness.js';
import { sleep } from '../support.js';

/**
 * The inbox states (CONTRACT.md §8) through GraphQL: each mutation with its whole payload, the counts,
 * and a message's states. Shared by the GraphQL and live suites.
 */

/** A message's states, and its category and group (section 9). */
export const STATE = 'id text read readAt seen seenAt archived archivedAt snoozedUntil category groupKey groupCount';

export interface StateMsg {
  id: string;
  text: string;
  read: boolean;
  readAt: string | null;
  seen: boolean;
  seenAt: string | null;
  archived: boolean;
  archivedAt: string | null;
  snoozedUntil: string | null;
  category: string | null;
  groupKey: string | null;
  groupCount: number;
}

export interface Counts {
  total: number;
  unread: number;
  unseen: number;
  archived: number;
  snoozed: number;
}

const COUNTS = 'counts { total unread unseen archived snoozed }';

/** Each mutation: its input type (null: optional input) and everything its payload has. */
const MUTATIONS = {
  markSeen: ['MarkSeenInput!', 'count notFound unseenCount'],
  markAllSeen: ['MarkAllSeenInput', 'count unseenCount'],
  archive: ['ArchiveInput!', `count notFound messages { ${STATE} } ${COUNTS}`],
  unarchive: ['ArchiveInput!', `count notFound messages { ${STATE} } ${COUNTS}`],
  archiveAll: ['ArchiveAllInput', `count ${COUNTS}`],
  snooze: ['SnoozeInput!', `count notFound messages { ${STATE} } ${COUNTS}`],
  unsnooze: ['UnsnoozeInput!', `count notFound messages { ${STATE} } ${COUNTS}`],
} as const;
export type StateMutation = keyof typeof MUTATIONS;

export interface IdsPayload {
  count: number;
  notFound: string[];
  messages: StateMsg[];
  counts: Counts;
}

/** One mutation's whole result (errors included). */
export function stateRaw(u: Caller, name: StateMutation, input?: Record<string, unknown>): Promise<GqlResult> {
  const [type, payload] = MUTATIONS[name];
  return u.raw(`mutation($input: ${type}) { ${name}(input: $input) { ${payload} } }`, { input });
}

async function state<T>(u: Caller, name: StateMutation, input?: Record<string, unknown>): Promise<T> {
  const [type, payload] = MUTATIONS[name];
  return (await u.q(`mutation($input: ${type}) { ${name}(input: $input) { ${payload} } }`, { input }))[name];
}

export const markSeen = (u: Caller, ids: string[]) => state<{ count: number; notFound: string[]; unseenCount: number }>(u, 'markSeen', { ids });
export const markAllSeen = (u: Caller, until?: string) => state<{ count: number; unseenCount: number }>(u, 'markAllSeen', until === undefined ? undefined : { until });
export const archiveIds = (u: Caller, ids: string[]) => state<IdsPayload>(u, 'archive', { ids });
export const unarchive = (u: Caller, ids: string[]) => state<IdsPayload>(u, 'unarchive', { ids });
export const archiveAll = (u: Caller, input?: { until?: string; onlyRead?: boolean; category?: string }) => state<{ count: number; counts: Counts }>(u, 'archiveAll', input);
export const snooze = (u: Caller, ids: string[], until: string) => state<IdsPayload>(u, 'snooze', { ids, until });
export const unsnooze = (u: Caller, ids: string[]) => state<IdsPayload>(u, 'unsnooze', { ids });

/** `counts`, checked against `unreadCount` and `unseenCount` asked in the same request. */
export async function countsOf(u: Caller): Promise<Counts> {
  const d = await u.q(`{ ${COUNTS} unreadCount unseenCount }`);
  if (d.unreadCount !== d.counts.unread || d.unseenCount !== d.counts.unseen) throw new Error(`counts disagree: ${JSON.stringify(d)}`);
  return d.counts;
}

/** Counts of an inbox with nothing archived or snoozed, `read` of its `total` read and `seen` seen. */
export const plainCounts = (total: number, o: { read?: number; seen?: number } = {}): Counts => ({
  total,
  unread: total - (o.read ?? 0),
  unseen: total - (o.seen ?? o.read ?? 0),
  archived: 0,
  snoozed: 0,
});

export async function stateOf(u: Caller, id: string): Promise<StateMsg | null> {
  return (await u.q(`query($id: ID!) { message(id: $id) { ${STATE} } }`, { id })).message;
}

/** `messages(filter:)`: the ids, newest first, and the page's totalCount. */
export async function listed(u: Caller, filter: Record<string, unknown> = {}): Promise<{ ids: string[]; totalCount: number }> {
  const d = await u.q('query($f: MessageFilter) { messages(first: 100, filter: $f) { totalCount edges { node { id } } } }', { f: filter });
  return { ids: d.messages.edges.map((e: { node: { id: string } }) => e.node.id), totalCount: d.messages.totalCount };
}

/** `unreadMessages` ids and `pendingMessages` ids. */
export async function inboxAndPending(u: Caller): Promise<{ inbox: string[]; pending: string[] }> {
  const d = await u.q('{ unreadMessages(first: 100) { edges { node { id } } } pendingMessages { id } }');
  return { inbox: d.unreadMessages.edges.map((e: { node: { id: string } }) => e.node.id), pending: d.pendingMessages.map((m: { id: string }) => m.id) };
}

/** An instant `days` (possibly fractional) from now, ISO. */
export const isoDaysAhead = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();

/** A fresh user with `n` messages from a fresh producer (ids oldest first). */
export async function userWith(t: TestApp, n: number): Promise<{ u: Caller; p: Caller; ids: string[] }> {
  const [p, u] = [await newProducer(t), await newUser(t)];
  return { u, p, ids: (await sendMany(p, u.sub, n)).map((m) => m.id) };
}

/** An instant (ISO) between what was sent before and what is sent after: the waits are for the clock, not speed checks. */
export async function cutOff(): Promise<string> {
  await sleep(20);
  const at = new Date().toISOString();
  await sleep(20);
  return at;
}

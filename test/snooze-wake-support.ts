import { expect } from 'vitest';
import { dataOf, type GqlResult } from './harness.js';
import { payload, subscribeOver, type LiveSubscription } from './live/helpers.js';
import { waitFor } from './support.js';

/**
 * What the snooze wake-up suites share: the GraphQL operations they run (against an in-process app
 * or a server process alike), and ways to wait on wake-ups through the public surface.
 */

/** Anything that runs GraphQL over HTTP: a TestApp, or live/helpers' httpClient for a server process. */
export interface Endpoint {
  gql<T = any>(token: string | null, query: string, variables?: Record<string, unknown>): Promise<GqlResult<T>>;
}

export interface Person {
  sub: string;
  token: string;
}

const SEND = 'mutation($u: [ID!]!, $t: String!, $e: DateTime) { addMessageFor(input: { userIds: $u, level: STORED_INFO, text: $t, expiresAt: $e }) { message { id } } }';
const SNOOZE = 'mutation($i: [ID!]!, $until: DateTime!) { snooze(input: { ids: $i, until: $until }) { count notFound messages { id snoozedUntil } } }';
const STATE = 'query($id: ID!) { message(id: $id) { id read seen archived snoozedUntil } counts { total unread unseen archived snoozed } }';

/** Every inbox event with the states a wake-up sets. */
export const WAKE_EVENTS = `subscription($after: String) {
  inboxEvents(after: $after) { signal cursor messageIds unreadCount unseenCount message { id read seen archived snoozedUntil } }
}`;

/** Sends one stored message to `users` (expiring at `expiresAt` if given); answers its id. */
export async function send(at: Endpoint, producer: Person, users: string[], text: string, expiresAt?: Date): Promise<string> {
  return dataOf(await at.gql(producer.token, SEND, { u: users, t: text, e: expiresAt?.toISOString() ?? null })).addMessageFor.message.id;
}

/** Snoozes `ids` of `user` until `until`, asserting that every one was found and snoozed. */
export async function snooze(at: Endpoint, user: Person, ids: string[], until: Date): Promise<void> {
  const r = dataOf(await at.gql(user.token, SNOOZE, { i: ids, until: until.toISOString() })).snooze;
  expect(r.notFound).toEqual([]);
  expect(r.count).toBe(ids.length);
}

export interface WakeState {
  message: { id: string; read: boolean; seen: boolean; archived: boolean; snoozedUntil: string | null } | null;
  counts: { total: number; unread: number; unseen: number; archived: number; snoozed: number };
}

export async function stateOf(at: Endpoint, user: Person, id: string): Promise<WakeState> {
  return dataOf(await at.gql(user.token, STATE, { id }));
}

/** Waits (bounded) until `ids` of `user` are no longer snoozed. */
export async function waitWoken(at: Endpoint, user: Person, ids: string[], timeoutMs = 20_000): Promise<void> {
  for (const id of ids) {
    await waitFor(async () => (await stateOf(at, user, id)).message?.snoozedUntil === null, { timeoutMs, everyMs: 100, what: `message ${id} woken` });
  }
}

/** The ids of the INBOX_STORED events among `events` (inboxEvents payloads), one entry per id per event. */
export function storedIds(events: { signal: string; messageIds: string[] }[], among: readonly string[]): string[] {
  return events.filter((e) => e.signal === 'INBOX_STORED').flatMap((e) => e.messageIds.filter((id) => among.includes(id)));
}

/** Like storedIds, counting an id's INBOX_STORED only after its INBOX_SNOOZED (its send fired one too). */
export function wokenIds(events: { signal: string; messageIds: string[] }[], among: readonly string[]): string[] {
  const snoozed = new Set<string>();
  const out: string[] = [];
  for (const e of events) {
    if (e.signal === 'INBOX_SNOOZED') for (const id of e.messageIds) snoozed.add(id);
    if (e.signal === 'INBOX_STORED') out.push(...e.messageIds.filter((id) => among.includes(id) && snoozed.has(id)));
  }
  return out;
}

/**
 * An inboxEvents subscription known to be live: it subscribes, then sends probe messages until one
 * arrives (a subscription without a cursor starts at "now", and a server process cannot be asked
 * when it started). Every later event of the user reaches it.
 */
export async function liveEvents(at: Endpoint & { baseUrl: string }, user: Person, producer: Person): Promise<LiveSubscription> {
  const sub = subscribeOver('sse', at.baseUrl, user.token, WAKE_EVENTS);
  for (let attempt = 0; ; attempt++) {
    const probe = await send(at, producer, [user.sub], `probe ${attempt}`);
    try {
      await waitFor(() => sub.results.items.some((r) => payload(r, 'inboxEvents').messageIds.includes(probe)), { timeoutMs: 1000, everyMs: 20 });
      return sub;
    } catch (err) {
      if (attempt >= 20) {
        sub.close();
        throw err;
      }
    }
  }
}

/** One inboxEvents payload of WAKE_EVENTS. */
export interface WakeEvent {
  signal: string;
  cursor: string;
  messageIds: string[];
  unreadCount: number;
  unseenCount: number;
  message: WakeState['message'];
}

/** The inboxEvents payloads a subscription has received so far. */
export const eventsOf = (sub: LiveSubscription) => sub.results.items.map((r) => payload<WakeEvent>(r, 'inboxEvents'));

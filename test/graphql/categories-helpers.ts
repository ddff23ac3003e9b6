import type { Caller } from '../factories.js';
import type { GqlResult, TestApp } from '../harness.js';
import { subscribeOver, payload, waitForSubscriber, type LiveSubscription } from '../live/helpers.js';

/**
 * Categories, preferences and grouping (CONTRACT.md §9) through GraphQL: sends with their new fields,
 * preferences, category counts, and the caller's events. Shared by the categories and grouping suites.
 */

/** What a message shows of §9 (and whether it is read). */
export const CATEGORY_FIELDS = 'id text read category groupKey groupCount';

export interface CatMsg {
  id: string;
  text: string;
  read: boolean;
  category: string | null;
  groupKey: string | null;
  groupCount: number;
}

export interface CatInput {
  text?: string;
  level?: string;
  category?: string | null;
  critical?: boolean | null;
  groupKey?: string | null;
  idempotencyKey?: string | null;
}

const SENDS = {
  addMessageFor: 'AddMessageForInput!',
  addMessage: 'AddMessageInput!',
  broadcastMessage: 'BroadcastMessageInput!',
} as const;
type Send = keyof typeof SENDS;

const sendDocument = (name: Send) =>
  `mutation($input: ${SENDS[name]}) { ${name}(input: $input) { ${name === 'addMessage' ? 'stored' : 'recipientCount'} message { ${CATEGORY_FIELDS} } } }`;

/** One send mutation's whole result (errors included); addMessageFor's `input.userIds` come from `to`. */
export function sendRaw(c: Caller, name: Send, input: CatInput & { to?: string[] } = {}): Promise<GqlResult> {
  const { to, ...rest } = input;
  return c.raw(sendDocument(name), { input: { level: 'STORED_INFO', text: 'hello', ...rest, ...(name === 'addMessageFor' ? { userIds: to } : {}) } });
}

/** addMessageFor to `to`; its payload. */
export async function sendFor(p: Caller, to: Caller[], input: CatInput = {}): Promise<{ recipientCount: number; message: CatMsg }> {
  return (await p.q(sendDocument('addMessageFor'), { input: { level: 'STORED_INFO', text: 'hello', ...input, userIds: to.map((u) => u.sub) } })).addMessageFor;
}

export async function addOwn(u: Caller, input: CatInput = {}): Promise<{ stored: boolean; message: CatMsg }> {
  return (await u.q(sendDocument('addMessage'), { input: { level: 'STORED_INFO', text: 'hello', ...input } })).addMessage;
}

export async function broadcastIn(p: Caller, input: CatInput = {}): Promise<{ recipientCount: number; message: CatMsg }> {
  return (await p.q(sendDocument('broadcastMessage'), { input: { level: 'STORED_INFO', text: 'hello', ...input } })).broadcastMessage;
}

const SET = 'mutation($input: SetPreferenceInput!) { setPreference(input: $input) { category enabled } }';
export const setPreference = async (u: Caller, category: string, enabled: boolean) => (await u.q(SET, { input: { category, enabled } })).setPreference;
export const setPreferenceRaw = (u: Caller, category: string, enabled: boolean) => u.raw(SET, { input: { category, enabled } });
export const preferencesOf = async (u: Caller): Promise<{ category: string; enabled: boolean }[]> => (await u.q('{ preferences { category enabled } }')).preferences;

/** `counts(category:)`. */
export const countsIn = async (u: Caller, category: string) =>
  (await u.q('query($c: String) { counts(category: $c) { total unread unseen archived snoozed } }', { c: category })).counts;

/** The caller's messages (archive), newest first, with their §9 fields. */
export async function messagesOf(u: Caller, filter: Record<string, unknown> = {}): Promise<CatMsg[]> {
  const d = await u.q(`query($f: MessageFilter) { messages(first: 100, filter: $f) { edges { node { ${CATEGORY_FIELDS} } } } }`, { f: filter });
  return d.messages.edges.map((e: { node: CatMsg }) => e.node);
}

/** `extensions.code` and `extensions.field` of a refused operation's first error (null when it was not refused). */
export const refusedWith = (r: GqlResult) => (r.errors?.length ? { code: r.errors[0].extensions?.code, field: r.errors[0].extensions?.field } : null);

export interface Event {
  signal: string;
  messageIds: string[];
  unreadCount: number;
  unseenCount: number;
  until: string | null;
  category: string | null;
  message: { id: string; groupCount: number; category: string | null } | null;
}

const EVENTS = `subscription { inboxEvents { signal messageIds unreadCount unseenCount until category message { id groupCount category } } }`;

/** A started inboxEvents subscription of `u` over `transport`. */
export async function eventsOf(t: TestApp, u: Caller, transport: 'ws' | 'sse' = 'sse', n = 1): Promise<LiveSubscription> {
  const sub = subscribeOver(transport, t.baseUrl, u.token, EVENTS);
  await waitForSubscriber(t.app, u.sub, n);
  return sub;
}

export const takeEvents = async (sub: LiveSubscription, n: number): Promise<Event[]> => (await sub.results.take(n)).map((r) => payload<Event>(r, 'inboxEvents'));

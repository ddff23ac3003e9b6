import { randomInt } from 'node:crypto';
import { dataOf, type GqlResult, type TestApp } from './harness.js';

/**
 * Helpers for the GraphQL behaviour suites: callers bound to a token, senders, readers.
 * Everything goes through the public GraphQL surface over real HTTP.
 */

/** Every field of Message, for selections. */
export const MESSAGE = 'id text level levelValue levelTag extraTags tags url data createdAt readAt read stored expiresAt';

export interface Msg {
  id: string;
  text: string;
  level: string;
  levelValue: number;
  levelTag: string;
  extraTags: string;
  tags: string;
  url: string | null;
  data: unknown;
  createdAt: string;
  readAt: string | null;
  read: boolean;
  stored: boolean;
  expiresAt: string | null;
}

/** Someone holding a token: `q` returns data and fails on any error; `raw` returns the whole result. */
export interface Caller {
  sub: string;
  token: string;
  q<T = any>(query: string, variables?: Record<string, unknown>): Promise<T>;
  raw(query: string, variables?: Record<string, unknown>): Promise<GqlResult>;
}

const bind = (t: TestApp, sub: string, token: string): Caller => ({
  sub,
  token,
  q: async (query, variables) => dataOf(await t.gql(token, query, variables)),
  raw: (query, variables) => t.gql(token, query, variables),
});

/** A fresh user with a unique id. Not known to the server until it calls the API or receives a message. */
export async function newUser(t: TestApp): Promise<Caller> {
  const { sub, token } = await t.userToken();
  return bind(t, sub, token);
}

/** A fresh user that has already called the API once (so broadcasts reach it). */
export async function knownUser(t: TestApp): Promise<Caller> {
  const u = await newUser(t);
  await u.q('{ unreadCount }');
  return u;
}

/** A fresh producer (scope messages:send). */
export async function newProducer(t: TestApp): Promise<Caller> {
  const { sub, token } = await t.producerToken();
  return bind(t, sub, token);
}

export interface SendInput {
  level?: string;
  text?: string;
  extraTags?: string | null;
  url?: string | null;
  data?: unknown;
  date?: string | null;
  expiresAt?: string | null;
  idempotencyKey?: string | null;
}

const ADD_FOR = `mutation($input: AddMessageForInput!) { addMessageFor(input: $input) { recipientCount message { ${MESSAGE} } } }`;
const ADD_OWN = `mutation($input: AddMessageInput!) { addMessage(input: $input) { stored message { ${MESSAGE} } } }`;
const BROADCAST = `mutation($input: BroadcastMessageInput!) { broadcastMessage(input: $input) { recipientCount message { ${MESSAGE} } } }`;

export const addForInput = (userIds: string | string[], input: SendInput = {}) => ({
  level: 'STORED_INFO',
  text: 'hello',
  ...input,
  userIds: Array.isArray(userIds) ? userIds : [userIds],
});

/** addMessageFor; returns the payload. */
export async function sendTo(p: Caller, userIds: string | string[], input: SendInput = {}): Promise<{ recipientCount: number; message: Msg }> {
  return (await p.q(ADD_FOR, { input: addForInput(userIds, input) })).addMessageFor;
}

export const sendToRaw = (p: Caller, userIds: string | string[], input: SendInput = {}) => p.raw(ADD_FOR, { input: addForInput(userIds, input) });

/**
 * `n` stored messages for one user, texts `${prefix} 0..n-1`, oldest first: one request each, in
 * order, since an operation may send one message at most (CONTRACT.md §11).
 */
export async function sendMany(p: Caller, userId: string, n: number, input: SendInput & { prefix?: string } = {}): Promise<Msg[]> {
  const { prefix = 'msg', ...rest } = input;
  const out: Msg[] = [];
  for (let i = 0; i < n; i++) out.push((await sendTo(p, userId, { ...rest, text: `${prefix} ${i}` })).message);
  return out;
}

/** addMessage for the caller; returns the payload. */
export async function addOwn(u: Caller, input: SendInput = {}): Promise<{ stored: boolean; message: Msg }> {
  return (await u.q(ADD_OWN, { input: { level: 'STORED_INFO', text: 'hello', ...input } })).addMessage;
}

export const addOwnRaw = (u: Caller, input: SendInput = {}) => u.raw(ADD_OWN, { input: { level: 'STORED_INFO', text: 'hello', ...input } });

export async function broadcast(p: Caller, input: SendInput = {}): Promise<{ recipientCount: number; message: Msg }> {
  return (await p.q(BROADCAST, { input: { level: 'STORED_INFO', text: 'broadcast', ...input } })).broadcastMessage;
}

export const broadcastRaw = (p: Caller, input: SendInput = {}) => p.raw(BROADCAST, { input: { level: 'STORED_INFO', text: 'broadcast', ...input } });

export interface Page {
  ids: string[];
  nodes: Msg[];
  cursors: string[];
  totalCount: number;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

const CONNECTION = `totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { ${MESSAGE} } }`;

const toPage = (c: any): Page => ({
  ids: c.edges.map((e: any) => e.node.id),
  nodes: c.edges.map((e: any) => e.node),
  cursors: c.edges.map((e: any) => e.cursor),
  totalCount: c.totalCount,
  pageInfo: c.pageInfo,
});

export type PageArgs = { first?: number; after?: string; last?: number; before?: string; filter?: Record<string, unknown> };

const ARCHIVE = `query($first: Int, $after: String, $last: Int, $before: String, $filter: MessageFilter) {
  messages(first: $first, after: $after, last: $last, before: $before, filter: $filter) { ${CONNECTION} } }`;
const INBOX = `query($first: Int, $after: String, $last: Int, $before: String) {
  unreadMessages(first: $first, after: $after, last: $last, before: $before) { ${CONNECTION} } }`;

/** The caller's archive (`messages`). */
export async function archive(u: Caller, args: PageArgs = {}): Promise<Page> {
  return toPage((await u.q(ARCHIVE, args)).messages);
}
export const archiveRaw = (u: Caller, args: PageArgs = {}) => u.raw(ARCHIVE, args);

/** The caller's inbox (`unreadMessages`). */
export async function inbox(u: Caller, args: Omit<PageArgs, 'filter'> = {}): Promise<Page> {
  return toPage((await u.q(INBOX, args)).unreadMessages);
}
export const inboxRaw = (u: Caller, args: Omit<PageArgs, 'filter'> = {}) => u.raw(INBOX, args);

export async function unreadCount(u: Caller): Promise<number> {
  return (await u.q('{ unreadCount }')).unreadCount;
}

/** unreadCount and both connections' totals in one request. */
export async function counts(u: Caller): Promise<{ unread: number; inboxTotal: number; archiveTotal: number }> {
  const d = await u.q('{ unreadCount unreadMessages { totalCount } messages { totalCount } }');
  return { unread: d.unreadCount, inboxTotal: d.unreadMessages.totalCount, archiveTotal: d.messages.totalCount };
}

export async function pending(u: Caller): Promise<Msg[]> {
  return (await u.q(`{ pendingMessages { ${MESSAGE} } }`)).pendingMessages;
}

const MARK = (name: 'markRead' | 'markUnread') =>
  `mutation($ids: [ID!]!) { ${name}(input: { ids: $ids }) { count notFound unreadCount messages { ${MESSAGE} } } }`;

export async function markRead(u: Caller, ids: string[]): Promise<{ count: number; notFound: string[]; unreadCount: number; messages: Msg[] }> {
  return (await u.q(MARK('markRead'), { ids })).markRead;
}
export const markReadRaw = (u: Caller, ids: string[]) => u.raw(MARK('markRead'), { ids });

export async function markUnread(u: Caller, ids: string[]): Promise<{ count: number; notFound: string[]; unreadCount: number; messages: Msg[] }> {
  return (await u.q(MARK('markUnread'), { ids })).markUnread;
}

export async function markAllRead(u: Caller, until?: string): Promise<{ count: number; unreadCount: number }> {
  const query = until === undefined
    ? 'mutation { markAllRead { count unreadCount } }'
    : 'mutation($until: DateTime) { markAllRead(input: { until: $until }) { count unreadCount } }';
  return (await u.q(query, until === undefined ? undefined : { until })).markAllRead;
}

const DELETE = 'mutation($ids: [ID!]!) { deleteMessages(input: { ids: $ids }) { count notFound unreadCount } }';
export async function deleteMessages(u: Caller, ids: string[]): Promise<{ count: number; notFound: string[]; unreadCount: number }> {
  return (await u.q(DELETE, { ids })).deleteMessages;
}
export const deleteMessagesRaw = (u: Caller, ids: string[]) => u.raw(DELETE, { ids });

export async function consume(u: Caller): Promise<{ messages: Msg[]; unreadCount: number }> {
  return (await u.q(`mutation { consumeMessages { unreadCount messages { ${MESSAGE} } } }`)).consumeMessages;
}

export async function messageById(u: Caller, id: string): Promise<Msg | null> {
  return (await u.q(`query($id: ID!) { message(id: $id) { ${MESSAGE} } }`, { id })).message;
}

/** The storage id inside a stored message's global id (what in-process signals carry). */
export function storageId(globalId: string): string {
  const raw = Buffer.from(globalId, 'base64url').toString('utf8');
  const m = /^Message:(\d+)$/.exec(raw);
  if (!m) throw new Error(`not a stored message id: ${globalId} (${raw})`);
  return m[1];
}

/** A well-formed stored-message id that no message has. */
export const unknownId = () => Buffer.from(`Message:${randomInt(10 ** 11, 10 ** 12)}`, 'utf8').toString('base64url');

export const isoDaysAgo = (days: number, from = Date.now()) => new Date(from - days * 86_400_000).toISOString();
export const isoIn = (ms: number) => new Date(Date.now() + ms).toISOString();

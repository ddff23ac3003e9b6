import { signToken, SEND_SCOPE } from '../../src/auth.js';
import { encodeMessageId } from '../../src/graphql/ids.js';
import { BENCH_SECRET } from './services.js';

/** `Bearer <jwt>` for a user (or, with `producer`, a caller holding messages:send). */
export async function bearer(sub: string, o: { producer?: boolean } = {}): Promise<string> {
  return `Bearer ${await signToken(BENCH_SECRET, { sub, expiresIn: '3h', ...(o.producer ? { scope: SEND_SCOPE } : {}) })}`;
}

export const globalId = (storageId: string) => encodeMessageId(storageId, true);

export const body = (query: string, variables?: Record<string, unknown>) => JSON.stringify(variables ? { query, variables } : { query });

/** One GraphQL operation over HTTP; throws on a non-200 status or any GraphQL error. */
export async function gql<T = any>(url: string, auth: string, query: string, variables?: Record<string, unknown>): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', authorization: auth },
    body: body(query, variables),
    signal: AbortSignal.timeout(120_000),
  });
  const text = await res.text();
  let json: { data?: T; errors?: unknown[] };
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    throw new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`);
  }
  if (json.errors?.length || !json.data) throw new Error(`GraphQL errors (HTTP ${res.status}): ${JSON.stringify(json.errors).slice(0, 300)}`);
  return json.data;
}

/** The fields a client list view asks for. */
export const MESSAGE_FIELDS = 'id text level levelTag extraTags tags url createdAt readAt read expiresAt';

export const Q = {
  typename: '{ __typename }',
  addMessageFor: 'mutation Send($input: AddMessageForInput!) { addMessageFor(input: $input) { recipientCount message { id createdAt } } }',
  broadcast: 'mutation Broadcast($input: BroadcastMessageInput!) { broadcastMessage(input: $input) { recipientCount message { id createdAt } } }',
  firstPage: `query Inbox { unreadMessages(first: 20) { totalCount edges { cursor node { ${MESSAGE_FIELDS} } } pageInfo { hasNextPage endCursor } } }`,
  page: `query Page($after: String) { unreadMessages(first: 100, after: $after) { totalCount edges { cursor node { ${MESSAGE_FIELDS} } } pageInfo { hasNextPage endCursor } } }`,
  markAllRead: 'mutation ReadAll { markAllRead { count unreadCount } }',
  markRead: 'mutation Read($input: MarkReadInput!) { markRead(input: $input) { count unreadCount } }',
  unreadCount: '{ unreadCount }',
  markAllSeen: 'mutation SeeAll { markAllSeen { count unseenCount } }',
  archiveAll: 'mutation ArchiveAll { archiveAll { count counts { total unread unseen archived snoozed } } }',
  markAllSeenIn: (category: string) => `mutation SeeAll { markAllSeen(input: { category: "${category}" }) { count unseenCount } }`,
  archiveAllIn: (category: string) => `mutation ArchiveAll { archiveAll(input: { category: "${category}" }) { count counts { total unread unseen archived snoozed } } }`,
  counts: '{ counts { total unread unseen archived snoozed } }',
  unseenCount: '{ unseenCount }',
  snooze: 'mutation Snooze($input: SnoozeInput!) { snooze(input: $input) { count notFound } }',
};

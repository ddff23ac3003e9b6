import { ApolloClient, ApolloLink, gql, HttpLink, InMemoryCache, type TypedDocumentNode } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws'; // Node only: browsers have WebSocket built in (drop this and webSocketImpl)

/** `url`: https://notifications.example.com/graphql. `getAccessToken`: the signed-in user's current token. */
export function createNotificationsClient(url: string, getAccessToken: () => Promise<string>) {
  const ws = createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    // Called on every (re)connection: always send a fresh token.
    connectionParams: async () => ({ authorization: `Bearer ${await getAccessToken()}` }),
  });
  const httpLink = new HttpLink({
    uri: url,
    fetch: async (input, init) => {
      const headers = new Headers(init?.headers);
      headers.set('authorization', `Bearer ${await getAccessToken()}`);
      return fetch(input, { ...init, headers });
    },
  });
  const client = new ApolloClient({
    cache: new InMemoryCache(),
    link: ApolloLink.split(
      ({ query }) => {
        const def = getMainDefinition(query);
        return def.kind === 'OperationDefinition' && def.operation === 'subscription';
      },
      new GraphQLWsLink(ws),
      httpLink,
    ),
  });
  return { client, close: () => ws.dispose() };
}

export interface InboxEvent {
  signal:
    | 'ARCHIVE_STORED' | 'INBOX_STORED' | 'INBOX_DELETED' | 'INBOX_PURGED' | 'ARCHIVE_DELETED'
    | 'INBOX_SEEN' | 'INBOX_ARCHIVED' | 'INBOX_UNARCHIVED' | 'INBOX_SNOOZED' | 'RESYNC';
  message: { id: string; text: string; level: string; read: boolean } | null;
  messageIds: string[];
  unreadCount: number; // the bold items
  unseenCount: number; // the badge
  cursor: string;
}

export const INBOX_EVENTS: TypedDocumentNode<{ inboxEvents: InboxEvent }, { after: string | null }> = gql`
  subscription InboxEvents($after: String) {
    inboxEvents(after: $after) { signal message { id text level read } messageIds unreadCount unseenCount cursor }
  }
`;

export const UNREAD_COUNT: TypedDocumentNode<{ unreadCount: number }, Record<string, never>> = gql`
  query UnreadCount { unreadCount }
`;

export interface InboxCounts { total: number; unread: number; unseen: number; archived: number; snoozed: number }

/** The badge (unseen) and the tabs' sizes. */
export const COUNTS: TypedDocumentNode<{ counts: InboxCounts }, Record<string, never>> = gql`
  query Counts { counts { total unread unseen archived snoozed } }
`;

/** The dropdown was opened at `until`: what it showed is seen, what arrived since stays on the badge. */
export const MARK_ALL_SEEN: TypedDocumentNode<{ markAllSeen: { count: number; unseenCount: number } }, { until: string }> = gql`
  mutation MarkAllSeen($until: DateTime!) { markAllSeen(input: { until: $until }) { count unseenCount } }
`;

export const ARCHIVE: TypedDocumentNode<{ archive: { count: number; counts: InboxCounts } }, { ids: string[] }> = gql`
  mutation Archive($ids: [ID!]!) { archive(input: { ids: $ids }) { count counts { total unread unseen archived snoozed } } }
`;

/** Back unread and unseen at `until` (an ISO date at most 365 days ahead). */
export const SNOOZE: TypedDocumentNode<{ snooze: { count: number; counts: InboxCounts } }, { ids: string[]; until: string }> = gql`
  mutation Snooze($ids: [ID!]!, $until: DateTime!) { snooze(input: { ids: $ids, until: $until }) { count counts { total unread unseen archived snoozed } } }
`;

import { cacheExchange, Client, fetchExchange, gql, subscriptionExchange, type TypedDocumentNode } from '@urql/core'; // React: from 'urql'
import { createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws'; // Node only: browsers have WebSocket built in (drop this and webSocketImpl)

/** `url`: https://notifications.example.com/graphql. `getAccessToken`: the signed-in user's current token. */
export function createNotificationsClient(url: string, getAccessToken: () => Promise<string>) {
  const ws = createWsClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: async () => ({ authorization: `Bearer ${await getAccessToken()}` }),
  });
  const client = new Client({
    url,
    fetch: async (input, init) => {
      const headers = new Headers(init?.headers);
      headers.set('authorization', `Bearer ${await getAccessToken()}`);
      return fetch(input, { ...init, headers });
    },
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink) }),
        }),
      }),
    ],
  });
  return { client, close: () => ws.dispose() };
}

export const INBOX_EVENTS: TypedDocumentNode<
  { inboxEvents: { signal: string; message: { id: string; text: string } | null; messageIds: string[]; unreadCount: number; cursor: string } },
  { after: string | null }
> = gql`
  subscription InboxEvents($after: String) {
    inboxEvents(after: $after) { signal message { id text } messageIds unreadCount cursor }
  }
`;

export const UNREAD_COUNT: TypedDocumentNode<{ unreadCount: number }, Record<string, never>> = gql`
  query UnreadCount { unreadCount }
`;

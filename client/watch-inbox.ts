import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import { InboxEventsDocument, type InboxEventsSubscription } from './generated.js';

/** One event of the `inboxEvents` subscription, as client/operations.graphql selects it. */
export type InboxEvent = InboxEventsSubscription['inboxEvents'];

/** The server closes a socket whose token expired with this code (the contract's section 2). */
export const CLOSE_TOKEN_EXPIRED = 4401;
/** The server closes a socket whose `connection_init` carried no valid token with this code. */
export const CLOSE_TOKEN_INVALID = 4403;

/** Where the events come from: a URL (the helper opens and owns its own graphql-ws client) or your client. */
export type InboxSource =
  | {
      /** The GraphQL endpoint, `https://host/graphql` or `wss://host/graphql`. */
      url: string;
      /** The signed-in user's raw JWT (no `Bearer `); called on every connect and reconnect. */
      getToken: () => string | Promise<string>;
      /** A WebSocket class where there is no global one (Node before 22: the `ws` package). */
      webSocketImpl?: unknown;
    }
  | {
      /** A graphql-ws client whose `connectionParams` is a function returning a fresh token. */
      client: Client;
    };

export type WatchInboxOptions = InboxSource & {
  /** Resume after this cursor (the `cursor` of the last event handled, e.g. kept in localStorage). Default: from now. */
  after?: string | null;
  /** Every event but RESYNC, in order, once each. */
  onEvent: (event: InboxEvent) => void;
  /**
   * The events after the last cursor are no longer kept: reload what you show (its `unreadCount` is current).
   * Default: the RESYNC event goes to `onEvent`.
   */
  onResync?: (event: InboxEvent) => void;
  /**
   * The watch has ended for good: a refused token (4403), `getToken` failing, GraphQL errors (e.g. a
   * malformed cursor; not a RATE_LIMITED one with retryAfterSeconds, which is waited out), or, with your own client, its retries ran out. Call `watchInbox` again with the last cursor to start anew.
   */
  onError?: (error: unknown) => void;
};

/**
 * Subscribes to `inboxEvents` and keeps it going: a dropped connection resumes after the last event
 * (no event lost or repeated), a token that expires (close 4401) is replaced through `getToken`, and a
 * RESYNC goes to `onResync`. With `url`, reconnects are retried without end (backoff up to 30 s). A
 * subscription refused as RATE_LIMITED is tried again after its `retryAfterSeconds`.
 * Returns a function that stops the watch (and closes the helper's own client).
 */
export function watchInbox(options: WatchInboxOptions): () => void {
  const ownClient = 'url' in options;
  const client = ownClient ? createInboxClient(options) : options.client;
  // graphql-ws sends this same payload again when it reconnects: keeping the cursor in it makes every
  // resubscription resume after the last event handled.
  const variables: { after: string | null } = { after: options.after ?? null };
  const payload = { query: String(InboxEventsDocument), variables };
  let unsubscribe = () => {};
  let stopped = false;
  let endings = 0;

  const stop = () => {
    if (stopped) return;
    stopped = true;
    unsubscribe();
    if (ownClient) void client.dispose();
  };
  const fail = (error: unknown) => {
    if (stopped) return;
    stop();
    options.onError?.(error);
  };
  /** A RATE_LIMITED refusal that names when to come back is waited out; any other error ends the watch. */
  const failOrWait = (error: unknown) => {
    const seconds = retryAfterSeconds(error);
    if (seconds === undefined || stopped) return fail(error);
    unsubscribe();
    setTimeout(() => stopped || subscribe(), seconds * 1000 + Math.random() * 250);
  };
  const handle = (result: FormattedExecutionResult<InboxEventsSubscription>) => {
    const event = result.data?.inboxEvents;
    if (!event) return failOrWait(result.errors ?? new Error('inboxEvents sent a result without data'));
    variables.after = event.cursor;
    endings = 0;
    if (event.signal === 'RESYNC' && options.onResync) options.onResync(event);
    else options.onEvent(event);
  };
  const subscribe = () => {
    unsubscribe = client.subscribe<InboxEventsSubscription>(payload, {
      next: handle,
      // graphql-ws treats 4401 as final; a new subscription reconnects, and connectionParams fetches a fresh token.
      error: (error) => (closeCode(error) === CLOSE_TOKEN_EXPIRED && !stopped ? subscribe() : failOrWait(error)),
      // A server shutting down ends its subscriptions before closing the sockets: come back once it is up again.
      complete: () => {
        if (!stopped) setTimeout(() => stopped || subscribe(), backoff(endings++));
      },
    });
  };
  subscribe();
  return stop;
}

/**
 * The graphql-ws client watchInbox opens for a `url`: a fresh token from `getToken` on every connect,
 * reconnects without end (backoff up to 30 s) except after a refused token (4403). Pass it back as
 * `{ client }` to run other subscriptions (messageAdded) on the same connection.
 */
export function createInboxClient({ url, getToken, webSocketImpl }: Extract<InboxSource, { url: string }>): Client {
  return createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl,
    connectionParams: async () => ({ authorization: `Bearer ${await getToken()}` }),
    retryAttempts: Infinity,
    retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, backoff(retries))),
    // A refused token would be refused again: let the app decide (sign in anew) instead of retrying.
    shouldRetry: (error) => closeCode(error) !== CLOSE_TOKEN_INVALID,
  });
}

/** Milliseconds before reconnect attempt `retries` (0-based): doubling from about 1 s, at most 30 s, with jitter. */
function backoff(retries: number): number {
  const ceiling = Math.min(30_000, 1000 * 2 ** retries);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/** `extensions.retryAfterSeconds` of a RATE_LIMITED refusal (a rate budget; a connection ceiling names none). */
function retryAfterSeconds(error: unknown): number | undefined {
  if (!Array.isArray(error)) return undefined;
  for (const e of error as { extensions?: { code?: unknown; retryAfterSeconds?: unknown } }[]) {
    const seconds = e?.extensions?.retryAfterSeconds;
    if (e?.extensions?.code === 'RATE_LIMITED' && typeof seconds === 'number' && seconds > 0) return seconds;
  }
  return undefined;
}

function closeCode(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'number' ? error.code : undefined;
}

import type { Client } from 'graphql-ws';
import { createInboxClient, MessageAddedDocument, watchInbox, type InboxEvent, type MessageAddedSubscription } from '../client/index.js';
import type { Item } from './model.js';
import { createSseClient } from './sse.js';

/** What the live connection tells every tab: an event, a reload (RESYNC, or a gap), a flash message, whether it is connected. */
export type LiveNews =
  | { kind: 'event'; event: InboxEvent }
  | { kind: 'resync'; cursor: string }
  | { kind: 'flash'; message: Item }
  | { kind: 'live'; live: boolean };

export interface LiveOptions {
  url: string;
  getToken: () => Promise<string>;
  /** `auto`: WebSocket, and SSE once WebSockets fail to connect three times in a row. */
  transport: 'auto' | 'ws' | 'sse';
  /** The user's position now (Query.inboxCursor): the first connection resumes after it, so nothing falls between it and the load that follows. */
  startCursor: () => Promise<string>;
  onNews: (news: LiveNews) => void;
  /** The watch ended for good (a refused token, getToken failing). */
  onError: (error: unknown) => void;
}

const WS_FAILURES_BEFORE_SSE = 3;

/**
 * One live connection for all the tabs of a browser showing the same user on the same server: the tab
 * holding the Web Lock is the leader, the only one connected, and passes what it hears to the other
 * tabs over a BroadcastChannel. When it closes, another tab takes the lock and resumes after the
 * last cursor it heard, so no event falls between two leaders. Returns a function that stops.
 */
export function startLive(o: LiveOptions): () => void {
  const abort = new AbortController();
  let cursor: string | null = null;
  const hear = (news: LiveNews) => {
    cursor = cursorOf(news) ?? cursor;
    o.onNews(news);
  };
  const run = async () => {
    const key = `stored-messages-inbox ${new URL(o.url, location.href).href} ${subjectOf(await o.getToken())}`;
    if (abort.signal.aborted) return;
    const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(key) : null;
    if (channel) channel.onmessage = (e: MessageEvent<LiveNews>) => hear(e.data);
    abort.signal.addEventListener('abort', () => channel?.close());
    const lead = async (wasFollower: boolean) => {
      // A follower that never heard a cursor cannot resume: it reloads what it shows instead.
      const reload = wasFollower && cursor === null;
      cursor ??= await o.startCursor();
      if (abort.signal.aborted) return;
      const stop = connect(o, cursor, (news) => {
        hear(news);
        channel?.postMessage(news);
      });
      if (reload) hear({ kind: 'resync', cursor });
      await new Promise((resolve) => abort.signal.addEventListener('abort', resolve));
      stop();
    };
    const locks = navigator.locks;
    if (!locks) return lead(false);
    let follower = false;
    await locks.request(key, { ifAvailable: true }, (lock) => (lock ? lead(false) : void (follower = true)));
    if (!follower) return;
    // The leader is connected (it holds the lock); its news say when that changes.
    o.onNews({ kind: 'live', live: true });
    await locks.request(key, { signal: abort.signal }, () => lead(true));
  };
  run().catch((error) => abort.signal.aborted || o.onError(error));
  return () => abort.abort();
}

/** Where news leaves the user's events (an event's cursor, a RESYNC's); null for news that moves nothing. */
function cursorOf(news: LiveNews): string | null {
  if (news.kind === 'event') return news.event.cursor;
  return news.kind === 'resync' ? news.cursor : null;
}

/** Connects this tab: inboxEvents through watchInbox, and messageAdded's flash messages, on one connection. */
function connect(o: LiveOptions, after: string, emit: (news: LiveNews) => void): () => void {
  let stopped = false;
  let stop = () => {};
  // Where a switch to SSE resumes.
  let lastCursor = after;
  const send = (news: LiveNews) => {
    lastCursor = cursorOf(news) ?? lastCursor;
    emit(news);
  };
  const start = (client: Client, from: string) => {
    const stopWatch = watchInbox({
      client,
      after: from,
      onEvent: (event) => send({ kind: 'event', event }),
      onResync: (event) => send({ kind: 'resync', cursor: event.cursor }),
      onError: (error) => stopped || o.onError(error),
    });
    const stopFlash = subscribeFlash(client, (message) => send({ kind: 'flash', message }));
    stop = () => {
      stopWatch();
      stopFlash();
      client.dispose();
    };
  };
  const startSse = (from: string) => start(createSseClient(o.url, o.getToken, (live) => send({ kind: 'live', live })), from);
  if (o.transport === 'sse' || typeof WebSocket !== 'function') {
    startSse(after);
  } else {
    const ws = createInboxClient({ url: o.url, getToken: o.getToken });
    let failures = 0;
    let connected = false;
    ws.on('connected', () => {
      send({ kind: 'live', live: true });
      connected = true;
    });
    ws.on('closed', () => {
      if (connected && !stopped) send({ kind: 'live', live: false });
      if (connected || o.transport !== 'auto' || ++failures < WS_FAILURES_BEFORE_SSE || stopped) return;
      stop();
      startSse(lastCursor);
    });
    start(ws, after);
  }
  return () => {
    stopped = true;
    stop();
  };
}

/** Flash messages reach only messageAdded; it is started again after a token expiry or a server's end. */
function subscribeFlash(client: Client, onFlash: (message: Item) => void): () => void {
  let unsubscribe = () => {};
  let stopped = false;
  const subscribe = () => {
    unsubscribe = client.subscribe<MessageAddedSubscription>(
      { query: String(MessageAddedDocument) },
      {
        next: (result) => {
          const message = result.data?.messageAdded;
          if (message && !message.stored) onFlash(message);
        },
        error: () => stopped || setTimeout(subscribe, 1000),
        complete: () => stopped || setTimeout(subscribe, 1000),
      },
    );
  };
  subscribe();
  return () => {
    stopped = true;
    unsubscribe();
  };
}

/** The token's `sub`, to keep one user's tabs apart from another's; the token is not verified here. */
function subjectOf(token: string): string {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return String((JSON.parse(atob(payload)) as { sub?: unknown }).sub ?? '');
  } catch {
    return '';
  }
}

import WebSocket from 'ws';
import { watchInbox, type InboxEvent, type WatchInboxOptions } from '../../client/index.js';
import { Arrivals } from '../live/helpers.js';
import { startTcpProxy } from '../tcp-proxy.js';

/**
 * A TCP path to a server that the test can cut: `cut()` drops every open connection (the server sees
 * its sockets close, the client sees an abnormal closure) and refuses new ones until `restore()`.
 */
export interface CuttablePath {
  /** http://127.0.0.1:PORT of the path's near end. */
  baseUrl: string;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function cuttablePath(target: string): Promise<CuttablePath> {
  const proxy = await startTcpProxy(target, 80);
  return { baseUrl: `http://127.0.0.1:${proxy.port}`, cut: () => proxy.cut(), restore: () => proxy.restore(), close: () => proxy.close() };
}

export interface Watch {
  events: Arrivals<InboxEvent>;
  resyncs: Arrivals<InboxEvent>;
  errors: unknown[];
  /** Every token getToken handed out, in order. */
  tokens: string[];
  stop(): void;
}

/**
 * watchInbox on `baseUrl` with the `ws` package, collecting what it reports. `tokens()` gives the
 * token for each connect (the n-th call, from 0).
 */
export function watch(baseUrl: string, tokens: (n: number) => Promise<string>, options: Partial<Pick<WatchInboxOptions, 'after'>> = {}): Watch {
  const w = { events: new Arrivals<InboxEvent>(), resyncs: new Arrivals<InboxEvent>(), errors: [] as unknown[], tokens: [] as string[] };
  const stop = watchInbox({
    url: `${baseUrl}/graphql`,
    webSocketImpl: WebSocket,
    getToken: async () => {
      const token = await tokens(w.tokens.length);
      w.tokens.push(token);
      return token;
    },
    onEvent: (event) => w.events.push(event),
    onResync: (event) => w.resyncs.push(event),
    onError: (error) => w.errors.push(error),
    ...options,
  });
  return { ...w, stop };
}

/** What the test checks of a run of events: signal and the message's text (or the ids' count). */
export const summary = (events: InboxEvent[]) => events.map((e) => `${e.signal} ${e.message?.text ?? e.messageIds.length}`);

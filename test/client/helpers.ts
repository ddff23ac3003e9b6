import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { watchInbox, type InboxEvent, type WatchInboxOptions } from '../../client/index.js';
import { Arrivals } from '../live/helpers.js';

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
  const { hostname, port } = new URL(target);
  const open = new Set<Socket>();
  let cut = false;
  const server: Server = createServer((inbound) => {
    if (cut) return void inbound.destroy();
    const outbound = connect(Number(port), hostname);
    for (const [a, b] of [[inbound, outbound], [outbound, inbound]] as const) {
      a.pipe(b);
      a.on('error', () => b.destroy());
      a.on('close', () => b.destroy());
      open.add(a);
      a.on('close', () => open.delete(a));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut() {
      cut = true;
      for (const socket of open) socket.destroy();
    },
    restore() {
      cut = false;
    },
    async close() {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
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

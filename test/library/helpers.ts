import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppError, createStoredMessages, type StoredMessages, type StoredMessagesOptions } from '../../src/library.js';
import { TEST_SECRET } from '../env.js';
import { createTestDatabase } from '../harness.js';
import { httpClient, MESSAGE_ADDED, subscribeOver, type LiveSubscription } from '../live/helpers.js';

export interface Host {
  stored: StoredMessages;
  /** The host application's own server: the library's handler on it, and its WebSocket attached. */
  server: Server;
  baseUrl: string;
  detachWebSocket: () => Promise<void>;
  databaseUrl: string;
  close(): Promise<void>;
}

/** A host application (plain node:http) embedding the library on a fresh PostgreSQL database. */
export async function startHost(options: StoredMessagesOptions = {}, route?: (server: Server) => void): Promise<Host> {
  const db = await createTestDatabase();
  let stored: StoredMessages;
  try {
    stored = await createStoredMessages({ databaseUrl: db.url, authJwtSecret: TEST_SECRET, logLevel: 'silent', ...options });
  } catch (err) {
    await db.drop();
    throw err;
  }
  const server = createServer((req, res) => void stored.handler(req, res));
  route?.(server);
  const detachWebSocket = stored.attachWebSocket(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    stored,
    server,
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    detachWebSocket,
    databaseUrl: db.url,
    async close() {
      await stored.close();
      await new Promise((resolve) => server.close(resolve));
      await db.drop();
    },
  };
}

/**
 * A messageAdded subscription over `transport` that is known to be live: flash probes (addMessage at
 * INFO, sent over HTTP by the same user) go out until one arrives, so nothing sent after it is missed.
 */
export async function liveSubscription(baseUrl: string, token: string, transport: 'ws' | 'sse' = 'ws'): Promise<LiveSubscription> {
  const sub = subscribeOver(transport, baseUrl, token, MESSAGE_ADDED);
  const deadline = Date.now() + 20_000;
  while (!sub.results.untaken.some((r) => r.data?.messageAdded?.text === 'probe')) {
    if (sub.results.completed || Date.now() > deadline) throw new Error(`the subscription did not start: ${JSON.stringify(sub.results.items)}`);
    await httpClient(baseUrl).gql(token, 'mutation { addMessage(input: { level: INFO, text: "probe" }) { stored } }');
    await new Promise((r) => setTimeout(r, 200));
  }
  // Probes still in flight may arrive later: the test takes only what it looks for.
  await sub.results.take(sub.results.untaken.length);
  return sub;
}

/** The next result whose message has this text (probes and other messages skipped). */
export async function nextWithText(sub: LiveSubscription, text: string): Promise<any> {
  for (;;) {
    const [result] = await sub.results.take(1);
    if (result.data?.messageAdded?.text === text) return result.data.messageAdded;
  }
}

/** Message's inbox-state fields (CONTRACT.md §8), which the library's Message has too. */
export const STATES = 'seen seenAt archived archivedAt snoozedUntil category groupKey groupCount';

/** What a refused call rejected with: its code and field, as the GraphQL error's extensions would carry them; null when it did not reject. */
export const refusal = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (err: unknown) => (err instanceof AppError ? { code: err.code, field: err.field } : err),
  );

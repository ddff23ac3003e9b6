import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../src/auth.js';
import { attachWebSocket, type WebSocketEndpoint } from '../../src/graphql/websocket.js';
import { TEST_SECRET } from '../env.js';
import { dataOf, startTestApp, type TestApp } from '../harness.js';
import { MESSAGE_ADDED, payload, rawSocket, sseSubscribe, waitForNoSubscriber, waitForSubscriber, wsClient, wsSubscribe } from './helpers.js';
import { sleep } from '../support.js';

/**
 * Connection hygiene: the connection_init deadline, WS_MAX_SUBSCRIPTIONS per socket and
 * MAX_LIVE_CONNECTIONS_PER_USER (WebSockets and SSE streams together, per process). These limits
 * do not depend on the storage backend or on Redis: one backend, in-process live delivery.
 */
const SEND_FOR = 'mutation($u: [ID!]!, $t: String!) { addMessageFor(input: { userIds: $u, level: STORED_INFO, text: $t }) { message { id } } }';

const errorsOf = (e: unknown) => e as { message: string; extensions: Record<string, unknown> }[];

/** The app's Yoga behind a WebSocket endpoint of its own, attached with `options`. */
async function ownEndpoint(t: TestApp, options: { connectionInitWaitTimeoutMs: number }) {
  const server: Server = createServer(t.app.yoga);
  const authenticate = createAuthenticator({ jwtSecret: TEST_SECRET, jwksUrl: null, issuer: null, audience: null });
  const endpoint: WebSocketEndpoint = attachWebSocket({ server, yoga: t.app.yoga, authenticate, logger: t.app.logger, ...options });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      await endpoint.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('connection hygiene', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('postgres', { WS_MAX_SUBSCRIPTIONS: '2', MAX_LIVE_CONNECTIONS_PER_USER: '2' });
  });
  afterAll(async () => t?.close());

  it('closes a WebSocket that sends no connection_init in time with 4408', async () => {
    const own = await ownEndpoint(t, { connectionInitWaitTimeoutMs: 200 });
    try {
      const ws = rawSocket(own.baseUrl);
      await ws.opened;
      expect((await ws.closed).code).toBe(4408);
    } finally {
      await own.close();
    }
  });

  it('waits for connection_init as long as connectionInitWaitTimeoutMs says (longer than graphql-ws’ 3 s)', async () => {
    const own = await ownEndpoint(t, { connectionInitWaitTimeoutMs: 10_000 });
    try {
      const user = await t.userToken();
      const ws = rawSocket(own.baseUrl);
      await ws.opened;
      await sleep(4000);
      await ws.init(user.token);
      expect(ws.messages).toEqual([{ type: 'connection_ack' }]);
      ws.socket.close();
    } finally {
      await own.close();
    }
  });

  it('refuses a subscribe past WS_MAX_SUBSCRIPTIONS with RATE_LIMITED and keeps the socket open', async () => {
    const user = await t.userToken();
    const producer = await t.producerToken();
    const client = wsClient(t.baseUrl, user.token);
    try {
      const first = wsSubscribe(client, MESSAGE_ADDED);
      const second = wsSubscribe(client, MESSAGE_ADDED);
      await waitForSubscriber(t.app, user.sub, 2);
      const third = wsSubscribe(client, MESSAGE_ADDED);
      await third.results.ended();
      expect(errorsOf(third.results.error)[0].extensions).toEqual({ code: 'RATE_LIMITED', limit: 'WS_MAX_SUBSCRIPTIONS' });

      dataOf(await t.gql(producer.token, SEND_FOR, { u: [user.sub], t: 'both' }));
      expect(payload(await first.results.next(), 'messageAdded').text).toBe('both');
      expect(payload(await second.results.next(), 'messageAdded').text).toBe('both');
      // Room again once one ends, on the same socket.
      second.close();
      const again = wsSubscribe(client, '{ unreadCount }');
      expect(payload(await again.results.next(), 'unreadCount')).toBe(1);
      expect(client.closes).toEqual([]);
    } finally {
      await client.dispose();
    }
  });

  it('closes a WebSocket past MAX_LIVE_CONNECTIONS_PER_USER with 4429 at connection_init, other users unaffected', async () => {
    const user = await t.userToken();
    const other = await t.userToken();
    const open = [rawSocket(t.baseUrl), rawSocket(t.baseUrl)];
    try {
      for (const ws of open) {
        await ws.opened;
        await ws.init(user.token);
      }
      const third = rawSocket(t.baseUrl);
      await third.opened;
      third.send({ type: 'connection_init', payload: { authorization: `Bearer ${user.token}` } });
      expect(await third.closed).toEqual({ code: 4429, reason: 'Too many live connections' });
      expect(third.messages).toEqual([]);

      const elsewhere = rawSocket(t.baseUrl);
      await elsewhere.opened;
      await elsewhere.init(other.token);
      elsewhere.socket.close();

      // A closed socket gives its place back.
      open.shift()!.socket.close();
      let admitted = false;
      for (let i = 0; i < 100 && !admitted; i++) {
        const next = rawSocket(t.baseUrl);
        await next.opened;
        next.send({ type: 'connection_init', payload: { authorization: `Bearer ${user.token}` } });
        const outcome = await Promise.race([next.closed.then(() => 'closed'), new Promise((r) => next.socket.on('message', () => r('acked')))]);
        admitted = outcome === 'acked';
        if (admitted) open.push(next);
        else await sleep(50);
      }
      expect(admitted).toBe(true);
    } finally {
      for (const ws of open) ws.socket.close();
    }
  });

  it('counts SSE streams with WebSockets: one past the ceiling is refused with 429 RATE_LIMITED', async () => {
    const user = await t.userToken();
    const ws = rawSocket(t.baseUrl);
    const sse = sseSubscribe(t.baseUrl, user.token, MESSAGE_ADDED);
    try {
      await ws.opened;
      await ws.init(user.token);
      await waitForSubscriber(t.app, user.sub);
      const refused = await fetch(`${t.baseUrl}/graphql`, {
        method: 'POST',
        headers: { accept: 'text/event-stream', 'content-type': 'application/json', authorization: `Bearer ${user.token}` },
        body: JSON.stringify({ query: MESSAGE_ADDED }),
      });
      expect(refused.status).toBe(429);
      const result = JSON.parse(/^data: (.*)$/m.exec(await refused.text())![1]);
      expect(result.errors[0].extensions).toEqual({ code: 'RATE_LIMITED', limit: 'MAX_LIVE_CONNECTIONS_PER_USER' });

      // The stream that ends gives its place back, to a WebSocket as well.
      sse.close();
      await waitForNoSubscriber(t.app, user.sub);
      const next = rawSocket(t.baseUrl);
      await next.opened;
      await next.init(user.token);
      next.socket.close();
    } finally {
      sse.close();
      ws.socket.close();
    }
  });
});

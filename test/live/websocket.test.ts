import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataOf, errorCode, startTestApp, type TestApp } from '../harness.js';
import { expiredToken, userToken } from '../support.js';
import { dropRedisPrefix, INBOX_EVENTS, liveEnv, MESSAGE_ADDED, payload, PUBSUB_MODES, rawSocket, sseSubscribe, subscribeOver, waitForSubscriber, wsClient, wsSubscribe } from './helpers.js';

const SEND_FOR = 'mutation($u: [ID!]!, $t: String!, $d: JSON) { addMessageFor(input: { userIds: $u, level: STORED_INFO, text: $t, data: $d }) { message { id } } }';

describe('WebSocket authentication', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('postgres');
  });
  afterAll(async () => t?.close());

  const bearer = (token: Promise<string>) => async () => ({ authorization: `Bearer ${await token}` });
  it.each([
    ['no payload', async () => undefined],
    ['no authorization', async () => ({})],
    ['a malformed token', async () => ({ authorization: 'Bearer not-a-jwt' })],
    ['a token signed with another secret', bearer(userToken('x', { secret: 'another-secret-that-is-long-enough' }).then((u) => u.token))],
    ['an expired token', bearer(expiredToken('x'))],
  ])('closes the socket with 4403 for %s', async (_, makePayload) => {
    const initPayload = await makePayload();
    const ws = rawSocket(t.baseUrl);
    await ws.opened;
    ws.send({ type: 'connection_init', ...(initPayload ? { payload: initPayload } : {}) });
    expect((await ws.closed).code).toBe(4403);
    expect(ws.messages).toEqual([]);
  });

  // The start-up banner prints {"Authorization": "Bearer …"}: pasted into connection_init, it must work too.
  it.each([
    ['Authorization', 'Bearer'],
    ['AUTHORIZATION', 'Bearer'],
    ['Authorization', 'bearer'],
  ])('accepts connection_init { %s: "%s <token>" } and runs operations with it', async (key, scheme) => {
    const user = await t.userToken();
    const ws = rawSocket(t.baseUrl);
    await ws.opened;
    try {
      await ws.init(user.token, key, scheme);
      ws.send({ type: 'subscribe', id: '1', payload: { query: 'mutation { addMessage(input: { level: STORED_INFO, text: "hi" }) { stored } }' } });
      await expect.poll(() => ws.messages.find((m) => m.type === 'next'), { timeout: 15_000 }).toMatchObject({ payload: { data: { addMessage: { stored: true } } } });
      expect(dataOf(await t.gql(user.token, '{ unreadCount }')).unreadCount).toBe(1);
    } finally {
      ws.socket.close();
    }
  });

  // Concurrent, so the two waits for a token to expire overlap; 5 s leaves time to connect and subscribe first.
  it.concurrent('closes an open socket with 4401 when its token expires', async () => {
    const user = await t.userToken(undefined, { expiresIn: '5s' });
    const ws = rawSocket(t.baseUrl);
    await ws.opened;
    await ws.init(user.token);
    ws.send({ type: 'subscribe', id: '1', payload: { query: MESSAGE_ADDED } });
    await waitForSubscriber(t.app, user.sub);
    const closed = await ws.closed;
    expect(closed.code).toBe(4401);
    expect(ws.messages[0]).toEqual({ type: 'connection_ack' });
  });

  it.concurrent('ends an SSE subscription with UNAUTHENTICATED when its token expires', async () => {
    const user = await t.userToken(undefined, { expiresIn: '5s' });
    const sub = sseSubscribe(t.baseUrl, user.token, MESSAGE_ADDED);
    try {
      await waitForSubscriber(t.app, user.sub);
      const [result] = await sub.results.take(1);
      expect(errorCode(result)).toBe('UNAUTHENTICATED');
      await sub.results.ended();
    } finally {
      sub.close();
    }
  });

  it('runs queries and mutations over the socket with the connection_init token', async () => {
    const user = await t.userToken();
    const client = wsClient(t.baseUrl, user.token);
    try {
      const result = await new Promise<any>((resolve, reject) => {
        client.subscribe({ query: 'mutation { addMessage(input: { level: STORED_INFO, text: "via ws" }) { stored } }' }, { next: resolve, error: reject, complete: () => {} });
      });
      expect(result.data).toEqual({ addMessage: { stored: true } });
      expect(dataOf(await t.gql(user.token, '{ unreadCount }')).unreadCount).toBe(1);
    } finally {
      await client.dispose();
    }
  });

  it('keeps delivering to other subscribers while one client has stopped reading', async () => {
    const [slow, fast] = [await t.userToken(), await t.userToken()];
    const producer = await t.producerToken();
    const slowSocket = rawSocket(t.baseUrl);
    await slowSocket.opened;
    await slowSocket.init(slow.token);
    slowSocket.send({ type: 'subscribe', id: '1', payload: { query: INBOX_EVENTS } });
    await waitForSubscriber(t.app, slow.sub);
    // The slow client stops reading: once its socket buffers are full, the server's writes to it stall
    // and its events wait in its own queue on the server.
    (slowSocket.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    const big = { blob: 'x'.repeat(15_000) };
    for (let sent = 0; t.app.realtime.live.stats().queued === 0; sent += 10) {
      if (sent >= 1000) throw new Error('the slow client never fell behind');
      await Promise.all(Array.from({ length: 10 }, async () => dataOf(await t.gql(producer.token, SEND_FOR, { u: [slow.sub], t: 'y'.repeat(10_000), d: big }))));
    }

    const fastSub = subscribeOver('ws', t.baseUrl, fast.token, INBOX_EVENTS);
    try {
      await waitForSubscriber(t.app, fast.sub);
      const id = dataOf(await t.gql(producer.token, SEND_FOR, { u: [fast.sub, slow.sub], t: 'for both' })).addMessageFor.message.id;
      const events = (await fastSub.results.take(2)).map((r) => payload(r, 'inboxEvents'));
      expect(events.map((e) => [e.signal, e.messageIds])).toEqual([
        ['ARCHIVE_STORED', [id]],
        ['INBOX_STORED', [id]],
      ]);
      expect(t.app.realtime.live.stats().queued).toBeGreaterThan(0);
    } finally {
      fastSub.close();
      slowSocket.socket.terminate();
    }
  });
});

describe.each(PUBSUB_MODES)('graceful close with %s pub/sub', (mode) => {
  let prefix: string;
  afterAll(async () => dropRedisPrefix(prefix));

  it('app.close() completes subscriptions and closes sockets', async () => {
    const live = liveEnv(mode);
    prefix = live.prefix;
    const t = await startTestApp('postgres', live.env);
    let closed = false;
    try {
      const user = await t.userToken();
      const client = wsClient(t.baseUrl, user.token);
      const ws = wsSubscribe(client, INBOX_EVENTS);
      const sse = sseSubscribe(t.baseUrl, user.token, MESSAGE_ADDED);
      await waitForSubscriber(t.app, user.sub, 2);

      await t.close();
      closed = true;
      await sse.results.ended();
      expect(sse.results.error).toBeNull();
      await ws.results.ended();
      expect(client.closes.map((c) => c.code)).toEqual([1001]);
      expect(t.app.realtime.live.stats()).toMatchObject({ feeds: 0, users: 0 });
    } finally {
      if (!closed) await t.close();
    }
  });
});

describe('listening on a port in use', () => {
  it('reports EADDRINUSE on the server error event instead of hanging (the WebSocket server is attached)', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const t = await startTestApp('postgres');
    try {
      const error = await new Promise<NodeJS.ErrnoException>((resolve) => {
        const server = t.app.server;
        server.close();
        server.once('error', resolve);
        server.listen(port, '127.0.0.1');
      });
      expect(error.code).toBe('EADDRINUSE');
    } finally {
      await t.close();
      blocker.close();
    }
  });
});

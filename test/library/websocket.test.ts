import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { dataOf } from '../harness.js';
import { httpClient } from '../live/helpers.js';
import { liveSubscription, nextWithText, startHost, type Host } from './helpers.js';
import { userToken } from '../support.js';

/** Resolves with what the host's own echo WebSocket sends back. */
function echo(baseUrl: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/echo`);
    socket.once('open', () => socket.send(text));
    socket.once('message', (data) => {
      resolve(String(data));
      socket.close();
    });
    socket.once('error', reject);
  });
}

describe("library on the host application's own server, at a path of its choosing", () => {
  let host: Host;
  /** The library's GraphQL lives at /api/graphql: the live helpers add /graphql to this. */
  let api: string;

  beforeAll(async () => {
    host = await startHost({ path: '/api/graphql' }, (server) => {
      // The host's own WebSocket endpoint, routed the way ws recommends for several endpoints on one server.
      const wss = new WebSocketServer({ noServer: true });
      wss.on('connection', (socket) => socket.on('message', (data) => socket.send(`echo ${String(data)}`)));
      server.on('upgrade', (req, socket, head) => {
        if (req.url === '/echo') wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
      });
    });
    api = `${host.baseUrl}/api`;
  });
  afterAll(async () => host?.close());

  it('delivers a message sent through the use cases to WebSocket and SSE subscribers, and serves it over HTTP', async () => {
    const user = await userToken();
    const overWs = await liveSubscription(api, user.token, 'ws');
    const overSse = await liveSubscription(api, user.token, 'sse');
    try {
      const { message } = await host.stored.messages.addMessageFor({ userIds: [user.sub], level: 'STORED_INFO', text: 'from the host' });
      expect(await nextWithText(overWs, 'from the host')).toMatchObject({ id: message.id, stored: true, read: false });
      expect(await nextWithText(overSse, 'from the host')).toMatchObject({ id: message.id, stored: true });
      expect(dataOf(await httpClient(api).gql(user.token, '{ unreadCount }')).unreadCount).toBe(1);
      expect(await echo(host.baseUrl, 'hi')).toBe('echo hi');
    } finally {
      overWs.close();
      overSse.close();
    }
  });

  it('serves nothing at the default /graphql, and once detached, no WebSocket at its path while the host keeps its own', async () => {
    expect((await fetch(`${host.baseUrl}/graphql`, { method: 'POST' })).status).toBe(404);
    const user = await userToken();
    const sub = await liveSubscription(api, user.token, 'ws');
    await host.detachWebSocket();
    await sub.results.ended();
    // Only the host's own upgrade listener is left (a probe socket would hang on it, unrouted, as on any host).
    expect(host.server.listenerCount('upgrade')).toBe(1);
    expect(await echo(host.baseUrl, 'still here')).toBe('echo still here');
    // HTTP is the handler's, and stays.
    expect(dataOf(await httpClient(api).gql(user.token, '{ unreadCount }')).unreadCount).toBe(0);
  });
});

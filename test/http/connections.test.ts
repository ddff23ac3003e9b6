import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newProducer, newUser, sendTo } from '../factories.js';
import { startTestApp, type TestApp } from '../harness.js';
import { sseSubscribe, waitForSubscriber } from '../live/helpers.js';
import { sleep } from '../support.js';

/**
 * Slow requests time out instead of holding a connection for Node's default 300 s, long-lived
 * responses (SSE) are not cut, and connections past MAX_CONNECTIONS are dropped. Small timeouts
 * through AppOptions keep the test short; waits are generous.
 */

/** Opens a raw connection and writes `head`; resolves with everything the server sent once it closes. */
function rawRequest(port: number, head: string): { socket: net.Socket; closed: Promise<string> } {
  const socket = net.connect(port, '127.0.0.1');
  socket.write(head);
  const closed = new Promise<string>((resolve) => {
    let out = '';
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => (out += c));
    socket.on('close', () => resolve(out));
    // A connection dropped on arrival may end in ECONNRESET: what it got (nothing) is the answer.
    socket.on('error', () => resolve(out));
  });
  return { socket, closed };
}

const HEALTH = 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';

const within = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} not within ${ms} ms`)), ms))]);

describe('request timeouts and the connection cap', () => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    t = await startTestApp('postgres', { MAX_CONNECTIONS: '20' }, { headersTimeoutMs: 1_000, requestTimeoutMs: 2_000 });
    port = Number(new URL(t.baseUrl).port);
  });
  afterAll(async () => t?.close());

  it('cuts a request whose body arrives too slowly (408) and one whose headers never end', async () => {
    const body = JSON.stringify({ query: '{ unreadCount }' });
    const slow = rawRequest(port, `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`);
    const drip = setInterval(() => slow.socket.writable && slow.socket.write(' '), 200); // a byte now and then, never the whole body
    try {
      expect((await within(slow.closed, 20_000, 'slow body cut')).split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
    } finally {
      clearInterval(drip);
    }
    const headers = rawRequest(port, 'POST /graphql HTTP/1.1\r\nHost: x\r\n');
    expect((await within(headers.closed, 20_000, 'slow headers cut')).split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
  });

  it('keeps an SSE stream open past the request timeout', async () => {
    const producer = await newProducer(t);
    const user = await newUser(t);
    const sub = sseSubscribe(t.baseUrl, user.token, 'subscription { messageAdded { text } }');
    try {
      await waitForSubscriber(t.app, user.sub);
      await sleep(5_000); // past the 2 s request timeout (and its checks)
      await sendTo(producer, user.sub, { text: 'still here' });
      expect((await sub.results.next()).data).toEqual({ messageAdded: { text: 'still here' } });
    } finally {
      sub.close();
    }
  });

  it('drops connections past MAX_CONNECTIONS and serves again once they close', async () => {
    const open: net.Socket[] = [];
    try {
      for (let i = 0; i < 20; i++) {
        const s = net.connect(port, '127.0.0.1');
        await new Promise<void>((resolve, reject) => s.once('connect', resolve).once('error', reject));
        open.push(s);
      }
      const extra = rawRequest(port, HEALTH);
      expect(await within(extra.closed, 10_000, 'extra connection dropped')).toBe('');
    } finally {
      for (const s of open) s.destroy();
    }
    await sleep(200);
    const again = rawRequest(port, HEALTH);
    expect((await within(again.closed, 10_000, 'health answered')).split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
  });
});

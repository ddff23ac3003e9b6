import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_REQUEST_BODY_BYTES } from '../../src/graphql/body-limit.js';
import { startTestApp, type TestApp } from '../harness.js';

/**
 * The request body limit (graphql/body-limit.ts, in place of Yoga's own): bodies up to 4 MiB pass,
 * longer ones get 413 whether they announce their length or stream it chunked.
 */
describe('request body limit', () => {
  let t: TestApp;
  let auth: string;
  beforeAll(async () => {
    t = await startTestApp('postgres');
    auth = `Bearer ${(await t.userToken()).token}`;
  });
  afterAll(async () => t?.close());

  const QUERY = '{ unreadCount }';
  /** A JSON request body of exactly `bytes` bytes (the query, padded with an unused variable). */
  const bodyOf = (bytes: number) => {
    const pad = bytes - JSON.stringify({ query: QUERY, variables: { pad: '' } }).length;
    return JSON.stringify({ query: QUERY, variables: { pad: 'x'.repeat(pad) } });
  };

  /** POSTs `chunks` over real HTTP, chunked unless `length` is given; answers the status and body. */
  const post = (chunks: string[], length?: number) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const { port } = new URL(t.baseUrl);
      const headers: Record<string, string | number> = { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: auth };
      if (length === undefined) headers['transfer-encoding'] = 'chunked';
      else headers['content-length'] = length;
      const req = http.request({ host: '127.0.0.1', port, path: '/graphql', method: 'POST', headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      for (const c of chunks) req.write(c);
      req.end();
    });

  const inChunks = (s: string, size = 1_000_000) => Array.from({ length: Math.ceil(s.length / size) }, (_, i) => s.slice(i * size, (i + 1) * size));
  const TOO_LARGE = { errors: [{ message: 'Request body too large', extensions: { code: 'REQUEST_ENTITY_TOO_LARGE' } }] };

  it('is 4 MiB (CONTRACT.md §11)', () => {
    expect(MAX_REQUEST_BODY_BYTES).toBe(4 * 1024 * 1024);
  });

  it('runs an operation whose body is exactly the limit, with a Content-Length or chunked', async () => {
    const body = bodyOf(MAX_REQUEST_BODY_BYTES);
    const sized = await post([body], MAX_REQUEST_BODY_BYTES);
    expect(sized.status).toBe(200);
    expect(JSON.parse(sized.body)).toEqual({ data: { unreadCount: 0 } });
    const chunked = await post(inChunks(body));
    expect(chunked.status).toBe(200);
    expect(JSON.parse(chunked.body)).toEqual({ data: { unreadCount: 0 } });
  });

  it('answers 413 to a body one byte longer, announced by Content-Length or streamed chunked', async () => {
    const body = bodyOf(MAX_REQUEST_BODY_BYTES + 1);
    const sized = await post([body], MAX_REQUEST_BODY_BYTES + 1);
    expect(sized.status).toBe(413);
    expect(JSON.parse(sized.body)).toEqual(TOO_LARGE);
    const chunked = await post(inChunks(body));
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body)).toEqual(TOO_LARGE);
  });

  it('counts a streamed body that does not come through the HTTP server (yoga.fetch)', async () => {
    const bytes = new TextEncoder().encode(bodyOf(MAX_REQUEST_BODY_BYTES + 1));
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < bytes.length; i += 1_000_000) c.enqueue(bytes.subarray(i, i + 1_000_000));
        c.close();
      },
    });
    const res = await t.app.yoga.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: auth },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual(TOO_LARGE);
  });

  it('relies on Node refusing a Content-Length together with chunked encoding', async () => {
    // The limit trusts Content-Length only because Node frames the body by it; a request that also
    // says chunked could otherwise carry more. Node answers it with 400 before the app sees it.
    const { port } = new URL(t.baseUrl);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => {
        const body = JSON.stringify({ query: QUERY });
        socket.write(
          `POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nAuthorization: ${auth}\r\n` +
            `Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
        );
      });
      let out = '';
      socket.setEncoding('utf8');
      socket.on('data', (c: string) => (out += c));
      socket.on('end', () => resolve(out));
      socket.on('error', reject);
      socket.setTimeout(5000, () => socket.destroy(new Error('no answer')));
    });
    expect(raw.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
  });
});

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { createClient, type Client } from 'graphql-ws';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import type { App } from '../../src/app.js';
import { REDIS_URL, TEST_SECRET } from '../env.js';
import { afterAll, beforeAll } from 'vitest';
import { startTestApp, type Backend, type GqlResult, type TestApp } from '../harness.js';
import { waitFor } from '../support.js';

/** Live delivery runs in-process (no REDIS_URL) or through Redis; the suites run on both. */
export type PubSubMode = 'in-process' | 'redis';
export const PUBSUB_MODES: PubSubMode[] = ['in-process', 'redis'];

/** Both pub/subs, each on the storage it is deployed with: in-process on PostgreSQL, Redis pub/sub on Redis storage. */
export const PUBSUB_SETUPS: [PubSubMode, Backend][] = [
  ['in-process', 'postgres'],
  ['redis', 'redis'],
];

/** A key prefix of our own, and the environment that selects the mode. */
export function liveEnv(mode: PubSubMode, extra: Record<string, string> = {}): { env: Record<string, string>; prefix: string } {
  const prefix = `smlive:${randomBytes(5).toString('hex')}:`;
  return { prefix, env: { REDIS_PREFIX: prefix, ...(mode === 'redis' ? { REDIS_URL } : {}), ...extra } };
}

/** For a describe block: a test app in one PUBSUB_SETUPS row's setup, started before its tests and closed (its Redis keys too) after. */
export function liveAppSuite(mode: PubSubMode, backend: Backend, extra: Record<string, string> = {}): () => TestApp {
  let t: TestApp | undefined;
  const live = liveEnv(mode, extra);
  beforeAll(async () => {
    t = await startTestApp(backend, live.env);
  });
  afterAll(async () => {
    await t?.close();
    await dropRedisPrefix(live.prefix);
  });
  return () => t!;
}

/** Deletes the keys under a prefix this test run created (SCAN + DEL of our own prefix; never FLUSHDB). */
export async function dropRedisPrefix(prefix: string): Promise<void> {
  if (!/^smlive:[0-9a-f]+:$/.test(prefix)) throw new Error(`refusing to delete keys under ${prefix}`);
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/**
 * What arrives on a subscription, taken in order by the test. `take(n)` waits (bounded, so a missing
 * event fails the test instead of hanging it) for the next n items.
 */
export class Arrivals<T = any> {
  readonly items: T[] = [];
  error: unknown = null;
  completed = false;
  private taken = 0;
  private wake: (() => void) | null = null;

  push(item: T) {
    this.items.push(item);
    this.wake?.();
  }

  fail(err: unknown) {
    this.error = err;
    this.completed = true;
    this.wake?.();
  }

  complete() {
    this.completed = true;
    this.wake?.();
  }

  async take(n = 1, timeoutMs = 15_000): Promise<T[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.items.length < this.taken + n) {
      if (this.completed) throw new Error(`subscription ended after ${this.items.length} items (wanted ${this.taken + n}): ${describe(this.error)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for item ${this.taken + n}; got ${JSON.stringify(this.items.slice(this.taken))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
    const out = this.items.slice(this.taken, this.taken + n);
    this.taken += n;
    return out;
  }

  async next(timeoutMs?: number): Promise<T> {
    return (await this.take(1, timeoutMs))[0];
  }

  /** Waits until the subscription has ended. */
  async ended(timeoutMs = 15_000): Promise<void> {
    await waitFor(() => this.completed, { timeoutMs, everyMs: 20, what: 'the end of the subscription' });
  }

  /** Items not taken yet. */
  get untaken(): T[] {
    return this.items.slice(this.taken);
  }
}

function describe(err: unknown): string {
  if (!err) return 'completed';
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err && 'code' in err) return `closed with ${(err as { code: number }).code}`;
  return JSON.stringify(err);
}

export interface LiveSubscription {
  /** Each GraphQL result ({ data, errors }) of the subscription. */
  results: Arrivals<GqlResult>;
  close(): void;
}

/** A graphql-ws client (graphql-transport-ws) with `connection_init { authorization }`. */
export function wsClient(baseUrl: string, token: string | null): Client & { closes: { code: number; reason: string }[] } {
  const closes: { code: number; reason: string }[] = [];
  const client = createClient({
    url: `${baseUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: true,
    on: { closed: (e) => void closes.push({ code: (e as { code: number }).code, reason: String((e as { reason: unknown }).reason) }) },
  });
  return Object.assign(client, { closes });
}

export function wsSubscribe(client: Client, query: string, variables?: Record<string, unknown>): LiveSubscription {
  const results = new Arrivals<GqlResult>();
  const unsubscribe = client.subscribe(
    { query, variables },
    { next: (r) => results.push(r as GqlResult), error: (e) => results.fail(e), complete: () => results.complete() },
  );
  return { results, close: unsubscribe };
}

/** A raw graphql-transport-ws socket: what it was closed with, and the messages it got. */
export function rawSocket(baseUrl: string) {
  const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
  const messages: any[] = [];
  socket.on('message', (data) => messages.push(JSON.parse(String(data))));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  const opened = new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const send = (m: unknown) => socket.send(JSON.stringify(m));
  /** connection_init with this token, resolved once acknowledged (a subscribe before the ack is refused); rejects when the socket closes first. */
  const init = async (token: string, key = 'authorization', scheme = 'Bearer') => {
    const acked = new Promise<void>((resolve, reject) => {
      socket.on('message', (data) => JSON.parse(String(data)).type === 'connection_ack' && resolve());
      void closed.then(({ code }) => reject(new Error(`closed with ${code} before connection_ack`)));
    });
    send({ type: 'connection_init', payload: { [key]: `${scheme} ${token}` } });
    await acked;
  };
  return { socket, messages, closed, opened, send, init };
}

/** A subscription over Server-Sent Events (graphql-sse "distinct connections": one POST per operation). */
export function sseSubscribe(baseUrl: string, token: string | null, query: string, variables?: Record<string, unknown>): LiveSubscription {
  const results = new Arrivals<GqlResult>();
  const abort = new AbortController();
  void (async () => {
    const res = await fetch(`${baseUrl}/graphql`, {
      method: 'POST',
      headers: { accept: 'text/event-stream', 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
      signal: abort.signal,
    });
    if (!res.body) throw new Error(`no body (status ${res.status})`);
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = block
          .split('\n')
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).trimStart())
          .join('\n');
        if (event === 'next') results.push(JSON.parse(data) as GqlResult);
        if (event === 'complete') results.complete();
      }
    }
    results.complete();
  })().catch((err) => {
    if (!abort.signal.aborted) results.fail(err);
    else results.complete();
  });
  return { results, close: () => abort.abort() };
}

/** Subscribes over one transport; `ws` opens its own client (closed with the subscription). */
export function subscribeOver(transport: 'ws' | 'sse', baseUrl: string, token: string, query: string, variables?: Record<string, unknown>): LiveSubscription {
  if (transport === 'sse') return sseSubscribe(baseUrl, token, query, variables);
  const client = wsClient(baseUrl, token);
  const sub = wsSubscribe(client, query, variables);
  return {
    results: sub.results,
    close: () => {
      sub.close();
      void client.dispose();
    },
  };
}

/**
 * Waits until `app` serves `n` started subscriptions of this user: a subscription without a cursor
 * starts at "now", so a test sends only once it has started.
 */
export async function waitForSubscriber(app: App, userId: string, n = 1, timeoutMs = 15_000): Promise<void> {
  await waitFor(() => app.realtime.live.liveFor(userId) >= n, { timeoutMs, everyMs: 10, what: `${n} started subscriptions of ${userId}` });
}

/** Waits until `app` no longer serves any subscription of this user (the client really went away). */
export async function waitForNoSubscriber(app: App, userId: string, timeoutMs = 15_000): Promise<void> {
  await waitFor(() => app.realtime.live.liveFor(userId) === 0, { timeoutMs, everyMs: 10, what: `the end of the subscriptions of ${userId}` });
}

/** The data of one subscription result, failing on errors. */
export function payload<T = any>(result: GqlResult, field: string): T {
  if (result.errors?.length) throw new Error(`unexpected errors: ${JSON.stringify(result.errors)}`);
  return result.data?.[field] as T;
}

export const INBOX_EVENTS = `subscription($after: String) {
  inboxEvents(after: $after) { signal unreadCount cursor messageIds message { id text stored read } }
}`;
export const MESSAGE_ADDED = 'subscription { messageAdded { id text stored level read } }';

/** GraphQL over HTTP against any server (an in-process app, or a child process). */
export function httpClient(baseUrl: string) {
  return {
    baseUrl,
    async gql<T = any>(token: string | null, query: string, variables?: Record<string, unknown>): Promise<GqlResult<T>> {
      const res = await fetch(`${baseUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      return (await res.json()) as GqlResult<T>;
    },
  };
}

export interface ChildServer {
  baseUrl: string;
  close(): Promise<void>;
}

/**
 * A second server process (`node --import tsx test/live/server-process.ts`) with the given
 * environment: a real separate process, sharing only PostgreSQL and Redis with the test.
 */
export async function startChildServer(env: Record<string, string>): Promise<ChildServer> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'test/live/server-process.ts'], {
    env: { ...process.env, NODE_ENV: 'test', HOST: '127.0.0.1', PORT: '0', AUTH_JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'error', ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error('child server did not start in 60 s')), 60_000);
    lines.on('line', (line) => {
      const m = /^listening (\d+)$/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child server exited with ${code}`));
    });
  });
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

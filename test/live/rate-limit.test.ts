import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import { loadConfig } from '../../src/config.js';
import { createRateLimiter, MemoryBuckets } from '../../src/realtime/rate-limit.js';
import { dataOf, errorCode, startTestApp, type GqlResult, type TestApp } from '../harness.js';
import { expiredToken, sleep } from '../support.js';
import { dropRedisPrefix, liveEnv, MESSAGE_ADDED, payload, PUBSUB_MODES, waitForSubscriber, wsClient, wsSubscribe, type PubSubMode } from './helpers.js';

/**
 * CONTRACT.md §11: RATE_LIMIT_USER_PER_MINUTE / RATE_LIMIT_PRODUCER_PER_MINUTE. Users get 2 a minute
 * (one token back every 30 s: a refused call's retryAfterSeconds is near 30), producers 60 (one back
 * every second: short enough to wait for the refill).
 */
const LIMITS = { RATE_LIMIT_USER_PER_MINUTE: '2', RATE_LIMIT_PRODUCER_PER_MINUTE: '60' };
const SEND_FOR = 'mutation($u: [ID!]!, $t: String!) { addMessageFor(input: { userIds: $u, level: STORED_INFO, text: $t }) { message { id } } }';

/** One POST /graphql, with its status and headers (the harness' gql answers the body only). */
async function post(baseUrl: string, token: string | null, query: string, o: { accept?: string; variables?: Record<string, unknown> } = {}) {
  const res = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: o.accept ?? 'application/graphql-response+json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables: o.variables }),
  });
  const text = await res.text();
  // An SSE answer carries the result in its `next` event.
  const json = o.accept === 'text/event-stream' ? (/^data: (.*)$/m.exec(text)?.[1] ?? 'null') : text;
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: JSON.parse(json) as GqlResult };
}

/** Asserts a refusal over HTTP: 429, Retry-After equal to extensions.retryAfterSeconds, within [min, max]. */
function expectRefused(r: Awaited<ReturnType<typeof post>>, min: number, max: number): number {
  expect(r.status).toBe(429);
  expect(errorCode(r.body)).toBe('RATE_LIMITED');
  const seconds = r.body.errors![0].extensions!.retryAfterSeconds as number;
  expect(Number.isInteger(seconds)).toBe(true);
  expect(seconds).toBeGreaterThanOrEqual(min);
  expect(seconds).toBeLessThanOrEqual(max);
  expect(r.retryAfter).toBe(String(seconds));
  expect(r.body.errors![0].extensions).not.toHaveProperty('http');
  return seconds;
}

describe.each(PUBSUB_MODES)('rate limits (%s)', (mode: PubSubMode) => {
  let t: TestApp;
  let prefix: string;
  beforeAll(async () => {
    const live = liveEnv(mode, LIMITS);
    prefix = live.prefix;
    t = await startTestApp('postgres', live.env);
  });
  afterAll(async () => {
    await t?.close();
    await dropRedisPrefix(prefix);
  });

  it('refuses a user past the budget with 429, Retry-After and retryAfterSeconds, and changes nothing', async () => {
    const user = await t.userToken();
    const started = Date.now();
    expect((await post(t.baseUrl, user.token, '{ unreadCount }')).status).toBe(200);
    expect((await post(t.baseUrl, user.token, '{ unreadCount }')).status).toBe(200);
    const refused = await post(t.baseUrl, user.token, 'mutation { addMessage(input: { level: STORED_INFO, text: "refused" }) { stored } }');
    // One token comes back every 30 s; the time already spent has brought part of it.
    expectRefused(refused, 30 - Math.ceil((Date.now() - started) / 1000), 30);
    expect(refused.body.data).toBeUndefined();
    expect(await t.app.store.unreadCount(user.sub)).toBe(0);
  });

  it("does not count a producer's sends against their recipients", async () => {
    const user = await t.userToken();
    const producer = await t.producerToken();
    for (let i = 0; i < 3; i++) dataOf(await t.gql(producer.token, SEND_FOR, { u: [user.sub], t: `m${i}` }));
    expect(dataOf(await t.gql(user.token, '{ unreadCount }')).unreadCount).toBe(3);
    expect(dataOf(await t.gql(user.token, '{ unreadCount }')).unreadCount).toBe(3);
    expect(errorCode(await t.gql(user.token, '{ unreadCount }'))).toBe('RATE_LIMITED');
  });

  it('lets requests pass again once the refill has come', async () => {
    const producer = await t.producerToken();
    let refused: Awaited<ReturnType<typeof post>> | null = null;
    for (let i = 0; i < 200 && !refused; i++) {
      const r = await post(t.baseUrl, producer.token, '{ unreadCount }');
      if (r.status !== 200) refused = r;
    }
    expect(refused).not.toBeNull();
    const seconds = expectRefused(refused!, 1, 1);
    await sleep(seconds * 1000 + 500);
    expect(dataOf(await t.gql(producer.token, '{ unreadCount }')).unreadCount).toBe(0);
  });

  it('counts an SSE subscription start as one request', async () => {
    const user = await t.userToken();
    dataOf(await t.gql(user.token, '{ unreadCount }'));
    const abort = new AbortController();
    const first = await fetch(`${t.baseUrl}/graphql`, {
      method: 'POST',
      headers: { accept: 'text/event-stream', 'content-type': 'application/json', authorization: `Bearer ${user.token}` },
      body: JSON.stringify({ query: MESSAGE_ADDED }),
      signal: abort.signal,
    });
    try {
      expect(first.status).toBe(200);
      await waitForSubscriber(t.app, user.sub);
      expectRefused(await post(t.baseUrl, user.token, MESSAGE_ADDED, { accept: 'text/event-stream' }), 1, 30);
    } finally {
      abort.abort();
    }
  });

  it('counts each WebSocket subscribe (the socket stays open after a refusal)', async () => {
    const user = await t.userToken();
    const producer = await t.producerToken();
    const client = wsClient(t.baseUrl, user.token);
    try {
      const live = wsSubscribe(client, MESSAGE_ADDED);
      await waitForSubscriber(t.app, user.sub);
      const query = wsSubscribe(client, '{ unreadCount }');
      expect(payload(await query.results.next(), 'unreadCount')).toBe(0);
      const refused = wsSubscribe(client, '{ unreadCount }');
      await refused.results.ended();
      const errors = refused.results.error as { extensions: Record<string, unknown> }[];
      expect(errors[0].extensions.code).toBe('RATE_LIMITED');
      expect(errors[0].extensions.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(errors[0].extensions.retryAfterSeconds).toBeLessThanOrEqual(30);
      expect(errors[0].extensions).not.toHaveProperty('http');
      dataOf(await t.gql(producer.token, SEND_FOR, { u: [user.sub], t: 'still live' }));
      expect(payload(await live.results.next(), 'messageAdded').text).toBe('still live');
      expect(client.closes).toEqual([]);
    } finally {
      await client.dispose();
    }
  });

  it('does not count requests refused as unauthenticated, nor /health and /ready', async () => {
    const user = await t.userToken();
    const expired = await expiredToken(user.sub);
    for (let i = 0; i < 3; i++) expect(errorCode(await t.gql(expired, '{ unreadCount }'))).toBe('UNAUTHENTICATED');
    for (const path of ['/health', '/ready', '/health', '/ready']) {
      expect((await fetch(`${t.baseUrl}${path}`, { headers: { authorization: `Bearer ${user.token}` } })).status).toBe(200);
    }
    dataOf(await t.gql(user.token, '{ unreadCount }'));
    dataOf(await t.gql(user.token, '{ unreadCount }'));
    expect(errorCode(await t.gql(user.token, '{ unreadCount }'))).toBe('RATE_LIMITED');
  });
});

describe('rate limits shared through Redis', () => {
  let a: TestApp;
  let b: TestApp;
  let prefix: string;
  beforeAll(async () => {
    const live = liveEnv('redis', LIMITS);
    prefix = live.prefix;
    [a, b] = await Promise.all([startTestApp('postgres', live.env), startTestApp('postgres', live.env)]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await dropRedisPrefix(prefix);
  });

  it('gives two instances with one REDIS_URL and prefix one budget per caller', async () => {
    const user = await a.userToken();
    const started = Date.now();
    dataOf(await a.gql(user.token, '{ unreadCount }'));
    dataOf(await b.gql(user.token, '{ unreadCount }'));
    const elapsed = Math.ceil((Date.now() - started) / 1000);
    expectRefused(await post(a.baseUrl, user.token, '{ unreadCount }'), 30 - elapsed - 1, 30);
    expectRefused(await post(b.baseUrl, user.token, '{ unreadCount }'), 30 - elapsed - 1, 30);
  });
});

describe('without limits', () => {
  it('installs nothing: no limiter, so requests pay nothing for it', async () => {
    expect(await createRateLimiter(loadConfig({}), { logger: pino({ level: 'silent' }) })).toBeNull();
    expect(await createRateLimiter(loadConfig({ RATE_LIMIT_PRODUCER_PER_MINUTE: '5' }), { logger: pino({ level: 'silent' }) })).not.toBeNull();
  });
});

describe('in-memory buckets', () => {
  it('drop a bucket once it is full again, so idle callers cost nothing', async () => {
    // The buckets read Date.now(): moving it stands for waiting.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const buckets = new MemoryBuckets();
      expect(await buckets.take('u', 'idle', 60)).toBe(0);
      expect(buckets.size).toBe(1);
      // 60 a minute: the one token taken is back after a second.
      vi.setSystemTime(Date.now() + 1500);
      expect(await buckets.take('u', 'active', 60)).toBe(0);
      expect(buckets.size).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });
});

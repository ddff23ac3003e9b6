import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL } from '../env.js';
import { dataOf, errorCode, startTestApp, type TestApp } from '../harness.js';
import { startTcpProxy, type TcpProxy } from '../tcp-proxy.js';
import { dropRedisPrefix, INBOX_EVENTS, liveEnv, payload, subscribeOver, waitForSubscriber } from './helpers.js';

/** A test app on PostgreSQL whose live events (and limits) go through a Redis proxy the test can cut; set up per describe block. */
function appBehindRedisProxy(env: Record<string, string> = {}) {
  const ctx = {} as { t: TestApp; proxy: TcpProxy };
  let prefix: string;
  beforeAll(async () => {
    ctx.proxy = await startTcpProxy(REDIS_URL);
    const live = liveEnv('redis', env);
    prefix = live.prefix;
    ctx.t = await startTestApp('postgres', { ...live.env, REDIS_URL: ctx.proxy.url });
  });
  afterAll(async () => {
    ctx.proxy?.restore();
    await ctx.t?.close();
    await ctx.proxy?.close();
    await dropRedisPrefix(prefix);
  });
  return ctx;
}

describe('a Redis outage', () => {
  const ctx = appBehindRedisProxy();

  it('does not stop the server; events committed meanwhile arrive once Redis is back', async () => {
    const user = await ctx.t.userToken();
    const producer = await ctx.t.producerToken();
    const send = async (text: string) =>
      dataOf(await ctx.t.gql(producer.token, 'mutation($u: [ID!]!, $t: String!) { addMessageFor(input: { userIds: $u, level: STORED_INFO, text: $t }) { message { id } } }', { u: [user.sub], t: text }))
        .addMessageFor.message.id as string;
    const sub = subscribeOver('ws', ctx.t.baseUrl, user.token, INBOX_EVENTS);
    try {
      await waitForSubscriber(ctx.t.app, user.sub);
      const before = await send('before');
      expect((await sub.results.take(2)).map((r) => payload(r, 'inboxEvents').messageIds)).toEqual([[before], [before]]);

      ctx.proxy.cut();
      // Storage still works; only live delivery waits for Redis.
      const during = await send('during the outage');
      expect((await fetch(`${ctx.t.baseUrl}/ready`)).status).toBe(503);
      expect(dataOf(await ctx.t.gql(user.token, '{ unreadCount }')).unreadCount).toBe(2);

      ctx.proxy.restore();
      const events = (await sub.results.take(2, 30_000)).map((r) => payload(r, 'inboxEvents'));
      expect(events.map((e) => [e.signal, e.messageIds, e.unreadCount])).toEqual([
        ['ARCHIVE_STORED', [during], 2],
        ['INBOX_STORED', [during], 2],
      ]);
      expect((await fetch(`${ctx.t.baseUrl}/ready`)).status).toBe(200);
    } finally {
      sub.close();
    }
  });

  it('lets a flash message that could not be queued be sent again with the same idempotency key', async () => {
    const user = await ctx.t.userToken();
    const ADD = 'mutation($k: String!) { addMessage(input: { level: INFO, text: "flash", idempotencyKey: $k }) { message { id } } }';
    ctx.proxy.cut();
    try {
      // Flash messages live in Redis here: the idempotency key (in PostgreSQL) was claimed, the push failed.
      expect((await ctx.t.gql(user.token, ADD, { k: 'retried' })).errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    } finally {
      ctx.proxy.restore();
    }
    for (let tries = 0; (await fetch(`${ctx.t.baseUrl}/ready`)).status !== 200; tries++) {
      if (tries > 300) throw new Error('Redis did not come back');
      await new Promise((r) => setTimeout(r, 100));
    }
    const retried = dataOf(await ctx.t.gql(user.token, ADD, { k: 'retried' })).addMessage.message.id as string;
    expect(dataOf(await ctx.t.gql(user.token, '{ pendingMessages { id } }')).pendingMessages).toEqual([{ id: retried }]);
  });
});

describe('a Redis outage under a rate limit', () => {
  const ctx = appBehindRedisProxy({ RATE_LIMIT_USER_PER_MINUTE: '1' });

  it('lets requests through while Redis is away (fail-open), and limits again once it is back', async () => {
    const user = await ctx.t.userToken();
    const unread = () => ctx.t.gql(user.token, '{ unreadCount }');
    dataOf(await unread());
    expect(errorCode(await unread())).toBe('RATE_LIMITED');

    ctx.proxy.cut();
    for (let i = 0; i < 3; i++) expect(dataOf(await unread()).unreadCount).toBe(0);

    ctx.proxy.restore();
    // The limiter's connection comes back by itself (reconnection backoff); the bucket in Redis is still empty.
    const deadline = Date.now() + 30_000;
    let result = await unread();
    while (!result.errors && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      result = await unread();
    }
    expect(errorCode(result)).toBe('RATE_LIMITED');
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisCluster, type TestCluster } from '../redis-cluster.js';
import { createTestDatabase, dataOf, startTestApp, type TestApp } from '../harness.js';
import { INBOX_EVENTS, MESSAGE_ADDED, payload, subscribeOver, waitForNoSubscriber, waitForSubscriber } from './helpers.js';

const SEND_FOR = 'mutation($u: [ID!]!, $t: String!) { addMessageFor(input: { userIds: $u, level: STORED_INFO, text: $t }) { message { id } } }';

/** Live delivery through a real three-node Redis Cluster: every script touches one slot (per-user hash tags). */
describe('live delivery on a Redis Cluster, two app instances', () => {
  let cluster: TestCluster;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    db = await createTestDatabase();
    const env = { DATABASE_URL: db.url, REDIS_URL: cluster.url, REDIS_PREFIX: 'smlive:cluster:', FLASH_MAX: '2' };
    a = await startTestApp('postgres', env);
    b = await startTestApp('postgres', env);
  }, 120_000);
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await db?.drop();
    await cluster?.stop();
  });

  it('delivers, shares flash messages and resumes across the two instances', async () => {
    const user = await a.userToken('user {with} braces');
    const producer = await a.producerToken();
    const events = subscribeOver('ws', a.baseUrl, user.token, INBOX_EVENTS);
    const added = subscribeOver('sse', a.baseUrl, user.token, MESSAGE_ADDED);
    await waitForSubscriber(a.app, user.sub, 2);

    const m1 = dataOf(await b.gql(producer.token, SEND_FOR, { u: [user.sub], t: 'through B' })).addMessageFor.message.id;
    for (const text of ['flash 1', 'flash 2', 'flash 3']) dataOf(await b.gql(user.token, 'mutation($t: String!) { addMessage(input: { level: INFO, text: $t }) { stored } }', { t: text }));
    const seen = (await events.results.take(2)).map((r) => payload(r, 'inboxEvents'));
    expect(seen.map((e) => [e.signal, e.messageIds])).toEqual([
      ['ARCHIVE_STORED', [m1]],
      ['INBOX_STORED', [m1]],
    ]);
    expect((await added.results.take(4)).map((r) => payload(r, 'messageAdded').text)).toEqual(['through B', 'flash 1', 'flash 2', 'flash 3']);
    expect(dataOf(await a.gql(user.token, '{ pendingMessages { text } }')).pendingMessages).toEqual([{ text: 'flash 2' }, { text: 'flash 3' }, { text: 'through B' }]);

    events.close();
    added.close();
    await waitForNoSubscriber(a.app, user.sub);
    const m2 = dataOf(await a.gql(producer.token, SEND_FOR, { u: [user.sub], t: 'missed' })).addMessageFor.message.id;
    const resumed = subscribeOver('ws', b.baseUrl, user.token, INBOX_EVENTS, { after: seen[1].cursor });
    try {
      expect((await resumed.results.take(2)).map((r) => payload(r, 'inboxEvents')).map((e) => [e.signal, e.messageIds])).toEqual([
        ['ARCHIVE_STORED', [m2]],
        ['INBOX_STORED', [m2]],
      ]);
    } finally {
      resumed.close();
    }
  });

  it('shares one rate budget per caller between two instances on the cluster', async () => {
    const env = { DATABASE_URL: db.url, REDIS_URL: cluster.url, REDIS_PREFIX: 'smlive:cluster-rate:', RATE_LIMIT_USER_PER_MINUTE: '2' };
    const [c, d] = await Promise.all([startTestApp('postgres', env), startTestApp('postgres', env)]);
    try {
      const user = await c.userToken('rate {with} braces');
      dataOf(await c.gql(user.token, '{ unreadCount }'));
      dataOf(await d.gql(user.token, '{ unreadCount }'));
      for (const app of [c, d]) {
        const refused = await app.gql(user.token, '{ unreadCount }');
        expect(refused.errors?.[0].extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) });
      }
    } finally {
      await Promise.all([c.close(), d.close()]);
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL } from '../env.js';
import { createTestDatabase, dataOf, startTestApp, type TestApp } from '../harness.js';
import {
  dropRedisPrefix,
  httpClient,
  INBOX_EVENTS,
  liveEnv,
  MESSAGE_ADDED,
  payload,
  startChildServer,
  subscribeOver,
  waitForNoSubscriber,
  waitForSubscriber,
  type ChildServer,
} from './helpers.js';
import { producerToken, userToken } from '../support.js';

const SEND_FOR = 'mutation($u: [ID!]!, $t: String!) { addMessageFor(input: { userIds: $u, level: STORED_INFO, text: $t }) { message { id } } }';
const BROADCAST = 'mutation($t: String!) { broadcastMessage(input: { level: STORED_INFO, text: $t }) { message { id } } }';
const FLASH = 'mutation($t: String!) { addMessage(input: { level: INFO, text: $t }) { stored message { id } } }';
const PENDING = '{ pendingMessages { id text stored } }';

/**
 * Two server processes behind one "load balancer": this test process (A) and a child process (B),
 * sharing only PostgreSQL and Redis (same REDIS_URL and REDIS_PREFIX).
 */
describe('two server processes sharing PostgreSQL and Redis', () => {
  let a: TestApp;
  let b: ChildServer;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let prefix: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    const live = liveEnv('redis', { DATABASE_URL: db.url, FLASH_MAX: '3' });
    prefix = live.prefix;
    a = await startTestApp('postgres', live.env);
    b = await startChildServer({ ...live.env, REDIS_URL });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await db?.drop();
    await dropRedisPrefix(prefix);
  });

  const onB = () => httpClient(b.baseUrl);

  it('delivers to a subscriber on A what is sent, read and broadcast through B, in order', async () => {
    const user = await userToken();
    const producer = await producerToken();
    const events = subscribeOver('ws', a.baseUrl, user.token, INBOX_EVENTS);
    const added = subscribeOver('sse', a.baseUrl, user.token, MESSAGE_ADDED);
    try {
      await waitForSubscriber(a.app, user.sub, 2);
      const m1 = dataOf(await onB().gql(producer.token, SEND_FOR, { u: [user.sub], t: 'sent on B' })).addMessageFor.message.id;
      dataOf(await onB().gql(user.token, 'mutation($i: [ID!]!) { markRead(input: { ids: $i }) { count } }', { i: [m1] }));
      const flash = dataOf(await onB().gql(user.token, FLASH, { t: 'flash on B' })).addMessage;
      const m2 = dataOf(await onB().gql(producer.token, BROADCAST, { t: 'broadcast on B' })).broadcastMessage.message.id;

      expect((await events.results.take(5)).map((r) => payload(r, 'inboxEvents')).map((e) => [e.signal, e.messageIds, e.unreadCount])).toEqual([
        ['ARCHIVE_STORED', [m1], 1],
        ['INBOX_STORED', [m1], 1],
        ['INBOX_DELETED', [m1], 0],
        ['ARCHIVE_STORED', [m2], 1],
        ['INBOX_STORED', [m2], 1],
      ]);
      expect((await added.results.take(3)).map((r) => payload(r, 'messageAdded')).map((m) => [m.id, m.stored])).toEqual([
        [m1, true],
        [flash.message.id, false],
        [m2, true],
      ]);
    } finally {
      events.close();
      added.close();
    }
  });

  it('shares flash messages: added on B, pending on A (at most FLASH_MAX), consumed on A, gone on B', async () => {
    const user = await userToken();
    for (const [i, server] of [onB(), httpClient(a.baseUrl), onB(), onB()].entries()) {
      expect(dataOf(await server.gql(user.token, FLASH, { t: `flash ${i}` })).addMessage.stored).toBe(false);
    }
    const pending = dataOf(await a.gql(user.token, PENDING)).pendingMessages;
    expect(pending.map((m: { text: string; stored: boolean }) => [m.text, m.stored])).toEqual([
      ['flash 1', false],
      ['flash 2', false],
      ['flash 3', false],
    ]);
    const consumed = dataOf(await a.gql(user.token, 'mutation { consumeMessages { messages { id } } }')).consumeMessages.messages;
    expect(consumed.map((m: { id: string }) => m.id)).toEqual(pending.map((m: { id: string }) => m.id));
    expect(dataOf(await onB().gql(user.token, PENDING)).pendingMessages).toEqual([]);
  });

  it('resumes on B from a cursor received on A, with exactly the missed events', async () => {
    const user = await userToken();
    const producer = await producerToken();
    const first = subscribeOver('ws', a.baseUrl, user.token, INBOX_EVENTS);
    await waitForSubscriber(a.app, user.sub);
    dataOf(await a.gql(producer.token, SEND_FOR, { u: [user.sub], t: 'seen on A' }));
    const [, seen] = (await first.results.take(2)).map((r) => payload(r, 'inboxEvents'));
    first.close();
    await waitForNoSubscriber(a.app, user.sub);

    const missedOnA = dataOf(await a.gql(producer.token, SEND_FOR, { u: [user.sub], t: 'missed, sent on A' })).addMessageFor.message.id;
    const missedOnB = dataOf(await onB().gql(producer.token, BROADCAST, { t: 'missed, broadcast on B' })).broadcastMessage.message.id;

    const resumed = subscribeOver('sse', b.baseUrl, user.token, INBOX_EVENTS, { after: seen.cursor });
    try {
      expect((await resumed.results.take(4)).map((r) => payload(r, 'inboxEvents')).map((e) => [e.signal, e.messageIds])).toEqual([
        ['ARCHIVE_STORED', [missedOnA]],
        ['INBOX_STORED', [missedOnA]],
        ['ARCHIVE_STORED', [missedOnB]],
        ['INBOX_STORED', [missedOnB]],
      ]);
      // Live on B from here, for a message sent through A.
      const live = dataOf(await a.gql(producer.token, SEND_FOR, { u: [user.sub], t: 'live, sent on A' })).addMessageFor.message.id;
      expect((await resumed.results.take(2)).map((r) => payload(r, 'inboxEvents')).map((e) => [e.signal, e.messageIds])).toEqual([
        ['ARCHIVE_STORED', [live]],
        ['INBOX_STORED', [live]],
      ]);
    } finally {
      resumed.close();
    }
  });
});

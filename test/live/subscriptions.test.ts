import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataOf, errorCode, startTestApp, type TestApp } from '../harness.js';
import {
  dropRedisPrefix,
  INBOX_EVENTS,
  liveEnv,
  MESSAGE_ADDED,
  payload,
  PUBSUB_MODES,
  sseSubscribe,
  subscribeOver,
  waitForSubscriber,
} from './helpers.js';

const SEND_FOR = 'mutation($u: [ID!]!, $t: String!, $k: String) { addMessageFor(input: { userIds: $u, level: STORED_INFO, text: $t, idempotencyKey: $k }) { message { id } } }';
const BROADCAST = 'mutation($t: String!) { broadcastMessage(input: { level: STORED_WARNING, text: $t }) { message { id } } }';
const ADD = 'mutation($l: MessageLevel!, $t: String!) { addMessage(input: { level: $l, text: $t }) { stored message { id } } }';

describe.each(PUBSUB_MODES)('subscriptions with %s pub/sub on postgres', (mode) => {
  let t: TestApp;
  let prefix: string;
  beforeAll(async () => {
    const live = liveEnv(mode);
    prefix = live.prefix;
    t = await startTestApp('postgres', live.env);
  });
  afterAll(async () => {
    await t?.close();
    await dropRedisPrefix(prefix);
  });

  const sendFor = async (producer: string, userIds: string[], text: string, key?: string) =>
    dataOf(await t.gql(producer, SEND_FOR, { u: userIds, t: text, k: key })).addMessageFor.message.id as string;
  const broadcast = async (producer: string, text: string) => dataOf(await t.gql(producer, BROADCAST, { t: text })).broadcastMessage.message.id as string;

  describe.each(['ws', 'sse'] as const)('over %s', (transport) => {
    it('messageAdded delivers stored, flash, addMessageFor and broadcast messages as they arrive', async () => {
      const user = await t.userToken();
      const producer = await t.producerToken();
      const sub = subscribeOver(transport, t.baseUrl, user.token, MESSAGE_ADDED);
      try {
        await waitForSubscriber(t.app, user.sub);
        const stored = dataOf(await t.gql(user.token, ADD, { l: 'STORED_INFO', t: 'one' })).addMessage;
        const flash = dataOf(await t.gql(user.token, ADD, { l: 'INFO', t: 'two' })).addMessage;
        expect([stored.stored, flash.stored]).toEqual([true, false]);
        const forUser = await sendFor(producer.token, [user.sub], 'three');
        const everyone = await broadcast(producer.token, 'four');

        const got = (await sub.results.take(4)).map((r) => payload(r, 'messageAdded'));
        expect(got.map((m) => [m.id, m.text, m.stored, m.read])).toEqual([
          [stored.message.id, 'one', true, false],
          [flash.message.id, 'two', false, false],
          [forUser, 'three', true, false],
          [everyone, 'four', true, false],
        ]);
      } finally {
        sub.close();
      }
    });

    it('inboxEvents carries every signal, in order, with the unread count after each change', async () => {
      const user = await t.userToken();
      const producer = await t.producerToken();
      const sub = subscribeOver(transport, t.baseUrl, user.token, INBOX_EVENTS);
      try {
        await waitForSubscriber(t.app, user.sub);
        const m1 = await sendFor(producer.token, [user.sub], 'first');
        const m2 = await sendFor(producer.token, [user.sub], 'second');
        dataOf(await t.gql(user.token, 'mutation($i: [ID!]!) { markRead(input: { ids: $i }) { count } }', { i: [m1] }));
        dataOf(await t.gql(user.token, 'mutation($i: [ID!]!) { markUnread(input: { ids: $i }) { count } }', { i: [m1] }));
        dataOf(await t.gql(user.token, 'mutation { markAllRead { count } }'));
        dataOf(await t.gql(user.token, 'mutation { markAllRead { count } }')); // nothing changed: no signal
        dataOf(await t.gql(user.token, 'mutation($i: [ID!]!) { deleteMessages(input: { ids: $i }) { count } }', { i: [m2] }));
        dataOf(await t.gql(user.token, ADD, { l: 'INFO', t: 'a flash message is not an inbox event' }));
        const m3 = await broadcast(producer.token, 'to everyone');

        // The no-op markAllRead and the flash message come before the broadcast: an event for either would show up here.
        const events = (await sub.results.take(10)).map((r) => payload(r, 'inboxEvents'));
        expect(events.map((e) => [e.signal, e.messageIds, e.unreadCount, e.message?.id ?? null])).toEqual([
          ['ARCHIVE_STORED', [m1], 1, m1],
          ['INBOX_STORED', [m1], 1, m1],
          ['ARCHIVE_STORED', [m2], 2, m2],
          ['INBOX_STORED', [m2], 2, m2],
          ['INBOX_DELETED', [m1], 1, null],
          ['INBOX_STORED', [m1], 2, m1],
          ['INBOX_PURGED', [], 0, null],
          ['ARCHIVE_DELETED', [m2], 0, null],
          ['ARCHIVE_STORED', [m3], 1, m3],
          ['INBOX_STORED', [m3], 1, m3],
        ]);
        expect(new Set(events.map((e) => e.cursor)).size).toBe(10);
      } finally {
        sub.close();
      }
    });

    it('a subscriber only ever receives their own events', async () => {
      const [alice, bob] = [await t.userToken(), await t.userToken()];
      const producer = await t.producerToken();
      const subA = subscribeOver(transport, t.baseUrl, alice.token, INBOX_EVENTS);
      const subB = subscribeOver(transport, t.baseUrl, bob.token, INBOX_EVENTS);
      try {
        await waitForSubscriber(t.app, alice.sub);
        await waitForSubscriber(t.app, bob.sub);
        const forBob = await sendFor(producer.token, [bob.sub], 'for bob only');
        dataOf(await t.gql(bob.token, 'mutation($i: [ID!]!) { markRead(input: { ids: $i }) { count } }', { i: [forBob] }));
        const forAlice = await sendFor(producer.token, [alice.sub], 'for alice only');
        const both = await sendFor(producer.token, [alice.sub, bob.sub], 'for both');

        const a = (await subA.results.take(4)).map((r) => payload(r, 'inboxEvents'));
        const b = (await subB.results.take(5)).map((r) => payload(r, 'inboxEvents'));
        expect(a.map((e) => [e.signal, e.messageIds])).toEqual([
          ['ARCHIVE_STORED', [forAlice]],
          ['INBOX_STORED', [forAlice]],
          ['ARCHIVE_STORED', [both]],
          ['INBOX_STORED', [both]],
        ]);
        expect(b.map((e) => [e.signal, e.messageIds])).toEqual([
          ['ARCHIVE_STORED', [forBob]],
          ['INBOX_STORED', [forBob]],
          ['INBOX_DELETED', [forBob]],
          ['ARCHIVE_STORED', [both]],
          ['INBOX_STORED', [both]],
        ]);
        expect(subA.results.untaken).toEqual([]);
      } finally {
        subA.close();
        subB.close();
      }
    });

    it('fires nothing for a change that was refused or rolled back', async () => {
      const user = await t.userToken();
      const producer = await t.producerToken();
      const sub = subscribeOver(transport, t.baseUrl, user.token, INBOX_EVENTS);
      try {
        await waitForSubscriber(t.app, user.sub);
        expect(errorCode(await t.gql(producer.token, SEND_FOR, { u: [user.sub], t: '' }))).toBe('BAD_USER_INPUT');
        const first = await sendFor(producer.token, [user.sub], 'once', 'key-1');
        // Same key, other input: the transaction that claimed the key rolls back.
        expect(errorCode(await t.gql(producer.token, SEND_FOR, { u: [user.sub], t: 'other', k: 'key-1' }))).toBe('BAD_USER_INPUT');
        // Same key, same input: the first result again, nothing new stored, so no signal.
        expect(await sendFor(producer.token, [user.sub], 'once', 'key-1')).toBe(first);
        expect(errorCode(await t.gql(user.token, 'mutation($i: [ID!]!) { markRead(input: { ids: $i }) { count } }', { i: ['bm90LWFuLWlk'] }))).toBe('BAD_USER_INPUT');
        const marker = await sendFor(producer.token, [user.sub], 'marker');

        const events = (await sub.results.take(4)).map((r) => payload(r, 'inboxEvents'));
        expect(events.map((e) => [e.signal, e.messageIds])).toEqual([
          ['ARCHIVE_STORED', [first]],
          ['INBOX_STORED', [first]],
          ['ARCHIVE_STORED', [marker]],
          ['INBOX_STORED', [marker]],
        ]);
      } finally {
        sub.close();
      }
    });

    it('refuses a malformed cursor with BAD_USER_INPUT', async () => {
      const user = await t.userToken();
      for (const after of ['not a cursor', Buffer.from('ev1:1:2-0').toString('base64url'), Buffer.from('c:42').toString('base64url')]) {
        const sub = subscribeOver(transport, t.baseUrl, user.token, INBOX_EVENTS, { after });
        try {
          const [result] = await sub.results.take(1);
          expect(result.data ?? null).toBeNull();
          expect(errorCode(result)).toBe('BAD_USER_INPUT');
          await sub.results.ended();
        } finally {
          sub.close();
        }
      }
    });

    it('refuses a wrongly typed variable with BAD_USER_INPUT naming it, as queries do', async () => {
      const user = await t.userToken();
      const sub = subscribeOver(transport, t.baseUrl, user.token, INBOX_EVENTS, { after: 42 });
      try {
        const [result] = await sub.results.take(1);
        expect(result.data ?? null).toBeNull();
        expect(errorCode(result)).toBe('BAD_USER_INPUT');
        // graphql-js' wording (graphql-jit's adds "Expected type String;"), with the field named.
        expect(result.errors?.[0]?.message).toBe('Variable "$after" got invalid value 42; String cannot represent a non string value: 42');
        expect(result.errors?.[0]?.extensions?.field).toBe('after');
        await sub.results.ended();
      } finally {
        sub.close();
      }
    });
  });

  it('gives broadcasts only to those they reach: a producer is not a user until it receives a message', async () => {
    const producer = await t.producerToken();
    const other = await t.producerToken();
    const sub = subscribeOver('ws', t.baseUrl, producer.token, MESSAGE_ADDED);
    try {
      await waitForSubscriber(t.app, producer.sub);
      await broadcast(other.token, 'not for the producer');
      const direct = await sendFor(other.token, [producer.sub], 'now the producer is a user');
      const later = await broadcast(other.token, 'for every user, the producer too');
      const got = (await sub.results.take(2)).map((r) => payload(r, 'messageAdded'));
      expect(got.map((m) => [m.id, m.text])).toEqual([
        [direct, 'now the producer is a user'],
        [later, 'for every user, the producer too'],
      ]);
    } finally {
      sub.close();
    }
  });

  it('gives an SSE subscription without a valid token an UNAUTHENTICATED result and no events', async () => {
    for (const token of [null, 'not-a-jwt']) {
      const sub = sseSubscribe(t.baseUrl, token, INBOX_EVENTS);
      try {
        const [result] = await sub.results.take(1);
        expect(result.data ?? null).toBeNull();
        expect(errorCode(result)).toBe('UNAUTHENTICATED');
        await sub.results.ended();
        expect(sub.results.items).toHaveLength(1);
      } finally {
        sub.close();
      }
    }
  });
});

describe('subscriptions on the embedded database', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('embedded');
  });
  afterAll(async () => t?.close());

  it('delivers inboxEvents over WebSocket', async () => {
    const user = await t.userToken();
    const producer = await t.producerToken();
    const sub = subscribeOver('ws', t.baseUrl, user.token, INBOX_EVENTS);
    try {
      await waitForSubscriber(t.app, user.sub);
      const id = dataOf(await t.gql(producer.token, SEND_FOR, { u: [user.sub], t: 'hello' })).addMessageFor.message.id;
      const events = (await sub.results.take(2)).map((r) => payload(r, 'inboxEvents'));
      expect(events.map((e) => [e.signal, e.message.id, e.message.text, e.unreadCount])).toEqual([
        ['ARCHIVE_STORED', id, 'hello', 1],
        ['INBOX_STORED', id, 'hello', 1],
      ]);
    } finally {
      sub.close();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataOf, startTestApp, type TestApp } from '../harness.js';
import { dropRedisPrefix, INBOX_EVENTS, liveEnv, payload, PUBSUB_MODES, subscribeOver, waitForNoSubscriber, waitForSubscriber } from './helpers.js';
import { sleep } from '../support.js';

const SEND_FOR = 'mutation($u: [ID!]!, $t: String!) { addMessageFor(input: { userIds: $u, level: STORED_INFO, text: $t }) { message { id } } }';
const BROADCAST = 'mutation($t: String!) { broadcastMessage(input: { level: STORED_INFO, text: $t }) { message { id } } }';
const KEEP = 8;

type Event = { signal: string; messageIds: string[]; unreadCount: number; cursor: string; message: { id: string } | null };
const brief = (events: Event[]) => events.map((e) => [e.signal, e.messageIds, e.unreadCount]);

describe.each(PUBSUB_MODES)('resumable inboxEvents with %s pub/sub', (mode) => {
  let t: TestApp;
  let prefix: string;
  beforeAll(async () => {
    const live = liveEnv(mode, { EVENTS_KEEP: String(KEEP) });
    prefix = live.prefix;
    t = await startTestApp('postgres', live.env);
  });
  afterAll(async () => {
    await t?.close();
    await dropRedisPrefix(prefix);
  });

  const sendFor = async (producer: string, user: string, text: string) =>
    dataOf(await t.gql(producer, SEND_FOR, { u: [user], t: text })).addMessageFor.message.id as string;

  /** Subscribes, waits until the server serves it, and returns the subscription. */
  const subscribe = async (transport: 'ws' | 'sse', user: { sub: string; token: string }, after?: string) => {
    const sub = subscribeOver(transport, t.baseUrl, user.token, INBOX_EVENTS, after ? { after } : undefined);
    await waitForSubscriber(t.app, user.sub);
    return sub;
  };
  const events = async (sub: ReturnType<typeof subscribeOver>, n: number) => (await sub.results.take(n)).map((r) => payload<Event>(r, 'inboxEvents'));
  const disconnect = async (sub: ReturnType<typeof subscribeOver>, userId: string) => {
    sub.close();
    await waitForNoSubscriber(t.app, userId);
  };

  it.each([
    ['ws', 'sse'],
    ['sse', 'ws'],
  ] as const)('replays exactly the missed events (%s, then %s), then continues live', async (first, second) => {
    const user = await t.userToken();
    const producer = await t.producerToken();
    const before = await subscribe(first, user);
    const m1 = await sendFor(producer.token, user.sub, 'seen live');
    const seen = await events(before, 2);
    await disconnect(before, user.sub);

    // Missed while away: a message, a broadcast (kept once, in the shared broadcast log), a read, a message.
    const m2 = await sendFor(producer.token, user.sub, 'missed 1');
    const b1 = dataOf(await t.gql(producer.token, BROADCAST, { t: 'missed broadcast' })).broadcastMessage.message.id as string;
    dataOf(await t.gql(user.token, 'mutation($i: [ID!]!) { markRead(input: { ids: $i }) { count } }', { i: [m1] }));
    const m3 = await sendFor(producer.token, user.sub, 'missed 2');

    const after = await subscribe(second, user, seen[1].cursor);
    try {
      const replayed = await events(after, 7);
      expect(brief(replayed)).toEqual([
        ['ARCHIVE_STORED', [m2], 2],
        ['INBOX_STORED', [m2], 2],
        // A broadcast's count is resolved when it reaches the subscriber (here: after everything above).
        ['ARCHIVE_STORED', [b1], 3],
        ['INBOX_STORED', [b1], 3],
        ['INBOX_DELETED', [m1], 2],
        ['ARCHIVE_STORED', [m3], 3],
        ['INBOX_STORED', [m3], 3],
      ]);
      expect(replayed.map((e) => e.message?.id ?? null)).toEqual([m2, m2, b1, b1, null, m3, m3]);

      const m4 = await sendFor(producer.token, user.sub, 'live again');
      expect(brief(await events(after, 2))).toEqual([
        ['ARCHIVE_STORED', [m4], 4],
        ['INBOX_STORED', [m4], 4],
      ]);
      expect(after.results.untaken).toEqual([]);
      const cursors = [...seen, ...replayed].map((e) => e.cursor);
      expect(new Set(cursors).size).toBe(cursors.length);
    } finally {
      after.close();
    }
  });

  it('replays from inboxCursor: what was committed after the query, nothing before it, broadcasts included', async () => {
    const user = await t.userToken();
    const producer = await t.producerToken();
    // An event logged before the cursor is read (seen live, so it is in the log by then).
    const live = await subscribe('ws', user);
    await sendFor(producer.token, user.sub, 'before');
    await events(live, 2);
    await disconnect(live, user.sub);

    const cursor = dataOf(await t.gql(user.token, '{ inboxCursor }')).inboxCursor as string;
    const m1 = await sendFor(producer.token, user.sub, 'after the cursor');
    const b1 = dataOf(await t.gql(producer.token, BROADCAST, { t: 'broadcast after the cursor' })).broadcastMessage.message.id as string;

    const after = await subscribe('sse', user, cursor);
    try {
      expect(brief(await events(after, 4))).toEqual([
        ['ARCHIVE_STORED', [m1], 2],
        ['INBOX_STORED', [m1], 2],
        ['ARCHIVE_STORED', [b1], 3],
        ['INBOX_STORED', [b1], 3],
      ]);
      expect(after.results.untaken).toEqual([]);
    } finally {
      after.close();
    }
  });

  it('gives a user who never called before a cursor that replays the broadcasts sent after it', async () => {
    const user = await t.userToken();
    const producer = await t.producerToken();
    const cursor = dataOf(await t.gql(user.token, '{ inboxCursor }')).inboxCursor as string;
    const b1 = dataOf(await t.gql(producer.token, BROADCAST, { t: 'first words' })).broadcastMessage.message.id as string;
    const after = await subscribe('ws', user, cursor);
    try {
      expect(brief(await events(after, 2))).toEqual([
        ['ARCHIVE_STORED', [b1], 1],
        ['INBOX_STORED', [b1], 1],
      ]);
    } finally {
      after.close();
    }
  });

  it('resumes from the last cursor with nothing missed without replaying anything', async () => {
    const user = await t.userToken();
    const producer = await t.producerToken();
    const before = await subscribe('ws', user);
    await sendFor(producer.token, user.sub, 'one');
    const [, last] = await events(before, 2);
    await disconnect(before, user.sub);

    const after = await subscribe('ws', user, last.cursor);
    try {
      const m2 = await sendFor(producer.token, user.sub, 'two');
      expect(brief(await events(after, 2))).toEqual([
        ['ARCHIVE_STORED', [m2], 2],
        ['INBOX_STORED', [m2], 2],
      ]);
    } finally {
      after.close();
    }
  });

  it('sends exactly one RESYNC when the missed events are no longer kept, then continues live', async () => {
    const user = await t.userToken();
    const producer = await t.producerToken();
    const before = await subscribe('ws', user);
    await sendFor(producer.token, user.sub, 'seen');
    const [, last] = await events(before, 2);
    await disconnect(before, user.sub);

    // 2 events per message: 5 messages are 10 events, more than EVENTS_KEEP = 8.
    for (let i = 0; i < 5; i++) await sendFor(producer.token, user.sub, `missed ${i}`);

    const after = await subscribe('sse', user, last.cursor);
    try {
      const [resync] = await events(after, 1);
      expect(resync).toMatchObject({ signal: 'RESYNC', messageIds: [], unreadCount: 6, message: null });
      const m = await sendFor(producer.token, user.sub, 'after the resync');
      expect(brief(await events(after, 2))).toEqual([
        ['ARCHIVE_STORED', [m], 7],
        ['INBOX_STORED', [m], 7],
      ]);
      expect(after.results.untaken).toEqual([]);
      await disconnect(after, user.sub);

      // The RESYNC's cursor is a valid place to resume from.
      const m2 = await sendFor(producer.token, user.sub, 'missed after the resync');
      const again = await subscribe('ws', user, resync.cursor);
      try {
        expect(brief(await events(again, 4))).toEqual([
          ['ARCHIVE_STORED', [m], 7],
          ['INBOX_STORED', [m], 7],
          ['ARCHIVE_STORED', [m2], 8],
          ['INBOX_STORED', [m2], 8],
        ]);
      } finally {
        again.close();
      }
    } finally {
      after.close();
    }
  });
});

describe.each(PUBSUB_MODES)('inboxEvents past EVENTS_TTL_SECONDS with %s pub/sub', (mode) => {
  let t: TestApp;
  let prefix: string;
  beforeAll(async () => {
    const live = liveEnv(mode, { EVENTS_TTL_SECONDS: '1' });
    prefix = live.prefix;
    t = await startTestApp('postgres', live.env);
  });
  afterAll(async () => {
    await t?.close();
    await dropRedisPrefix(prefix);
  });

  it('sends RESYNC for a cursor whose missed events are older than the TTL', async () => {
    const user = await t.userToken();
    const producer = await t.producerToken();
    const before = subscribeOver('ws', t.baseUrl, user.token, INBOX_EVENTS);
    await waitForSubscriber(t.app, user.sub);
    dataOf(await t.gql(producer.token, SEND_FOR, { u: [user.sub], t: 'seen' }));
    const [, last] = (await before.results.take(2)).map((r) => payload<Event>(r, 'inboxEvents'));
    before.close();
    await waitForNoSubscriber(t.app, user.sub);
    dataOf(await t.gql(producer.token, SEND_FOR, { u: [user.sub], t: 'missed, then too old' }));
    await sleep(2100);

    const after = subscribeOver('ws', t.baseUrl, user.token, INBOX_EVENTS, { after: last.cursor });
    try {
      const [resync] = (await after.results.take(1)).map((r) => payload<Event>(r, 'inboxEvents'));
      expect(resync).toMatchObject({ signal: 'RESYNC', messageIds: [], unreadCount: 2, message: null });
    } finally {
      after.close();
    }
  });
});

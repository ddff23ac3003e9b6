import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import WebSocket from 'ws';
import { CLOSE_TOKEN_INVALID, watchInbox, type InboxEvent, type InboxSignal } from '../../client/index.js';
import { newProducer, newUser, sendTo, type Caller } from '../factories.js';
import { sleep, waitFor } from '../support.js';
import { startTestApp, type TestApp } from '../harness.js';
import { Arrivals, waitForNoSubscriber, waitForSubscriber } from '../live/helpers.js';
import { cuttablePath, summary, watch, type CuttablePath } from './helpers.js';

/**
 * watchInbox against a real server, over a real network path the test can cut. Transport-level code:
 * one storage backend is enough. EVENTS_KEEP = 6 keeps three messages' events (two each) for replay.
 */
describe('watchInbox', () => {
  let t: TestApp;
  let producer: Caller;
  beforeAll(async () => {
    t = await startTestApp('postgres', { EVENTS_KEEP: '6' });
    producer = await newProducer(t);
  });
  afterAll(async () => t?.close());

  const stored = (text: string) => [`ARCHIVE_STORED ${text}`, `INBOX_STORED ${text}`];

  it('delivers typed events in order, and stops when asked', async () => {
    const user = await newUser(t);
    const w = watch(t.baseUrl, async () => user.token);
    try {
      await waitForSubscriber(t.app, user.sub);
      await sendTo(producer, user.sub, { text: 'first' });
      const events = await w.events.take(2);
      expect(summary(events)).toEqual(stored('first'));
      expectTypeOf(events[0]).toEqualTypeOf<InboxEvent>();
      expectTypeOf(events[0].signal).toEqualTypeOf<InboxSignal>();
      expect(events[1]).toMatchObject({ unreadCount: 1, message: { text: 'first', read: false, level: 'STORED_INFO' } });
    } finally {
      w.stop();
    }
    await waitForNoSubscriber(t.app, user.sub);
    await sendTo(producer, user.sub, { text: 'after stop' });
    expect(w.events.untaken).toEqual([]);
    expect(w.errors).toEqual([]);
  });

  /** Cuts the path under a running watch, sends two messages meanwhile, restores it: all four events come back. */
  async function sendAcrossACut(path: CuttablePath, user: Caller, events: Arrivals<InboxEvent>) {
    await waitForSubscriber(t.app, user.sub);
    await sendTo(producer, user.sub, { text: 'before' });
    await events.take(2);
    path.cut();
    await waitForNoSubscriber(t.app, user.sub);
    await sendTo(producer, user.sub, { text: 'during 1' });
    await sendTo(producer, user.sub, { text: 'during 2' });
    path.restore();
    expect(summary(await events.take(4, 45_000))).toEqual([...stored('during 1'), ...stored('during 2')]);
  }

  it('resumes after a dropped connection with no event lost or repeated', async () => {
    const user = await newUser(t);
    const path = await cuttablePath(t.baseUrl);
    const w = watch(path.baseUrl, async () => user.token);
    try {
      await sendAcrossACut(path, user, w.events);
      await sendTo(producer, user.sub, { text: 'after' });
      expect(summary(await w.events.take(2))).toEqual(stored('after'));
      const cursors = w.events.items.map((e) => e.cursor);
      expect(new Set(cursors).size).toBe(8);
      expect(w.events.items.at(-1)?.unreadCount).toBe(4);
      expect(w.resyncs.items).toEqual([]);
      expect(w.errors).toEqual([]);
    } finally {
      w.stop();
      await path.close();
    }
  });

  it('resumes from the cursor through the retries of your own graphql-ws client too', async () => {
    const user = await newUser(t);
    const path = await cuttablePath(t.baseUrl);
    const client = createClient({
      url: `${path.baseUrl.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: async () => ({ authorization: `Bearer ${user.token}` }),
    });
    const events = new Arrivals<InboxEvent>();
    const stop = watchInbox({ client, onEvent: (event) => events.push(event) });
    try {
      await sendAcrossACut(path, user, events);
      expect(events.untaken).toEqual([]);
    } finally {
      stop();
      await client.dispose();
      await path.close();
    }
  });

  it('gets a fresh token when the server closes with 4401, and continues from its cursor', async () => {
    const user = await newUser(t);
    // The first token expires in 3 s. The second is handed out only once the test has sent a message
    // while the socket was closed, so that message can only come back through the cursor.
    let renewing: () => void = () => {};
    const sentMeanwhile = new Promise<void>((resolve) => (renewing = resolve));
    let asked = 0;
    const w = watch(t.baseUrl, async (n) => {
      asked = n + 1;
      if (n > 0) await sentMeanwhile;
      return (await t.userToken(user.sub, { expiresIn: n === 0 ? '3s' : '1h' })).token;
    });
    try {
      await waitForSubscriber(t.app, user.sub);
      await sendTo(producer, user.sub, { text: 'old token' });
      expect(summary(await w.events.take(2))).toEqual(stored('old token'));
      await waitFor(async () => asked === 2, { timeoutMs: 30_000, everyMs: 25 }); // the 4401 close, then the reconnect's getToken
      await sendTo(producer, user.sub, { text: 'while renewing' });
      renewing();
      expect(summary(await w.events.take(2))).toEqual(stored('while renewing'));
      await sendTo(producer, user.sub, { text: 'new token' });
      expect(summary(await w.events.take(2))).toEqual(stored('new token'));
      expect(w.tokens).toHaveLength(2);
      expect(w.events.untaken).toEqual([]);
      expect(w.errors).toEqual([]);
    } finally {
      w.stop();
    }
  });

  it('calls onResync when the missed events are no longer kept, then continues live', async () => {
    const user = await newUser(t);
    const path = await cuttablePath(t.baseUrl);
    const w = watch(path.baseUrl, async () => user.token);
    try {
      await waitForSubscriber(t.app, user.sub);
      await sendTo(producer, user.sub, { text: 'seen' });
      await w.events.take(2);
      path.cut();
      await waitForNoSubscriber(t.app, user.sub);
      // Four messages are eight events: more than the six kept.
      for (const n of [1, 2, 3, 4]) await sendTo(producer, user.sub, { text: `missed ${n}` });
      path.restore();
      const resync = await w.resyncs.next(45_000);
      expect(resync).toMatchObject({ signal: 'RESYNC', messageIds: [], unreadCount: 5, message: null });
      await sendTo(producer, user.sub, { text: 'live again' });
      expect(summary(await w.events.take(2))).toEqual(stored('live again'));
      expect(w.resyncs.items).toHaveLength(1);
      expect(w.errors).toEqual([]);
    } finally {
      w.stop();
      await path.close();
    }
  });

  it('resumes from a stored cursor given as `after`', async () => {
    const user = await newUser(t);
    const first = watch(t.baseUrl, async () => user.token);
    await waitForSubscriber(t.app, user.sub);
    await sendTo(producer, user.sub, { text: 'one' });
    const [, last] = await first.events.take(2);
    first.stop();
    await waitForNoSubscriber(t.app, user.sub);
    await sendTo(producer, user.sub, { text: 'two' });
    const second = watch(t.baseUrl, async () => user.token, { after: last.cursor });
    try {
      expect(summary(await second.events.take(2))).toEqual(stored('two'));
    } finally {
      second.stop();
    }
  });

  it('ends with onError when the token is refused (4403), without retrying', async () => {
    const w = watch(t.baseUrl, async () => 'not-a-jwt');
    await waitFor(async () => w.errors.length > 0, { timeoutMs: 15_000, everyMs: 25 });
    expect(w.errors).toEqual([expect.objectContaining({ code: CLOSE_TOKEN_INVALID })]);
    await sleep(2_500);
    expect(w.tokens).toHaveLength(1);
    w.stop();
  });

  it('ends with onError carrying the GraphQL errors when the server refuses the cursor', async () => {
    const user = await newUser(t);
    const w = watch(t.baseUrl, async () => user.token, { after: 'not-a-cursor' });
    await waitFor(async () => w.errors.length > 0, { timeoutMs: 15_000, everyMs: 25 });
    expect(w.errors).toEqual([[expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) })]]);
    expect(w.events.items).toEqual([]);
    w.stop();
  });
});

/** A rate budget of 3 a minute: one token every 20 s, so a drained budget stays drained while the watch starts. */
describe('watchInbox under a rate limit', () => {
  let t: TestApp;
  let producer: Caller;
  beforeAll(async () => {
    t = await startTestApp('postgres', { RATE_LIMIT_USER_PER_MINUTE: '3' });
    producer = await newProducer(t);
  });
  afterAll(async () => t?.close());

  it('waits out a RATE_LIMITED refusal for its retryAfterSeconds, then subscribes and delivers', async () => {
    const user = await newUser(t);
    const refusals: unknown[] = [];
    /** The `ws` socket, noting every graphql-ws `error` message the server sends. */
    class Spy extends WebSocket {
      constructor(...args: ConstructorParameters<typeof WebSocket>) {
        super(...args);
        this.on('message', (data) => {
          const m = JSON.parse(String(data)) as { type: string; payload?: unknown };
          if (m.type === 'error') refusals.push(m.payload);
        });
      }
    }
    for (let i = 0; i < 3; i++) await user.q('{ unreadCount }');
    expect((await user.raw('{ unreadCount }')).errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'RATE_LIMITED' }) })]);
    const events = new Arrivals<InboxEvent>();
    const errors: unknown[] = [];
    const stop = watchInbox({ url: `${t.baseUrl}/graphql`, webSocketImpl: Spy, getToken: () => user.token, onEvent: (e) => events.push(e), onError: (e) => errors.push(e) });
    try {
      await waitFor(async () => refusals.length > 0, { timeoutMs: 10_000, what: 'the subscription refused' });
      expect(refusals[0]).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) }) })]);
      await waitForSubscriber(t.app, user.sub, 1, 40_000);
      await sendTo(producer, user.sub, { text: 'after the wait' });
      expect(summary(await events.take(2))).toEqual(['ARCHIVE_STORED after the wait', 'INBOX_STORED after the wait']);
      expect(errors).toEqual([]);
    } finally {
      stop();
    }
  });
});

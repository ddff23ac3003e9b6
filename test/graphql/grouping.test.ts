import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markRead, newProducer, newUser, unreadCount, type Caller } from '../factories.js';
import { startTestApp, type TestApp } from '../harness.js';
import { dropRedisPrefix, liveEnv, PUBSUB_SETUPS } from '../live/helpers.js';
import { addOwn, eventsOf, messagesOf, sendFor, takeEvents, type Event } from './categories-helpers.js';
import { archiveIds, isoDaysAhead, snooze } from './inbox-states-helpers.js';

/** What a client acts on: the signal, the ids, the unread count, and the message's groupCount. */
const brief = (events: Event[]) => events.map((e) => [e.signal, e.messageIds, e.unreadCount, e.message?.groupCount ?? null]);

/** CONTRACT.md §9's grouping through GraphQL, both transports and both pub/subs: a repeat supersedes the unread one of its group. */
describe.each(PUBSUB_SETUPS)('grouping with %s pub/sub on %s storage', (mode, backend) => {
  let t: TestApp;
  let prefix: string;
  let p: Caller;
  beforeAll(async () => {
    const live = liveEnv(mode);
    prefix = live.prefix;
    t = await startTestApp(backend, live.env);
    p = await newProducer(t);
  });
  afterAll(async () => {
    await t?.close();
    await dropRedisPrefix(prefix);
  });

  it('a repeat fires INBOX_DELETED of the unread one, then the new one with groupCount + 1, over WebSocket and SSE', async () => {
    const u = await newUser(t);
    const [ws, sse] = [await eventsOf(t, u, 'ws'), await eventsOf(t, u, 'sse', 2)];
    try {
      const first = await sendFor(p, [u], { groupKey: 'pr:42', text: '1 new comment on #42' });
      const second = await sendFor(p, [u], { groupKey: 'pr:42', text: '2 new comments on #42' });
      expect([first.message.groupCount, second.message.groupCount]).toEqual([1, 2]);
      const [g1, g2] = [first.message.id, second.message.id];
      for (const sub of [ws, sse]) {
        expect(brief(await takeEvents(sub, 5))).toEqual([
          ['ARCHIVE_STORED', [g1], 1, 1],
          ['INBOX_STORED', [g1], 1, 1],
          ['INBOX_DELETED', [g1], 1, null],
          ['ARCHIVE_STORED', [g2], 1, 2],
          ['INBOX_STORED', [g2], 1, 2],
        ]);
      }
      expect((await messagesOf(u)).map((m) => [m.id, m.read, m.groupKey, m.groupCount])).toEqual([
        [g2, false, 'pr:42', 2],
        [g1, true, 'pr:42', 1],
      ]);
      expect(await unreadCount(u)).toBe(1);
    } finally {
      ws.close();
      sse.close();
    }
  });

  it('a read, archived or snoozed message of the group is not superseded: the next one starts at 1', async () => {
    const u = await newUser(t);
    const send = async (groupKey: string) => (await sendFor(p, [u], { groupKey })).message;
    await markRead(u, [(await send('read')).id]);
    await archiveIds(u, [(await send('archived')).id]);
    await snooze(u, [(await send('snoozed')).id], isoDaysAhead(1));
    await send('other');
    for (const key of ['read', 'archived', 'snoozed']) expect([key, (await send(key)).groupCount]).toEqual([key, 1]);
    expect((await send('other')).groupCount).toBe(2);
    expect(await unreadCount(u)).toBe(4);
  });

  it("each recipient counts on from their own unread one; the producer's payload shows a lone recipient's count; addMessage groups too", async () => {
    const [u, v] = [await newUser(t), await newUser(t)];
    await sendFor(p, [u], { groupKey: 'digest' });
    const both = await sendFor(p, [u, v], { groupKey: 'digest', text: 'both' });
    expect(both.recipientCount).toBe(2);
    const seenBy = async (c: Caller) => (await messagesOf(c)).find((m) => m.text === 'both')?.groupCount;
    expect([await seenBy(u), await seenBy(v)]).toEqual([2, 1]);
    expect((await sendFor(p, [u], { groupKey: 'digest' })).message.groupCount).toBe(3);

    const own = [await addOwn(u, { groupKey: 'mine' }), await addOwn(u, { groupKey: 'mine' })];
    expect(own.map((r) => [r.stored, r.message.groupCount, r.message.groupKey])).toEqual([[true, 1, 'mine'], [true, 2, 'mine']]);
    expect(await unreadCount(u)).toBe(2);
  });
});

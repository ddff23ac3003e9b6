import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { broadcast, knownUser, markAllRead, markUnread, newProducer, newUser, sendTo, type Caller } from '../factories.js';
import { startTestApp, type TestApp } from '../harness.js';
import { sendFor } from '../graphql/categories-helpers.js';
import { archiveAll, archiveIds, cutOff, isoDaysAhead, markAllSeen, markSeen, snooze, stateRaw, unarchive, unsnooze } from '../graphql/inbox-states-helpers.js';
import { dropRedisPrefix, liveEnv, payload, PUBSUB_SETUPS, subscribeOver, waitForNoSubscriber, waitForSubscriber } from './helpers.js';

const EVENTS = `subscription($after: String) {
  inboxEvents(after: $after) { signal messageIds unreadCount unseenCount until category cursor message { id read seen archived snoozedUntil } }
}`;

interface Event {
  signal: string;
  messageIds: string[];
  unreadCount: number;
  unseenCount: number;
  until: string | null;
  category: string | null;
  cursor: string;
  message: { id: string; read: boolean; seen: boolean; archived: boolean; snoozedUntil: string | null } | null;
}
type Sub = ReturnType<typeof subscribeOver>;

/** What a client acts on: the signal, the ids, both counts, the cut-off, and the message's id. */
const brief = (events: Event[]) => events.map((e) => [e.signal, e.messageIds, e.unreadCount, e.unseenCount, e.until, e.message?.id ?? null]);

/** Each inbox-state operation fires its one event, live and replayed, over both transports and both pub/subs. */
describe.each(PUBSUB_SETUPS)('inbox-state events with %s pub/sub on %s storage', (mode, backend) => {
  let t: TestApp;
  let prefix: string;
  let p: Caller;
  beforeAll(async () => {
    const live = liveEnv(mode, { EVENTS_KEEP: '20' });
    prefix = live.prefix;
    t = await startTestApp(backend, live.env);
    p = await newProducer(t);
  });
  afterAll(async () => {
    await t?.close();
    await dropRedisPrefix(prefix);
  });

  const subscribe = async (transport: 'ws' | 'sse', u: Caller, after?: string) => {
    const sub = subscribeOver(transport, t.baseUrl, u.token, EVENTS, after ? { after } : undefined);
    await waitForSubscriber(t.app, u.sub);
    return sub;
  };
  const events = async (sub: Sub, n: number) => (await sub.results.take(n)).map((r) => payload<Event>(r, 'inboxEvents'));
  const send = async (u: Caller, text: string) => (await sendTo(p, u.sub, { text })).message.id;

  it.each([
    ['ws', 'sse'],
    ['sse', 'ws'],
  ] as const)('each operation fires one event with both counts (%s), replayed after a reconnect (%s)', async (first, second) => {
    const u = await newUser(t);
    const live = await subscribe(first, u);
    const [m1, m2, m3] = [await send(u, 'one'), await send(u, 'two'), await send(u, 'three')];
    await markSeen(u, [m1]);
    const seenUpTo = await cutOff();
    await markAllSeen(u, seenUpTo);
    await archiveIds(u, [m2]);
    await unarchive(u, [m2]);
    await snooze(u, [m3], isoDaysAhead(1));
    await unsnooze(u, [m3]);
    const archivedUpTo = await cutOff();
    await archiveAll(u, { until: archivedUpTo });
    await markUnread(u, [m1]);
    await markAllRead(u);
    // Calls that change nothing fire nothing: the next events are m4's.
    await markSeen(u, [m1]);
    await archiveIds(u, [m2]);
    await unsnooze(u, [m2]);
    await markAllSeen(u);
    const m4 = await send(u, 'four');

    const got = await events(live, 17);
    const purged = got[14].until;
    expect(brief(got)).toEqual([
      ['ARCHIVE_STORED', [m1], 1, 1, null, m1],
      ['INBOX_STORED', [m1], 1, 1, null, m1],
      ['ARCHIVE_STORED', [m2], 2, 2, null, m2],
      ['INBOX_STORED', [m2], 2, 2, null, m2],
      ['ARCHIVE_STORED', [m3], 3, 3, null, m3],
      ['INBOX_STORED', [m3], 3, 3, null, m3],
      ['INBOX_SEEN', [m1], 3, 2, null, null],
      ['INBOX_SEEN', [], 3, 0, seenUpTo, null],
      ['INBOX_ARCHIVED', [m2], 2, 0, null, null],
      ['INBOX_UNARCHIVED', [m2], 2, 0, null, null],
      ['INBOX_SNOOZED', [m3], 1, 0, null, null],
      ['INBOX_STORED', [m3], 2, 1, null, m3],
      ['INBOX_ARCHIVED', [], 0, 0, archivedUpTo, null],
      ['INBOX_STORED', [m1], 1, 0, null, m1],
      ['INBOX_PURGED', [], 0, 0, purged, null],
      ['ARCHIVE_STORED', [m4], 1, 1, null, m4],
      ['INBOX_STORED', [m4], 1, 1, null, m4],
    ]);
    expect(Date.parse(purged!)).toBeGreaterThan(Date.parse(archivedUpTo));
    expect(got[11].message).toEqual({ id: m3, read: false, seen: false, archived: false, snoozedUntil: null });
    expect(got.every((e) => e.category === null)).toBe(true);
    live.close();
    await waitForNoSubscriber(t.app, u.sub);

    // Everything after the first event, exactly as it came live: counts, cut-offs, messages, cursors.
    const replay = await subscribe(second, u, got[0].cursor);
    try {
      expect(await events(replay, 16)).toEqual(got.slice(1));
      expect(replay.results.untaken).toEqual([]);
    } finally {
      replay.close();
    }
  });

  it('the "all" operations limited to a category carry it, live over WebSocket and replayed over SSE', async () => {
    const u = await newUser(t);
    const live = await subscribe('ws', u);
    const [b, s] = [(await sendFor(p, [u], { category: 'billing' })).message.id, (await sendFor(p, [u], { category: 'social' })).message.id];
    await stateRaw(u, 'markAllSeen', { category: 'social' });
    await u.q('mutation { markAllRead(input: { category: "billing" }) { count } }');
    await archiveAll(u, { category: 'billing' });
    const got = await events(live, 7);
    expect(got.map((e) => [e.signal, e.message?.id ?? null, e.unreadCount, e.unseenCount, e.category])).toEqual([
      ['ARCHIVE_STORED', b, 1, 1, null],
      ['INBOX_STORED', b, 1, 1, null],
      ['ARCHIVE_STORED', s, 2, 2, null],
      ['INBOX_STORED', s, 2, 2, null],
      ['INBOX_SEEN', null, 2, 1, 'social'],
      ['INBOX_PURGED', null, 1, 0, 'billing'],
      ['INBOX_ARCHIVED', null, 1, 0, 'billing'],
    ]);
    live.close();
    await waitForNoSubscriber(t.app, u.sub);
    const replay = await subscribe('sse', u, got[0].cursor);
    try {
      expect(await events(replay, 6)).toEqual(got.slice(1));
    } finally {
      replay.close();
    }
  });

  it("a broadcast's events carry each subscriber's own unread and unseen counts", async () => {
    const [a, b] = [await knownUser(t), await knownUser(t)];
    await markSeen(a, [await send(a, 'seen before')]);
    const [subA, subB] = [await subscribe('ws', a), await subscribe('sse', b)];
    try {
      const id = (await broadcast(p, { text: 'to all' })).message.id;
      expect(brief(await events(subA, 2))).toEqual([
        ['ARCHIVE_STORED', [id], 2, 1, null, id],
        ['INBOX_STORED', [id], 2, 1, null, id],
      ]);
      expect(brief(await events(subB, 2))).toEqual([
        ['ARCHIVE_STORED', [id], 1, 1, null, id],
        ['INBOX_STORED', [id], 1, 1, null, id],
      ]);
    } finally {
      subA.close();
      subB.close();
    }
  });

  it('a RESYNC carries the unseen count too', async () => {
    const u = await newUser(t);
    const before = await subscribe('ws', u);
    await send(u, 'seen live');
    const [, last] = await events(before, 2);
    before.close();
    await waitForNoSubscriber(t.app, u.sub);
    // 11 messages are 22 events, more than EVENTS_KEEP = 20.
    const missed: string[] = [];
    for (let i = 0; i < 11; i++) missed.push(await send(u, `missed ${i}`));
    await markSeen(u, missed.slice(0, 3));

    const after = await subscribe('sse', u, last.cursor);
    try {
      expect(brief(await events(after, 1))).toEqual([['RESYNC', [], 12, 9, null, null]]);
    } finally {
      after.close();
    }
  });
});

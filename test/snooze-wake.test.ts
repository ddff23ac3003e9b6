import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserSignal } from '../src/domain/signals.js';
import { encodeMessageId } from '../src/graphql/ids.js';
import { BACKENDS, dataOf, startTestApp, type TestApp } from './harness.js';
import { subscribeOver, waitForSubscriber } from './live/helpers.js';
import { eventsOf, send, snooze, stateOf, storedIds, WAKE_EVENTS, waitWoken, type Person } from './snooze-wake-support.js';
import { inMs, producerToken, sleep, userToken } from './support.js';

/**
 * Snoozed messages wake up by themselves (domain/snooze-wake.ts, wired in app.ts) on every backend,
 * embedded included: one app, snoozing through GraphQL, watching the wake-ups through GraphQL and the
 * in-process signals. Several processes: snooze-wake-processes.test.ts.
 */

const ARCHIVE = 'mutation($i: [ID!]!) { archive(input: { ids: $i }) { count } }';
const UNSNOOZE = 'mutation($i: [ID!]!) { unsnooze(input: { ids: $i }) { count } }';
const DELETE = 'mutation($i: [ID!]!) { deleteMessages(input: { ids: $i }) { count } }';
const LIST = '{ messages(first: 20) { edges { node { id } } } }';

/** Each INBOX_STORED signal fired in the app, with the time it fired and its ids as GraphQL gives them. */
function recordStored(t: TestApp): { userId: string; ids: string[]; at: number; signal: UserSignal }[] {
  const seen: { userId: string; ids: string[]; at: number; signal: UserSignal }[] = [];
  t.app.signals.on((c) => {
    if (c.kind === 'user' && c.signal === 'INBOX_STORED') seen.push({ userId: c.userId, ids: c.messageIds.map((id) => encodeMessageId(id, true)), at: Date.now(), signal: c });
  });
  return seen;
}

describe.each(BACKENDS)('snooze wake-ups on %s', (backend) => {
  let t: TestApp;
  let producer: Person;
  let stored: ReturnType<typeof recordStored>;
  beforeAll(async () => {
    t = await startTestApp(backend);
    producer = await producerToken();
    stored = recordStored(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** The user's INBOX_STORED signals fired after the first `since` (taken after their sends) about any of `among`. */
  const storedFor = (userId: string, among: string[], since: number) => stored.slice(since).filter((s) => s.userId === userId && s.ids.some((id) => among.includes(id)));

  it('wakes a snoozed message at its time: unread, unseen, unarchived, in its place, with INBOX_STORED and the counts', async () => {
    const user = await userToken();
    const [m1, m2, m3] = [await send(t, producer, [user.sub], 'one'), await send(t, producer, [user.sub], 'two'), await send(t, producer, [user.sub], 'three')];
    dataOf(await t.gql(user.token, ARCHIVE, { i: [m2] }));
    const events = subscribeOver('ws', t.baseUrl, user.token, WAKE_EVENTS);
    try {
      await waitForSubscriber(t.app, user.sub);
      const since = stored.length;
      const until = inMs(1500);
      await snooze(t, user, [m2, m3], until);
      expect((await stateOf(t, user, m2)).counts).toEqual({ total: 1, unread: 1, unseen: 1, archived: 0, snoozed: 2 });

      await waitWoken(t, user, [m2, m3]);
      for (const id of [m2, m3]) expect((await stateOf(t, user, id)).message).toEqual({ id, read: false, seen: false, archived: false, snoozedUntil: null });
      expect((await stateOf(t, user, m1)).counts).toEqual({ total: 3, unread: 3, unseen: 3, archived: 0, snoozed: 0 });
      expect(dataOf(await t.gql(user.token, LIST)).messages.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([m3, m2, m1]);

      // One event for both (woken together) or one each; never early; the last carries the counts after.
      const mine = storedFor(user.sub, [m2, m3], since);
      expect(mine.flatMap((s) => s.ids).sort()).toEqual([m2, m3].sort());
      for (const s of mine) expect(s.at).toBeGreaterThanOrEqual(until.getTime());
      await events.results.take(1 + mine.length); // INBOX_SNOOZED, then the wake-ups
      const received = eventsOf(events).slice(1);
      expect(received.map((e) => e.signal)).toEqual(mine.map(() => 'INBOX_STORED'));
      expect(storedIds(received, [m2, m3]).sort()).toEqual([m2, m3].sort());
      for (const e of received) expect(e.message).toEqual({ id: e.messageIds.at(-1), read: false, seen: false, archived: false, snoozedUntil: null });
      expect([received.at(-1)!.unreadCount, received.at(-1)!.unseenCount]).toEqual([3, 3]);
    } finally {
      events.close();
    }
  });

  it("wakes each user's own copy, one signal per user, and leaves other recipients of a broadcast alone", async () => {
    const [a, b] = [await userToken(), await userToken()];
    for (const u of [a, b]) dataOf(await t.gql(u.token, '{ unreadCount }'));
    const broadcast = dataOf(await t.gql(producer.token, 'mutation { broadcastMessage(input: { level: STORED_INFO, text: "all" }) { message { id } } }')).broadcastMessage.message.id;
    const forA = await send(t, producer, [a.sub], 'for a');
    const forB = await send(t, producer, [b.sub], 'for b');
    const since = stored.length;
    const until = inMs(1500);
    await snooze(t, a, [broadcast, forA], until);
    await snooze(t, b, [forB], until);
    expect((await stateOf(t, b, broadcast)).message?.snoozedUntil).toBeNull();

    await waitWoken(t, a, [broadcast, forA]);
    await waitWoken(t, b, [forB]);
    expect(storedFor(a.sub, [broadcast, forA], since).flatMap((s) => s.ids).sort()).toEqual([broadcast, forA].sort());
    expect(storedFor(b.sub, [broadcast, forB], since).flatMap((s) => s.ids)).toEqual([forB]);
    expect((await stateOf(t, a, broadcast)).counts).toEqual({ total: 2, unread: 2, unseen: 2, archived: 0, snoozed: 0 });
  });

  it('does not wake what was unsnoozed, snoozed again for later, deleted or expired before its time', async () => {
    const user = await userToken();
    const ids = [];
    for (const text of ['unsnoozed', 'later', 'deleted']) ids.push(await send(t, producer, [user.sub], text));
    const expiring = await send(t, producer, [user.sub], 'expiring', inMs(1500));
    const [unsnoozed, later, deleted] = ids;
    const since = stored.length;
    const first = inMs(2500);
    await snooze(t, user, [...ids, expiring], first);
    dataOf(await t.gql(user.token, UNSNOOZE, { i: [unsnoozed] }));
    const second = inMs(4000);
    await snooze(t, user, [later], second);
    dataOf(await t.gql(user.token, DELETE, { i: [deleted] }));

    await waitWoken(t, user, [later]);
    // A few more rounds after the last time, so a late or second wake-up would have fired.
    await sleep(1500);
    const mine = storedFor(user.sub, [unsnoozed, later, deleted, expiring], since);
    expect(mine.flatMap((s) => s.ids).sort()).toEqual([unsnoozed, later].sort());
    expect(mine.find((s) => s.ids.includes(later))!.at).toBeGreaterThanOrEqual(second.getTime());
    expect((await stateOf(t, user, expiring)).message).toBeNull();
    expect((await stateOf(t, user, later)).counts).toEqual({ total: 2, unread: 2, unseen: 2, archived: 0, snoozed: 0 });
  });
});

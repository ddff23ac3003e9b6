import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addOwn, broadcast, knownUser, newProducer, newUser, sendTo, unknownId, type Caller } from '../factories.js';
import { BACKENDS, startTestApp, type TestApp } from '../harness.js';
import {
  archiveAll, archiveIds, countsOf, isoDaysAhead, listed, markAllSeen, markSeen, plainCounts, snooze, stateOf, stateRaw, unarchive, unsnooze, type StateMutation,
} from './inbox-states-helpers.js';

/** The inbox states are each recipient's own: other users' ids are notFound, and refused input changes nothing. */
describe.each(BACKENDS)('inbox states, isolation and bad input on %s', (backend) => {
  let t: TestApp;
  let p: Caller;
  beforeAll(async () => {
    t = await startTestApp(backend);
    p = await newProducer(t);
  });
  afterAll(async () => t?.close());

  const BY_IDS: [StateMutation, Record<string, unknown>][] = [
    ['markSeen', {}],
    ['archive', {}],
    ['unarchive', {}],
    ['snooze', { until: isoDaysAhead(1) }],
    ['unsnooze', {}],
  ];

  /** Everything the user's inbox shows: each message's states, the counts. */
  const snapshot = async (u: Caller, ids: string[]) => ({ counts: await countsOf(u), states: await Promise.all(ids.map((id) => stateOf(u, id))) });

  it("another user's, a flash, an unknown id: notFound for every operation, nothing changes for the owner", async () => {
    const [owner, other] = [await newUser(t), await newUser(t)];
    const mine = (await sendTo(p, owner.sub, { text: 'mine' })).message.id;
    await snooze(owner, [(await sendTo(p, owner.sub, { text: 'snoozed' })).message.id], isoDaysAhead(1));
    const flash = (await addOwn(other, { level: 'INFO' })).message.id;
    const before = await snapshot(owner, [mine]);
    for (const [name, extra] of BY_IDS) {
      const ids = [mine, flash, unknownId()];
      const r = await stateRaw(other, name, { ids, ...extra });
      expect([name, r.errors, r.data?.[name].count, r.data?.[name].notFound]).toEqual([name, undefined, 0, ids]);
    }
    expect(await snapshot(owner, [mine])).toEqual(before);
    expect(await countsOf(other)).toEqual(plainCounts(0));
  });

  it('one message to two users: its states are each recipient\'s own', async () => {
    const [a, b] = [await newUser(t), await newUser(t)];
    const shared = (await sendTo(p, [a.sub, b.sub], { text: 'shared' })).message.id;
    await archiveIds(a, [shared]);
    await markAllSeen(a);
    expect(await stateOf(b, shared)).toMatchObject({ seen: false, read: false, archived: false });
    await snooze(b, [shared], isoDaysAhead(1));
    expect(await listed(a)).toEqual({ ids: [shared], totalCount: 1 });
    expect(await countsOf(a)).toEqual({ total: 1, unread: 0, unseen: 0, archived: 1, snoozed: 0 });
    expect(await countsOf(b)).toEqual({ total: 0, unread: 0, unseen: 0, archived: 0, snoozed: 1 });
    await unarchive(a, [shared]);
    await unsnooze(b, [shared]);
    expect(await stateOf(a, shared)).toMatchObject({ archived: false, read: true });
    expect(await stateOf(b, shared)).toMatchObject({ archived: false, read: false, snoozedUntil: null });
  });

  it('broadcasts: archiving is per recipient; one sent after markAllSeen/archiveAll arrives unseen and unarchived', async () => {
    const [a, b] = [await knownUser(t), await knownUser(t)];
    const first = (await broadcast(p, { text: 'first' })).message.id;
    expect(await archiveIds(a, [first])).toMatchObject({ count: 1 });
    expect(await stateOf(b, first)).toMatchObject({ archived: false, read: false, seen: false });
    await markSeen(b, [first]);
    expect(await stateOf(a, first)).toMatchObject({ archived: true, seen: true });
    expect(await markAllSeen(a)).toMatchObject({ count: 0 });
    expect(await archiveAll(b)).toMatchObject({ count: 1 });

    const second = (await broadcast(p, { text: 'second' })).message.id;
    for (const u of [a, b]) {
      expect(await stateOf(u, second)).toMatchObject({ seen: false, read: false, archived: false });
      expect(await countsOf(u)).toEqual({ total: 2, unread: 1, unseen: 1, archived: 1, snoozed: 0 });
    }
  });

  it("federation: User carries the caller's unseenCount and counts; another user's entity is null", async () => {
    const [u, other] = [await newUser(t), await newUser(t)];
    const [a, b] = [(await sendTo(p, u.sub, { text: 'a' })).message.id, (await sendTo(p, u.sub, { text: 'b' })).message.id];
    await markSeen(u, [a]);
    await archiveIds(u, [b]);
    const ENTITIES = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id unseenCount counts { total unread unseen archived snoozed } } } }';
    const r = await u.q(ENTITIES, { r: [{ __typename: 'User', id: u.sub }, { __typename: 'User', id: other.sub }] });
    expect(r._entities).toEqual([{ id: u.sub, unseenCount: 0, counts: { total: 2, unread: 1, unseen: 0, archived: 1, snoozed: 0 } }, null]);
  });

  it('more than 10,000 ids, a malformed id, a snooze time out of range: BAD_USER_INPUT naming the field, nothing changed', async () => {
    const u = await newUser(t);
    const ids = [(await sendTo(p, u.sub, { text: 'a' })).message.id, (await sendTo(p, u.sub, { text: 'b' })).message.id];
    const before = await snapshot(u, ids);
    const tooMany = [...ids, ...Array.from({ length: 9_999 }, unknownId)];
    const refused: [string, Awaited<ReturnType<typeof stateRaw>>, string][] = [];
    for (const [name, extra] of BY_IDS) {
      refused.push([`${name} 10,001 ids`, await stateRaw(u, name, { ids: tooMany, ...extra }), 'input.ids']);
      refused.push([`${name} malformed`, await stateRaw(u, name, { ids: [ids[0], 'not an id'], ...extra }), 'input.ids[1]']);
    }
    refused.push(['snooze in the past', await stateRaw(u, 'snooze', { ids, until: new Date(Date.now() - 1000).toISOString() }), 'input.until']);
    refused.push(['snooze past 365 days', await stateRaw(u, 'snooze', { ids, until: isoDaysAhead(366) }), 'input.until']);
    for (const [what, r, field] of refused) {
      expect([what, r.data ?? null, r.errors?.map((e) => [e.extensions?.code, e.extensions?.field])]).toEqual([what, null, [['BAD_USER_INPUT', field]]]);
    }
    expect(await snapshot(u, ids)).toEqual(before);
    // The edges of the range are accepted.
    expect(await snooze(u, [ids[0]], isoDaysAhead(364))).toMatchObject({ count: 1 });
    expect(await markSeen(u, Array.from({ length: 10_000 }, (_, i) => (i === 0 ? ids[0] : unknownId())))).toMatchObject({ count: 1 });
  });
});

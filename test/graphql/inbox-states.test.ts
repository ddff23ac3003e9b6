import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inbox, markAllRead, markRead, markUnread, sendTo, unknownId } from '../factories.js';
import { BACKENDS, startTestApp, type TestApp } from '../harness.js';
import {
  archiveAll, archiveIds, countsOf, cutOff, inboxAndPending, isoDaysAhead, listed, markAllSeen, markSeen, plainCounts, snooze, stateOf, unarchive, unsnooze,
  userWith as userWithIn,
} from './inbox-states-helpers.js';

/** CONTRACT.md §8 through GraphQL on every backend: each operation, its payload, the couplings, the counts and filters. */
describe.each(BACKENDS)('inbox states on %s', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(backend);
  });
  afterAll(async () => t?.close());
  const userWith = (n: number) => userWithIn(t, n);

  it('a new message is unseen, unread, not archived nor snoozed, ungrouped', async () => {
    const { u, ids } = await userWith(2);
    expect(await stateOf(u, ids[0])).toMatchObject({ read: false, seen: false, seenAt: null, archived: false, archivedAt: null, snoozedUntil: null, category: null, groupKey: null, groupCount: 1 });
    expect(await countsOf(u)).toEqual(plainCounts(2));
  });

  it('markSeen sets seenAt only; read implies seen; markUnread keeps it seen', async () => {
    const { u, ids } = await userWith(3);
    const missing = unknownId();
    expect(await markSeen(u, [ids[0], ids[1], missing, ids[0]])).toEqual({ count: 2, notFound: [missing], unseenCount: 1 });
    const seen = await stateOf(u, ids[0]);
    expect(seen).toMatchObject({ seen: true, read: false, readAt: null });
    expect(await countsOf(u)).toEqual(plainCounts(3, { seen: 2 }));
    expect((await inbox(u)).ids).toHaveLength(3);
    expect(await markSeen(u, [ids[0]])).toEqual({ count: 0, notFound: [], unseenCount: 1 });

    await markRead(u, [ids[0], ids[2]]);
    expect((await stateOf(u, ids[0]))?.seenAt).toBe(seen!.seenAt);
    expect(await stateOf(u, ids[2])).toMatchObject({ read: true, seen: true });
    expect(await countsOf(u)).toEqual(plainCounts(3, { read: 2, seen: 3 }));
    expect(await markSeen(u, [ids[2]])).toMatchObject({ count: 0 });
    await markUnread(u, [ids[2]]);
    expect(await stateOf(u, ids[2])).toMatchObject({ read: false, seen: true });
    expect(await countsOf(u)).toEqual(plainCounts(3, { read: 1, seen: 3 }));
  });

  it('markAllSeen marks seen what was delivered up to `until` (default now), leaving read alone', async () => {
    const { u, p, ids } = await userWith(3);
    await markSeen(u, [ids[0]]);
    const until = await cutOff();
    const late = (await sendTo(p, u.sub, { text: 'late' })).message.id;
    expect(await markAllSeen(u, until)).toEqual({ count: 2, unseenCount: 1 });
    expect(await stateOf(u, ids[1])).toMatchObject({ seen: true, read: false });
    expect(await stateOf(u, late)).toMatchObject({ seen: false });
    expect(await markAllSeen(u)).toEqual({ count: 1, unseenCount: 0 });
    expect(await markAllSeen(u)).toEqual({ count: 0, unseenCount: 0 });
    expect(await countsOf(u)).toEqual(plainCounts(4, { seen: 4 }));
  });

  it('archive marks read and seen (keeping earlier times); unarchive stays read; markUnread unarchives', async () => {
    const { u, ids } = await userWith(3);
    const readAt = (await markRead(u, [ids[2]])).messages[0].readAt;
    const missing = unknownId();
    const r = await archiveIds(u, [ids[0], missing, ids[2]]);
    expect(r).toMatchObject({ count: 2, notFound: [missing], counts: { total: 3, unread: 1, unseen: 1, archived: 2, snoozed: 0 } });
    expect(r.messages.map((m) => [m.id, m.archived, m.read, m.seen])).toEqual([[ids[0], true, true, true], [ids[2], true, true, true]]);
    expect(r.messages[1].readAt).toBe(readAt);
    expect(r.messages[0].archivedAt).not.toBeNull();
    expect(await countsOf(u)).toEqual(r.counts);
    expect(await archiveIds(u, [ids[0]])).toMatchObject({ count: 0, notFound: [] });
    expect(await listed(u)).toEqual({ ids: [ids[2], ids[1], ids[0]], totalCount: 3 });
    expect(await listed(u, { archived: true })).toEqual({ ids: [ids[2], ids[0]], totalCount: 2 });
    expect(await listed(u, { archived: false })).toEqual({ ids: [ids[1]], totalCount: 1 });

    const back = await unarchive(u, [ids[0], ids[1]]);
    expect(back).toMatchObject({ count: 1, notFound: [], counts: { total: 3, unread: 1, unseen: 1, archived: 1, snoozed: 0 } });
    expect(back.messages.map((m) => [m.id, m.archived, m.archivedAt, m.read])).toEqual([[ids[0], false, null, true], [ids[1], false, null, false]]);

    const unread = await markUnread(u, [ids[2]]);
    expect(unread).toMatchObject({ count: 1, unreadCount: 2 });
    expect(await stateOf(u, ids[2])).toMatchObject({ read: false, seen: true, archived: false, archivedAt: null });
    expect(await countsOf(u)).toEqual({ total: 3, unread: 2, unseen: 1, archived: 0, snoozed: 0 });
  });

  it('archiveAll archives what was delivered up to `until`, or only what is read; unarchive under it acts alone', async () => {
    const { u, p, ids } = await userWith(3);
    await markRead(u, [ids[0]]);
    const until = await cutOff();
    const late = (await sendTo(p, u.sub, { text: 'late' })).message.id;
    expect(await archiveAll(u, { until, onlyRead: true })).toEqual({ count: 1, counts: { total: 4, unread: 3, unseen: 3, archived: 1, snoozed: 0 } });
    expect(await archiveAll(u, { until })).toEqual({ count: 2, counts: { total: 4, unread: 1, unseen: 1, archived: 3, snoozed: 0 } });
    expect(await stateOf(u, ids[1])).toMatchObject({ archived: true, read: true, seen: true });
    expect(await stateOf(u, late)).toMatchObject({ archived: false, read: false });
    expect(await listed(u, { archived: false })).toEqual({ ids: [late], totalCount: 1 });

    expect(await unarchive(u, [ids[1]])).toMatchObject({ count: 1, counts: { archived: 2, unread: 1 } });
    expect(await listed(u, { archived: true })).toEqual({ ids: [ids[2], ids[0]], totalCount: 2 });
    expect(await archiveAll(u)).toMatchObject({ count: 2, counts: { total: 4, unread: 0, unseen: 0, archived: 4 } });
    expect(await archiveAll(u)).toMatchObject({ count: 0 });
  });

  it('snooze hides a message from lists, the inbox, pending and counts; the "all" operations leave it alone', async () => {
    const { u, ids } = await userWith(3);
    const until = isoDaysAhead(1);
    const missing = unknownId();
    const r = await snooze(u, [ids[1], missing], until);
    expect(r).toMatchObject({ count: 1, notFound: [missing], counts: { total: 2, unread: 2, unseen: 2, archived: 0, snoozed: 1 } });
    expect(r.messages).toMatchObject([{ id: ids[1], snoozedUntil: until, read: false }]);
    expect(await countsOf(u)).toEqual(r.counts);
    expect(await listed(u)).toEqual({ ids: [ids[2], ids[0]], totalCount: 2 });
    expect(await listed(u, { snoozed: false })).toEqual({ ids: [ids[2], ids[0]], totalCount: 2 });
    expect(await listed(u, { snoozed: true })).toEqual({ ids: [ids[1]], totalCount: 1 });
    expect(await inboxAndPending(u)).toEqual({ inbox: [ids[2], ids[0]], pending: [ids[0], ids[2]] });
    expect(await stateOf(u, ids[1])).toMatchObject({ snoozedUntil: until });

    expect(await markAllRead(u)).toEqual({ count: 2, unreadCount: 0 });
    expect(await markAllSeen(u)).toEqual({ count: 0, unseenCount: 0 });
    expect(await archiveAll(u)).toMatchObject({ count: 2, counts: { total: 2, unread: 0, unseen: 0, archived: 2, snoozed: 1 } });
    expect(await stateOf(u, ids[1])).toMatchObject({ read: false, seen: false, archived: false, snoozedUntil: until });

    const later = isoDaysAhead(2);
    expect(await snooze(u, [ids[1]], later)).toMatchObject({ count: 1, messages: [{ snoozedUntil: later }] });
  });

  it('unsnooze wakes now: unread, unseen, not archived, in its place; a message not snoozed is found and unchanged', async () => {
    const { u, ids } = await userWith(3);
    await archiveIds(u, [ids[1]]);
    await snooze(u, [ids[1]], isoDaysAhead(1));
    expect(await countsOf(u)).toEqual({ total: 2, unread: 2, unseen: 2, archived: 0, snoozed: 1 });
    const r = await unsnooze(u, [ids[1], ids[2]]);
    expect(r).toMatchObject({ count: 1, notFound: [], counts: plainCounts(3) });
    expect(r.messages.map((m) => [m.id, m.snoozedUntil, m.read, m.seen, m.archived])).toEqual([[ids[1], null, false, false, false], [ids[2], null, false, false, false]]);
    expect(await listed(u)).toEqual({ ids: [ids[2], ids[1], ids[0]], totalCount: 3 });
    expect((await inbox(u)).ids).toEqual([ids[2], ids[1], ids[0]]);
    expect(await unsnooze(u, [ids[1]])).toMatchObject({ count: 0, notFound: [] });
  });

  it('a woken message under a cut-off wakes alone: the others stay read, seen and archived', async () => {
    const { u, ids } = await userWith(3);
    await snooze(u, [ids[1]], isoDaysAhead(1));
    await unsnooze(u, [ids[1]]);
    await archiveAll(u);
    await snooze(u, [ids[2]], isoDaysAhead(1));
    await unsnooze(u, [ids[2]]);
    expect(await countsOf(u)).toEqual({ total: 3, unread: 1, unseen: 1, archived: 2, snoozed: 0 });
    expect(await listed(u, { archived: true })).toEqual({ ids: [ids[1], ids[0]], totalCount: 2 });
  });

  it('filters combine seen, read, archived, snoozed and levels with AND, totalCount agreeing', async () => {
    const { u, p, ids } = await userWith(4);
    const error = (await sendTo(p, u.sub, { level: 'STORED_ERROR', text: 'error' })).message.id;
    const [archived, seenOnly, untouched, snoozed] = ids;
    await archiveIds(u, [archived]);
    await markSeen(u, [seenOnly]);
    await snooze(u, [snoozed], isoDaysAhead(1));
    const cases: [Record<string, unknown>, string[]][] = [
      [{ seen: false }, [error, untouched]],
      [{ seen: true, read: false }, [seenOnly]],
      [{ seen: true }, [seenOnly, archived]],
      [{ archived: true, read: true }, [archived]],
      [{ archived: false, seen: false, levels: ['STORED_ERROR'] }, [error]],
      [{ read: false, levels: ['STORED_INFO'] }, [untouched, seenOnly]],
      [{ snoozed: true, seen: false }, [snoozed]],
      [{ snoozed: true, archived: true }, []],
    ];
    for (const [filter, expected] of cases) expect([filter, await listed(u, filter)]).toEqual([filter, { ids: expected, totalCount: expected.length }]);
  });
});

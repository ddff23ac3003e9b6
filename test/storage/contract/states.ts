import { describe, expect } from 'vitest';
import type { MessageStore } from '../../../src/domain/message-store.js';
import { sleep, uid } from '../../support.js';
import { ids, query, sorted, type StoreContract } from './fixture.js';

/** Inbox states (section 8 of the contract): seen, archived, and the "all" operations with their cut-off. */
export function statesContract({ it, send, broadcast, expectCounts }: StoreContract): void {
  /** Three messages for a fresh user, oldest first. */
  async function three(store: MessageStore) {
    const a = uid();
    const m: string[] = [];
    for (let i = 0; i < 3; i++) m.push((await send([a], { text: `m${i}`, level: [11, 21, 31][i] })).message.id);
    await store.ensureUser(a);
    return { a, m };
  }
  const state = async (store: MessageStore, user: string, id: string) => {
    const r = await store.get(user, id);
    return r && { read: r.readAt !== null, seen: r.seenAt !== null, archived: r.archivedAt !== null };
  };

  describe('inbox states', () => {
    it('marks seen: changed, request-ordered messages, notFound; read implies seen, unread keeps it', async ({ store }) => {
      const { a, m } = await three(store);
      const b = uid();
      const others = (await send([b])).message.id;
      const r = await store.markSeen(a, [m[1], others, m[0], '987654321987654', m[1], 'abc']);
      expect(r.changed).toEqual([m[0], m[1]]);
      expect(r.messages.map((x) => x.id)).toEqual([m[1], m[0]]);
      for (const x of r.messages) expect([x.seenAt instanceof Date, x.readAt]).toEqual([true, null]);
      expect(r.notFound).toEqual([others, '987654321987654', 'abc']);
      expect(r.counts).toEqual({ total: 3, unread: 3, unseen: 1, archived: 0, snoozed: 0 });
      const seenAt = r.messages[0].seenAt;
      expect((await store.markSeen(a, [m[1]])).changed).toEqual([]);
      expect((await store.get(a, m[1]))?.seenAt).toEqual(seenAt); // seeing again keeps the first time
      expect(await store.get(b, others)).toMatchObject({ seenAt: null });

      const read = await store.setRead(a, [m[2], m[1]], true);
      expect(read.counts).toEqual({ total: 3, unread: 1, unseen: 0, archived: 0, snoozed: 0 });
      const m2 = await store.get(a, m[2]);
      expect(m2?.seenAt).toEqual(m2?.readAt); // seen when read
      expect((await store.get(a, m[1]))?.seenAt).toEqual(seenAt);
      const unread = await store.setRead(a, [m[2]], false);
      expect(unread.messages[0]).toMatchObject({ readAt: null, seenAt: m2?.seenAt });
      expect(unread.counts).toEqual({ total: 3, unread: 2, unseen: 0, archived: 0, snoozed: 0 });
      expect(await store.markSeen(a, [])).toEqual({ changed: [], messages: [], notFound: [], counts: unread.counts });
      await expectCounts(a, unread.counts);
      await expectCounts(b, { total: 1, unread: 1, unseen: 1, archived: 0, snoozed: 0 });
    });

    it('archives (read and seen, earlier times kept); unarchive stays read; markUnread unarchives and stays seen', async ({ store }) => {
      const { a, m } = await three(store);
      const seenAt = (await store.markSeen(a, [m[0]])).messages[0].seenAt;
      const readAt = (await store.setRead(a, [m[1]], true)).messages[0].readAt;
      await sleep(5);
      const r = await store.setArchived(a, [m[2], m[0], m[1], 'abc'], true);
      expect(r.changed).toEqual(m);
      expect(r.messages.map((x) => x.id)).toEqual([m[2], m[0], m[1]]);
      expect(r.notFound).toEqual(['abc']);
      expect(r.counts).toEqual({ total: 3, unread: 0, unseen: 0, archived: 3, snoozed: 0 });
      const [x2, x0, x1] = r.messages;
      expect(x0).toMatchObject({ seenAt });
      expect(x1).toMatchObject({ readAt });
      for (const x of r.messages) expect(x.archivedAt && x.readAt && x.seenAt).toBeInstanceOf(Date);
      expect(x2.seenAt).toEqual(x2.readAt);
      expect((await store.setArchived(a, [m[0]], true)).changed).toEqual([]);

      const un = await store.setArchived(a, [m[1], m[1]], false);
      expect(un.changed).toEqual([m[1]]);
      expect(un.messages).toEqual([{ ...x1, archivedAt: null }]);
      expect(un.counts).toEqual({ total: 3, unread: 0, unseen: 0, archived: 2, snoozed: 0 });
      expect((await store.setArchived(a, [m[1]], false)).changed).toEqual([]);

      const unread = await store.setRead(a, [m[2]], false);
      expect(unread.changed).toEqual([m[2]]);
      expect(unread.messages[0]).toMatchObject({ readAt: null, archivedAt: null, seenAt: x2.seenAt });
      expect(await state(store, a, m[0])).toEqual({ read: true, seen: true, archived: true });
      await expectCounts(a, { total: 3, unread: 1, unseen: 0, archived: 1, snoozed: 0 });
    });

    it('marks all seen and archives all only up to `until`; one message under them changes alone', async ({ store }) => {
      const { a, m } = await three(store);
      await store.setRead(a, [m[0]], true);
      await sleep(20);
      const until = new Date();
      await sleep(20);
      const late = (await send([a], { text: 'late' })).message.id;
      expect(await store.markAllSeen(a, until)).toEqual({ count: 2, counts: { total: 4, unread: 3, unseen: 1, archived: 0, snoozed: 0 } });
      expect(await store.markAllSeen(a, until)).toEqual({ count: 0, counts: { total: 4, unread: 3, unseen: 1, archived: 0, snoozed: 0 } });
      const seenAt = (await store.get(a, m[1]))?.seenAt;
      expect(seenAt).toBeInstanceOf(Date);
      expect(await state(store, a, late)).toEqual({ read: false, seen: false, archived: false });

      const all = await store.archiveAll(a, until, false);
      expect(all).toEqual({ count: 3, counts: { total: 4, unread: 1, unseen: 1, archived: 3, snoozed: 0 } });
      expect(await store.archiveAll(a, until, false)).toEqual({ count: 0, counts: all.counts });
      const before = await Promise.all(m.map((id) => store.get(a, id)));
      expect(before[1]).toMatchObject({ seenAt }); // seen earlier: that time is kept
      for (const x of before) expect(x?.archivedAt && x.readAt).toBeInstanceOf(Date);

      expect((await store.setArchived(a, [m[1]], false)).changed).toEqual([m[1]]);
      expect((await store.setRead(a, [m[2]], false)).changed).toEqual([m[2]]);
      expect(await store.get(a, m[0])).toEqual(before[0]);
      expect(await store.get(a, m[1])).toEqual({ ...before[1], archivedAt: null });
      expect(await store.get(a, m[2])).toMatchObject({ readAt: null, archivedAt: null, seenAt: before[2]?.seenAt });
      expect(ids(await store.list(a, query({ filter: { archived: false } })))).toEqual([late, m[2], m[1]]);
      await expectCounts(a, { total: 4, unread: 2, unseen: 1, archived: 1, snoozed: 0 });
      expect(await store.markAllSeen(a, new Date(Date.now() + 1000))).toMatchObject({ count: 1, counts: { unseen: 0 } });
      expect(await store.archiveAll(a, new Date(Date.now() + 1000), false)).toMatchObject({ count: 3, counts: { archived: 4, unread: 0 } });
      expect(await store.get(a, m[0])).toEqual(before[0]);
      await expectCounts(a, { total: 4, unread: 0, unseen: 0, archived: 4, snoozed: 0 });
    });

    it('archives all with onlyRead: only what is read then, however it was read', async ({ store }) => {
      const { a, m } = await three(store);
      await store.markAllRead(a, new Date(Date.now() + 1000));
      const unread = (await send([a], { text: 'unread' })).message.id;
      const seen = (await send([a], { text: 'seen' })).message.id;
      const read = (await send([a], { text: 'read' })).message.id;
      await store.markSeen(a, [seen]);
      await store.setRead(a, [read], true);
      await store.setRead(a, [m[1]], false);
      const r = await store.archiveAll(a, new Date(Date.now() + 1000), true);
      expect(r).toEqual({ count: 3, counts: { total: 6, unread: 3, unseen: 1, archived: 3, snoozed: 0 } });
      expect(sorted(ids(await store.list(a, query({ filter: { archived: true } }))))).toEqual(sorted([m[0], m[2], read]));
      expect(await state(store, a, m[1])).toEqual({ read: false, seen: true, archived: false });
      expect(await state(store, a, unread)).toEqual({ read: false, seen: false, archived: false });
      await store.setRead(a, [unread], true);
      expect(await store.archiveAll(a, new Date(Date.now() + 1000), true)).toMatchObject({ count: 1, counts: { archived: 4 } });
      await expectCounts(a, { total: 6, unread: 2, unseen: 0, archived: 4, snoozed: 0 });
    });

    it('filters by seen and archived with read, levels and dates, with exact totals', async ({ store }) => {
      const { a, m } = await three(store);
      const d = (await send([a], { text: 'm3', level: 31 })).message.id;
      await store.markSeen(a, [m[0]]);
      await store.setRead(a, [m[1]], true);
      await store.setArchived(a, [m[2]], true);
      const check = async (filter: object, expected: string[], unreadOnly = false) => {
        const page = await store.list(a, query({ filter, unreadOnly }));
        expect(ids(page), JSON.stringify(filter)).toEqual(expected);
        expect(page.totalCount).toBe(expected.length);
      };
      await check({ seen: false }, [d]);
      await check({ seen: true }, [m[2], m[1], m[0]]);
      await check({ seen: true, read: false }, [m[0]]);
      await check({ archived: true }, [m[2]]);
      await check({ archived: false }, [d, m[1], m[0]]);
      await check({ archived: false, read: true }, [m[1]]);
      await check({ archived: true, levels: [31] }, [m[2]]);
      await check({ archived: false, levels: [31] }, [d]);
      await check({ seen: true, levels: [11, 21] }, [m[1], m[0]]);
      await check({ seen: false, since: new Date(Date.now() - 60_000) }, [d]);
      await check({ archived: false }, [d, m[0]], true);
      await check({ snoozed: false, seen: true, archived: false }, [m[1], m[0]]);
    });

    it('keeps states per recipient of a broadcast; one sent after markAllSeen and archiveAll arrives unseen and unarchived', async ({ store }) => {
      const [a, b] = [uid(), uid()];
      for (const u of [a, b]) await store.ensureUser(u);
      const direct = (await send([a])).message.id;
      const first = (await broadcast({ text: 'first' })).message.id;
      expect((await store.setArchived(a, [first], true)).changed).toEqual([first]);
      expect(await state(store, b, first)).toEqual({ read: false, seen: false, archived: false });
      expect(await store.markAllSeen(a, new Date(Date.now() + 1000))).toMatchObject({ count: 1 });
      expect(await store.archiveAll(a, new Date(Date.now() + 1000), false)).toMatchObject({ count: 1 });
      const late = (await broadcast({ text: 'after archiveAll' })).message.id;
      // b has not been back since either broadcast: their counts copy both first.
      expect(await store.counts(b)).toEqual({ total: 2, unread: 2, unseen: 2, archived: 0, snoozed: 0 });
      expect(await state(store, a, late)).toEqual({ read: false, seen: false, archived: false });
      expect(await state(store, a, direct)).toEqual({ read: true, seen: true, archived: true });
      await expectCounts(a, { total: 3, unread: 1, unseen: 1, archived: 2, snoozed: 0 });
      expect((await store.markSeen(b, [late])).counts).toEqual({ total: 2, unread: 2, unseen: 1, archived: 0, snoozed: 0 });
      await expectCounts(b, { total: 2, unread: 2, unseen: 1, archived: 0, snoozed: 0 });
    });

    it('counts the states of a broadcast copied on a write', async ({ store }) => {
      const [a, b, c] = [uid(), uid(), uid()];
      for (const u of [a, b, c]) await store.ensureUser(u);
      const sent = (await broadcast()).message.id;
      // Each user's first access after the broadcast is a different state write.
      expect((await store.markSeen(a, [sent])).counts).toEqual({ total: 1, unread: 1, unseen: 0, archived: 0, snoozed: 0 });
      expect((await store.setArchived(b, [sent], true)).counts).toEqual({ total: 1, unread: 0, unseen: 0, archived: 1, snoozed: 0 });
      expect(await store.archiveAll(c, new Date(Date.now() + 1000), false)).toEqual({ count: 1, counts: { total: 1, unread: 0, unseen: 0, archived: 1, snoozed: 0 } });
    });

    it('keeps the counts agreeing with the messages when state changes race, round after round', async ({ store }) => {
      const a = uid();
      const all = () => new Date(Date.now() + 1000);
      for (let round = 0; round < 8; round++) {
        const m = [];
        for (let i = 0; i < 4; i++) m.push((await send([a], { text: `r${round} m${i}` })).message.id);
        await Promise.all([
          store.markSeen(a, [m[0], m[1]]),
          store.setRead(a, [m[1], m[2]], true),
          store.markAllSeen(a, all()),
          store.setArchived(a, [m[2], m[3]], true),
          round % 2 ? store.archiveAll(a, all(), true) : store.markAllRead(a, all()),
          store.setRead(a, [m[3]], false),
          store.setArchived(a, [m[0]], false),
          send([a], { text: `r${round} racing` }),
          store.deleteMessages(a, [m[1]]),
        ]);
        await expectCounts(a, await store.counts(a));
      }
    });

    it('deletes archived and seen messages, keeping counts exact', async ({ store }) => {
      const { a, m } = await three(store);
      await store.setArchived(a, [m[0]], true);
      await store.markSeen(a, [m[1]]);
      const r = await store.deleteMessages(a, [m[0], m[1]]);
      expect(r.deleted).toEqual([m[0], m[1]]);
      expect(r.counts).toEqual({ total: 1, unread: 1, unseen: 1, archived: 0, snoozed: 0 });
      await store.archiveAll(a, new Date(Date.now() + 1000), false);
      expect((await store.deleteMessages(a, [m[2]])).counts).toEqual({ total: 0, unread: 0, unseen: 0, archived: 0, snoozed: 0 });
      await expectCounts(a, { total: 0, unread: 0, unseen: 0, archived: 0, snoozed: 0 });
    });
  });
}

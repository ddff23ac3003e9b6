import { describe, expect } from 'vitest';
import type { InboxCounts, MessageStore } from '../../../src/domain/message-store.js';
import { inMs, sleep, uid, waitUntilPast } from '../../support.js';
import { expiresSoon, ids, query, sorted, type StoreContract } from './fixture.js';

const counts = (over: Partial<InboxCounts> = {}): InboxCounts => ({ total: 0, unread: 0, unseen: 0, archived: 0, snoozed: 0, ...over });
const later = () => inMs(1000);

/** Categories (section 9 of the contract): kept per delivery, counted per category, filtered, and the "all" operations limited to one. */
export function categoriesContract({ it, send, broadcast, expectCounts }: StoreContract): void {
  const state = async (store: MessageStore, user: string, id: string) => {
    const r = await store.get(user, id);
    return r && { read: r.readAt !== null, seen: r.seenAt !== null, archived: r.archivedAt !== null, snoozed: r.snoozedUntil !== null };
  };

  describe('categories', () => {
    it('keeps each delivery\'s category, counts each category apart and filters lists by categories', async ({ store }) => {
      const [a, b] = [uid(), uid()];
      const b1 = (await send([a, b], { text: 'b1', category: 'billing', level: 31 })).message;
      const s1 = (await send([a], { text: 's1', category: 'social' })).message.id;
      const n1 = (await send([a], { text: 'n1' })).message.id;
      const b2 = (await send([a], { text: 'b2', category: 'billing' })).message.id;
      await store.ensureUser(a);
      const bc = (await broadcast({ text: 'bc', category: 'news' })).message.id;
      expect(b1).toMatchObject({ category: 'billing', groupKey: null, groupCount: 1 });
      expect(await store.get(a, b1.id)).toMatchObject({ category: 'billing', groupKey: null, groupCount: 1 });
      expect(await store.get(a, n1)).toMatchObject({ category: null });
      expect(await store.get(a, bc)).toMatchObject({ category: 'news' });
      expect((await store.list(a, query())).items.map((i) => i.message.category)).toEqual(['news', 'billing', null, 'social', 'billing']);

      expect(await store.counts(a, 'billing')).toEqual(counts({ total: 2, unread: 2, unseen: 2 }));
      expect(await store.counts(a, 'news')).toEqual(counts({ total: 1, unread: 1, unseen: 1 }));
      expect(await store.counts(a, 'never-used')).toEqual(counts());
      expect(await store.counts(b, 'billing')).toEqual(counts({ total: 1, unread: 1, unseen: 1 }));
      expect(await store.counts(b, 'social')).toEqual(counts());
      await store.setRead(a, [b1.id], true);
      expect(await store.counts(a, 'billing')).toEqual(counts({ total: 2, unread: 1, unseen: 1 }));
      expect(await store.counts(b, 'billing')).toEqual(counts({ total: 1, unread: 1, unseen: 1 })); // another user's read is theirs

      const check = async (filter: object, expected: string[], unreadOnly = false) => {
        const page = await store.list(a, query({ filter, unreadOnly }));
        expect(ids(page), JSON.stringify(filter)).toEqual(expected);
        expect(page.totalCount, JSON.stringify(filter)).toBe(expected.length);
      };
      await check({ categories: ['billing'] }, [b2, b1.id]);
      await check({ categories: ['social', 'billing', 'nothing'] }, [b2, s1, b1.id]);
      await check({ categories: ['billing'] }, [b2], true);
      await check({ categories: ['billing'], read: true }, [b1.id]);
      await check({ categories: ['billing'], levels: [31] }, [b1.id]);
      await check({ categories: ['billing'], seen: false }, [b2]);
      await check({ categories: [] }, []);
      await check({ categories: [] }, [], true);
      await check({ categories: null }, [bc, b2, n1, s1, b1.id]);
      const back = await store.list(a, query({ filter: { categories: ['billing', 'news'] }, direction: 'backward', limit: 2 }));
      expect(ids(back)).toEqual([b2, b1.id]);
      expect(back).toMatchObject({ hasPreviousPage: true, totalCount: 3 });
      await expectCounts(a, counts({ total: 5, unread: 4, unseen: 4 }));
    });

    it('limits markAllSeen, markAllRead and archiveAll to a category and `until`; answers whole-inbox counts', async ({ store }) => {
      const [a, b] = [uid(), uid()];
      const b1 = (await send([a, b], { category: 'billing' })).message.id;
      const s1 = (await send([a], { category: 'social' })).message.id;
      const n1 = (await send([a])).message.id;
      const zz = (await send([a], { category: 'billing' })).message.id;
      await store.snooze(a, [zz], inMs(3_600_000));
      await sleep(20);
      const until = new Date();
      await sleep(20);
      const b2 = (await send([a], { category: 'billing' })).message.id;

      expect(await store.markAllSeen(a, until, 'billing')).toEqual({ count: 1, counts: counts({ total: 4, unread: 4, unseen: 3, snoozed: 1 }) });
      expect(await store.markAllSeen(a, until, 'billing')).toMatchObject({ count: 0 });
      expect(await state(store, a, b1)).toEqual({ read: false, seen: true, archived: false, snoozed: false });
      expect(await state(store, a, s1)).toEqual({ read: false, seen: false, archived: false, snoozed: false });
      expect(await state(store, a, b2)).toEqual({ read: false, seen: false, archived: false, snoozed: false });
      expect(await store.counts(a, 'billing')).toEqual(counts({ total: 2, unread: 2, unseen: 1, snoozed: 1 }));

      const read = await store.markAllRead(a, until, 'billing');
      expect(read).toEqual({ count: 1, unreadCount: 3, counts: counts({ total: 4, unread: 3, unseen: 3, snoozed: 1 }) });
      expect(await store.counts(a, 'billing')).toEqual(counts({ total: 2, unread: 1, unseen: 1, snoozed: 1 }));
      // onlyRead: of billing only b1 is read; the snoozed one is left alone.
      expect(await store.archiveAll(a, later(), true, 'billing')).toEqual({ count: 1, counts: counts({ total: 4, unread: 3, unseen: 3, archived: 1, snoozed: 1 }) });
      expect(await store.archiveAll(a, later(), false, 'social')).toEqual({ count: 1, counts: counts({ total: 4, unread: 2, unseen: 2, archived: 2, snoozed: 1 }) });
      expect(await state(store, a, s1)).toEqual({ read: true, seen: true, archived: true, snoozed: false });
      expect(await state(store, a, b2)).toEqual({ read: false, seen: false, archived: false, snoozed: false });
      expect(await state(store, a, zz)).toEqual({ read: false, seen: false, archived: false, snoozed: true });
      expect(await store.counts(a, 'billing')).toEqual(counts({ total: 2, unread: 1, unseen: 1, archived: 1, snoozed: 1 }));
      expect(await store.counts(a, 'social')).toEqual(counts({ total: 1, archived: 1 }));
      expect(await store.counts(b, 'billing')).toEqual(counts({ total: 1, unread: 1, unseen: 1 })); // b's copy is b's
      expect(await store.markAllRead(a, later(), 'nothing-here')).toMatchObject({ count: 0, unreadCount: 2 });

      // The whole-inbox operations keep every category's counts exact.
      expect(await store.markAllSeen(a, later())).toMatchObject({ count: 2, counts: { unread: 2, unseen: 0 } });
      expect(await store.counts(a, 'billing')).toEqual(counts({ total: 2, unread: 1, archived: 1, snoozed: 1 }));
      expect(await store.markAllRead(a, later())).toMatchObject({ count: 2, unreadCount: 0 });
      expect(await store.counts(a, 'billing')).toEqual(counts({ total: 2, archived: 1, snoozed: 1 }));
      expect(await store.archiveAll(a, later(), false)).toMatchObject({ count: 2, counts: counts({ total: 4, archived: 4, snoozed: 1 }) });
      expect(await store.counts(a, 'billing')).toEqual(counts({ total: 2, archived: 2, snoozed: 1 }));
      expect(await store.counts(a, 'social')).toEqual(counts({ total: 1, archived: 1 }));
      expect(await state(store, a, n1)).toEqual({ read: true, seen: true, archived: true, snoozed: false });
      await expectCounts(a, counts({ total: 4, archived: 4, snoozed: 1 }));
      await expectCounts(b, counts({ total: 1, unread: 1, unseen: 1 }));
    });

    it('lowers one message alone under a category cut-off: markUnread, unarchive, unsnooze', async ({ store }) => {
      const a = uid();
      const m: string[] = [];
      for (let i = 0; i < 4; i++) m.push((await send([a], { text: `m${i}`, category: 'billing' })).message.id);
      const s1 = (await send([a], { category: 'social' })).message.id;
      await store.archiveAll(a, later(), false, 'billing');
      const before = await Promise.all(m.map((id) => store.get(a, id)));

      expect((await store.setRead(a, [m[1]], false)).changed).toEqual([m[1]]);
      expect((await store.setArchived(a, [m[2]], false)).changed).toEqual([m[2]]);
      await store.snooze(a, [m[3]], inMs(3_600_000));
      expect((await store.snooze(a, [m[3]], null)).changed).toEqual([m[3]]);
      expect(await store.get(a, m[0])).toEqual(before[0]);
      expect(await store.get(a, m[1])).toMatchObject({ readAt: null, archivedAt: null, seenAt: before[1]?.seenAt });
      expect(await store.get(a, m[2])).toEqual({ ...before[2], archivedAt: null });
      expect(await store.get(a, m[3])).toMatchObject({ readAt: null, seenAt: null, archivedAt: null, snoozedUntil: null });
      expect(await state(store, a, s1)).toEqual({ read: false, seen: false, archived: false, snoozed: false });
      expect(await store.counts(a, 'billing')).toEqual(counts({ total: 4, unread: 2, unseen: 1, archived: 1 }));
      expect(sorted(ids(await store.list(a, query({ filter: { categories: ['billing'] }, unreadOnly: true }))))).toEqual(sorted([m[1], m[3]]));

      // A message of the category sent after the cut-off is not under it.
      const m4 = (await send([a], { category: 'billing' })).message.id;
      expect(await state(store, a, m4)).toEqual({ read: false, seen: false, archived: false, snoozed: false });
      expect(await store.archiveAll(a, later(), false, 'billing')).toMatchObject({ count: 4 });
      expect(await store.counts(a, 'billing')).toEqual(counts({ total: 5, archived: 5 }));
      await expectCounts(a, counts({ total: 6, unread: 1, unseen: 1, archived: 5 }));
    });

    it('archives with onlyRead what either cut-off made read: the category\'s under the whole inbox\'s, and the reverse', async ({ store }) => {
      const a = uid();
      const b1 = (await send([a], { category: 'billing' })).message.id;
      const n1 = (await send([a])).message.id;
      const s1 = (await send([a], { category: 'social' })).message.id;
      await store.markAllRead(a, later(), 'billing');
      expect(await store.archiveAll(a, later(), true)).toEqual({ count: 1, counts: counts({ total: 3, unread: 2, unseen: 2, archived: 1 }) });
      expect(await state(store, a, b1)).toEqual({ read: true, seen: true, archived: true, snoozed: false });
      await store.markAllRead(a, later());
      expect(await store.archiveAll(a, later(), true, 'social')).toEqual({ count: 1, counts: counts({ total: 3, archived: 2 }) });
      expect(await state(store, a, s1)).toEqual({ read: true, seen: true, archived: true, snoozed: false });
      expect(await state(store, a, n1)).toEqual({ read: true, seen: true, archived: false, snoozed: false });
      expect(await store.counts(a, 'social')).toEqual(counts({ total: 1, archived: 1 }));
      expect(await store.counts(a, 'billing')).toEqual(counts({ total: 1, archived: 1 }));
      await expectCounts(a, counts({ total: 3, archived: 2 }));
    });

    it('keeps each category\'s counts equal to its lists under concurrent sends, state changes and cut-offs', async ({ store }) => {
      const a = uid();
      const old: string[] = [];
      for (let i = 0; i < 10; i++) old.push((await send([a], { category: i % 2 ? 'billing' : 'social' })).message.id);
      await Promise.all([
        ...Array.from({ length: 16 }, (_, i) => send([a, uid()], { category: i % 3 ? 'billing' : 'social', groupKey: i % 4 ? null : 'g' })),
        store.setRead(a, old.slice(0, 3), true),
        store.markAllRead(a, new Date(), 'billing'),
        store.archiveAll(a, new Date(), false, 'social'),
        store.markAllSeen(a, new Date()),
        store.deleteMessages(a, old.slice(8)),
        store.snooze(a, [old[5]], inMs(3_600_000)),
        store.setRead(a, [old[4]], false),
      ]);
      for (const category of ['billing', 'social']) {
        const total = (filter: object, unreadOnly = false) =>
          store.list(a, query({ filter: { categories: [category], ...filter }, unreadOnly, limit: 0 })).then((p) => p.totalCount);
        const fromLists = { total: await total({}), unread: await total({}, true), unseen: await total({ seen: false }), archived: await total({ archived: true }), snoozed: await total({ snoozed: true }) };
        expect(await store.counts(a, category), category).toEqual(fromLists);
      }
    });

    // One wait for expiry serves grouping too: an expired message of a group is not superseded.
    it('keeps a category\'s counts exact through delete, snooze, wake, expiry and the cleanup; an expired grouped message is not superseded', async ({ store }) => {
      const a = uid();
      const expiresAt = expiresSoon();
      const gone = (await send([a], { category: 'billing', expiresAt, groupKey: 'expiring' })).message.id;
      const goneRead = (await send([a], { category: 'billing', expiresAt })).message.id;
      await store.setRead(a, [goneRead], true);
      const m: string[] = [];
      for (let i = 0; i < 3; i++) m.push((await send([a], { category: 'billing' })).message.id);
      await send([a], { category: 'social' });
      expect(await store.counts(a, 'billing')).toEqual(counts({ total: 5, unread: 4, unseen: 4 }));
      await store.deleteMessages(a, [m[0]]);
      await store.snooze(a, [m[1]], inMs(3_600_000));
      expect(await store.counts(a, 'billing')).toEqual(counts({ total: 3, unread: 2, unseen: 2, snoozed: 1 }));
      await store.snooze(a, [m[1]], null);
      await store.markSeen(a, [m[2]]);
      expect(await store.counts(a, 'billing')).toEqual(counts({ total: 4, unread: 3, unseen: 2 }));

      await waitUntilPast(expiresAt);
      expect(await store.get(a, gone)).toBeNull();
      const again = (await send([a], { groupKey: 'expiring' })).recipients?.[0];
      expect(again).toMatchObject({ groupCount: 1, superseded: null, unreadCount: 4 });
      const live = counts({ total: 2, unread: 2, unseen: 1 });
      expect(await store.counts(a, 'billing')).toEqual(live);
      while ((await store.cleanupExpired(1000)) > 0);
      expect(await store.counts(a, 'billing')).toEqual(live);
      expect(await store.counts(a, 'social')).toEqual(counts({ total: 1, unread: 1, unseen: 1 }));
      await expectCounts(a, counts({ total: 4, unread: 4, unseen: 3 }));
    });
  });
}

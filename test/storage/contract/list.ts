import { describe, expect } from 'vitest';
import { InvalidCursor, type MessageStore, type ListQuery } from '../../../src/domain/message-store.js';
import type { MessageRecord } from '../../../src/domain/message.js';
import { uid } from '../../support.js';
import { ids, query, type StoreContract } from './fixture.js';

export function listContract({ it, send }: StoreContract): void {
  describe('list', () => {
    /** Five messages for one user, oldest first, with distinct dates and levels; m2 and m4 read. */
    async function fiveMessages(store: MessageStore) {
      const a = uid();
      const base = Date.now() - 10 * 3_600_000;
      const levels = [11, 21, 26, 31, 41];
      const m: MessageRecord[] = [];
      for (let i = 0; i < 5; i++) {
        m.push((await send([a], { text: `m${i + 1}`, level: levels[i], createdAt: new Date(base + i * 3_600_000) })).message);
      }
      await store.setRead(a, [m[1].id, m[3].id], true);
      return { a, m: m.map((x) => x.id), dates: m.map((x) => x.createdAt) };
    }

    it('pages forward, newest first, with exact page info and totals', async ({ store }) => {
      const { a, m } = await fiveMessages(store);
      const p1 = await store.list(a, query({ limit: 2 }));
      expect(ids(p1)).toEqual([m[4], m[3]]);
      expect(p1).toMatchObject({ hasNextPage: true, hasPreviousPage: false, totalCount: 5 });
      const p2 = await store.list(a, query({ limit: 2, cursor: p1.items[1].cursor }));
      expect(ids(p2)).toEqual([m[2], m[1]]);
      expect(p2).toMatchObject({ hasNextPage: true, hasPreviousPage: true, totalCount: 5 });
      const p3 = await store.list(a, query({ limit: 2, cursor: p2.items[1].cursor }));
      expect(ids(p3)).toEqual([m[0]]);
      expect(p3).toMatchObject({ hasNextPage: false, hasPreviousPage: true, totalCount: 5 });
      const all = await store.list(a, query({ limit: 5 }));
      expect(ids(all)).toEqual([...m].reverse());
      expect(all).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
    });

    it('pages backward from the oldest end, items still newest first', async ({ store }) => {
      const { a, m } = await fiveMessages(store);
      const p1 = await store.list(a, query({ direction: 'backward', limit: 2 }));
      expect(ids(p1)).toEqual([m[1], m[0]]);
      expect(p1).toMatchObject({ hasPreviousPage: true, hasNextPage: false, totalCount: 5 });
      const p2 = await store.list(a, query({ direction: 'backward', limit: 2, cursor: p1.items[0].cursor }));
      expect(ids(p2)).toEqual([m[3], m[2]]);
      expect(p2).toMatchObject({ hasPreviousPage: true, hasNextPage: true });
      const p3 = await store.list(a, query({ direction: 'backward', limit: 2, cursor: p2.items[0].cursor }));
      expect(ids(p3)).toEqual([m[4]]);
      expect(p3).toMatchObject({ hasPreviousPage: false, hasNextPage: true });
    });

    it('answers limit 0 with no items and the exact total', async ({ store }) => {
      const { a } = await fiveMessages(store);
      const page = await store.list(a, query({ limit: 0 }));
      expect(page.items).toEqual([]);
      expect(page.totalCount).toBe(5);
      expect(page.hasNextPage).toBe(true);
    });

    it('filters by read state, levels and inclusive date bounds, with exact totals', async ({ store }) => {
      const { a, m, dates } = await fiveMessages(store);
      const check = async (over: Partial<ListQuery>, expected: string[]) => {
        const page = await store.list(a, query(over));
        expect(ids(page)).toEqual(expected);
        expect(page.totalCount).toBe(expected.length);
      };
      await check({ unreadOnly: true }, [m[4], m[2], m[0]]);
      await check({ filter: { read: false } }, [m[4], m[2], m[0]]);
      await check({ filter: { read: true } }, [m[3], m[1]]);
      await check({ filter: { levels: [11, 26] } }, [m[2], m[0]]);
      await check({ filter: { levels: [21, 31], read: true } }, [m[3], m[1]]);
      await check({ filter: { levels: [21, 31], read: false } }, []);
      await check({ filter: { since: dates[1], until: dates[3] } }, [m[3], m[2], m[1]]);
      await check({ filter: { since: dates[4] } }, [m[4]]);
      await check({ filter: { until: dates[0] } }, [m[0]]);
      await check({ filter: { since: new Date(dates[0].getTime() + 1), until: new Date(dates[4].getTime() - 1) } }, [m[3], m[2], m[1]]);
      await check({ unreadOnly: true, filter: { since: dates[1] } }, [m[4], m[2]]);
    });

    it('pages through a filtered list', async ({ store }) => {
      const { a, m } = await fiveMessages(store);
      const p1 = await store.list(a, query({ unreadOnly: true, limit: 2 }));
      expect(ids(p1)).toEqual([m[4], m[2]]);
      expect(p1).toMatchObject({ hasNextPage: true, hasPreviousPage: false, totalCount: 3 });
      const p2 = await store.list(a, query({ unreadOnly: true, limit: 2, cursor: p1.items[1].cursor }));
      expect(ids(p2)).toEqual([m[0]]);
      expect(p2).toMatchObject({ hasNextPage: false, hasPreviousPage: true, totalCount: 3 });
    });

    it('keeps cursors valid while messages are added, read and deleted', async ({ store }) => {
      const { a, m } = await fiveMessages(store);
      const p1 = await store.list(a, query({ limit: 2 }));
      const inbox1 = await store.list(a, query({ unreadOnly: true, limit: 1 }));
      expect(ids(inbox1)).toEqual([m[4]]);
      const m6 = await send([a], { text: 'm6' });
      await store.setRead(a, [m[2], m[4]], true); // m[4] is the inbox cursor's own message
      await store.deleteMessages(a, [m[3]]); // the archive cursor's own message
      const p2 = await store.list(a, query({ limit: 2, cursor: p1.items[1].cursor }));
      expect(ids(p2)).toEqual([m[2], m[1]]);
      expect(p2.hasPreviousPage).toBe(true);
      const inbox2 = await store.list(a, query({ unreadOnly: true, limit: 5, cursor: inbox1.items[0].cursor }));
      expect(ids(inbox2)).toEqual([m[0]]);
      expect(inbox2.totalCount).toBe(2); // m6 and m1
      expect(inbox2.hasPreviousPage).toBe(true); // m6
      const back = await store.list(a, query({ direction: 'backward', limit: 5, cursor: p1.items[1].cursor }));
      expect(ids(back)).toEqual([m6.message.id, m[4]]);
    });

    it('refuses a malformed cursor with InvalidCursor', async ({ store }) => {
      const { a } = await fiveMessages(store);
      for (const cursor of ['not a cursor', '-5', '1.5', '99999999999999999999999999', 'x1']) {
        for (const direction of ['forward', 'backward'] as const) {
          const err = await store.list(a, query({ cursor, direction })).then(
            () => null,
            (e: unknown) => e,
          );
          expect(err, `cursor ${JSON.stringify(cursor)} ${direction}`).toBeInstanceOf(InvalidCursor);
        }
      }
    });

    it('lists the oldest unread first, up to the limit', async ({ store }) => {
      const a = uid();
      const m = [];
      for (let i = 0; i < 5; i++) m.push((await send([a], { text: `m${i}` })).message.id);
      await store.setRead(a, [m[1]], true);
      expect((await store.oldestUnread(a, 2)).map((x) => x.id)).toEqual([m[0], m[2]]);
      const all = await store.oldestUnread(a, 100);
      expect(all.map((x) => x.id)).toEqual([m[0], m[2], m[3], m[4]]);
      expect(all.every((x) => x.readAt === null && x.stored)).toBe(true);
      expect(await store.oldestUnread(uid(), 100)).toEqual([]);
    });
  });
}

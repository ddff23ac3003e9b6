import { describe, expect } from 'vitest';
import { uid } from '../../support.js';
import { DAY, ids, query, type StoreContract } from './fixture.js';

export function sendContract({ it, send }: StoreContract): void {
  describe('send', () => {
    it('stores one message for each listed user, de-duplicated, with one id for all', async ({ store }) => {
      const [a, b] = [uid(), uid()];
      const createdAt = new Date(Date.now() - 60_000);
      const expiresAt = new Date(Date.now() + 7 * DAY);
      const data = { n: 1, nested: { s: 'é ☢ 😀' }, list: [1, 'two', null, true] };
      const sent = await store.send(
        { level: 41, text: 'an error ☢ 😀\nsecond line', extraTags: 'urgent', url: 'https://example.com/x?y=1', data, createdAt, expiresAt, category: null, critical: false, groupKey: null },
        { userIds: [a, b, a] },
      );
      expect(sent.replayed).toBe(false);
      expect(sent.recipientCount).toBe(2);
      expect([...(sent.recipients ?? [])].sort((x, y) => x.userId.localeCompare(y.userId))).toEqual(
        [{ userId: a, unreadCount: 1, unseenCount: 1, groupCount: 1, superseded: null }, { userId: b, unreadCount: 1, unseenCount: 1, groupCount: 1, superseded: null }].sort((x, y) => x.userId.localeCompare(y.userId)),
      );
      expect(sent.message).toEqual({
        id: expect.stringMatching(/^[1-9]\d*$/),
        level: 41,
        text: 'an error ☢ 😀\nsecond line',
        extraTags: 'urgent',
        url: 'https://example.com/x?y=1',
        data,
        createdAt,
        expiresAt,
        readAt: null,
        seenAt: null,
        archivedAt: null,
        snoozedUntil: null,
        category: null,
        groupKey: null,
        groupCount: 1,
        stored: true,
      });
      expect(await store.get(a, sent.message.id)).toEqual(sent.message);
      expect(await store.get(b, sent.message.id)).toEqual(sent.message);
      expect(await store.unreadCount(a)).toBe(1);
      expect(ids(await store.list(a, query()))).toEqual([sent.message.id]);
    });

    it('returns exact unread counts per recipient after each send', async () => {
      const [a, b] = [uid(), uid()];
      await send([a]);
      await send([a]);
      const third = await send([a, b]);
      const counts = Object.fromEntries((third.recipients ?? []).map((r) => [r.userId, r.unreadCount]));
      expect(counts).toEqual({ [a]: 3, [b]: 1 });
    });

    it('keeps data of any JSON shape, and no data as null', async ({ store }) => {
      const a = uid();
      for (const data of [null, 'a string', 42, 1.5, true, false, [1, [2, { three: 3 }]], { deep: { deeper: { deepest: 'é' } } }, {}]) {
        const sent = await send([a], { data });
        expect(sent.message.data).toEqual(data);
        expect((await store.get(a, sent.message.id))?.data).toEqual(data);
      }
    });

    it('keeps messages without expiry and without url', async ({ store }) => {
      const a = uid();
      const sent = await send([a], { expiresAt: null, url: null });
      expect(await store.get(a, sent.message.id)).toMatchObject({ expiresAt: null, url: null });
    });
  });
}

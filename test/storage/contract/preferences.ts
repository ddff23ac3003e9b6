import { describe, expect } from 'vitest';
import { PREFERENCES_MAX, PreferenceLimit } from '../../../src/domain/message-store.js';
import { uid } from '../../support.js';
import { ids, query, type StoreContract } from './fixture.js';

const none = { total: 0, unread: 0, unseen: 0, archived: 0, snoozed: 0 };

/** Preferences (section 9 of the contract): what a user set, and sends skipping users who disabled a category. */
export function preferencesContract({ it, send, broadcast, expectCounts, knownUsers }: StoreContract): void {
  describe('preferences', () => {
    it('answers the categories set, in code-point order; setting again updates the row', async ({ store }) => {
      const [a, b] = [uid(), uid()];
      expect(await store.preferences(a)).toEqual([]);
      const names = ['social', 'a_b', 'a-b', 'a.b', '9x', 'billing', 'a0'];
      for (const [i, category] of names.entries()) expect(await store.setPreference(a, category, i % 2 === 0)).toEqual({ category, enabled: i % 2 === 0 });
      expect(await store.setPreference(a, 'social', false)).toEqual({ category: 'social', enabled: false });
      expect(await store.setPreference(a, 'a_b', true)).toEqual({ category: 'a_b', enabled: true });
      expect(await store.preferences(a)).toEqual([
        { category: '9x', enabled: true },
        { category: 'a-b', enabled: true },
        { category: 'a.b', enabled: false },
        { category: 'a0', enabled: true },
        { category: 'a_b', enabled: true },
        { category: 'billing', enabled: false },
        { category: 'social', enabled: false },
      ]);
      expect(await store.preferences(b)).toEqual([]);
    });

    it(`refuses a user's ${PREFERENCES_MAX + 1}st category, and still updates the ones set`, async ({ store }) => {
      const [a, b] = [uid(), uid()];
      const names = Array.from({ length: PREFERENCES_MAX }, (_, i) => `c${String(i).padStart(4, '0')}`);
      for (let i = 0; i < names.length; i += 50) await Promise.all(names.slice(i, i + 50).map((c) => store.setPreference(a, c, false)));
      await expect(store.setPreference(a, 'one-too-many', false)).rejects.toThrow(PreferenceLimit);
      await expect(store.setPreference(a, 'one-too-many', true)).rejects.toThrow(PreferenceLimit);
      expect(await store.setPreference(a, names[7], true)).toEqual({ category: names[7], enabled: true });
      const set = await store.preferences(a);
      expect(set.length).toBe(PREFERENCES_MAX);
      expect(set.map((p) => p.category)).toEqual(names);
      expect(await store.setPreference(b, 'one-too-many', false)).toEqual({ category: 'one-too-many', enabled: false });
    });

    it('skips recipients who disabled the category unless the send is critical; delivered ones stay; re-enabling brings nothing back', async ({ store }) => {
      const [a, b] = [uid(), uid()];
      const kept = (await send([a], { category: 'social', text: 'before' })).message.id;
      await store.setPreference(a, 'social', false);
      await store.setPreference(b, 'billing', false);

      const both = await send([a, b], { category: 'social', text: 'skipped for a' });
      expect(both.recipientCount).toBe(1);
      expect(both.recipients?.map((r) => r.userId)).toEqual([b]);
      const alone = await send([a], { category: 'social', text: 'skipped' });
      expect(alone).toMatchObject({ recipientCount: 0, recipients: [], replayed: false });
      for (const id of [both.message.id, alone.message.id]) expect(await store.get(a, id)).toBeNull();
      expect(ids(await store.list(a, query()))).toEqual([kept]);
      expect(await store.counts(a, 'social')).toEqual({ ...none, total: 1, unread: 1, unseen: 1 });

      const critical = await send([a, b], { category: 'social', critical: true, text: 'critical' });
      expect(critical.recipientCount).toBe(2);
      const other = await send([a], { category: 'billing' }); // b's preference is b's
      const plain = await send([a]);
      expect(other.recipients?.map((r) => r.userId)).toEqual([a]);
      expect(plain.recipients?.[0]).toMatchObject({ userId: a, unreadCount: 4, unseenCount: 4 });

      await store.setPreference(a, 'social', true);
      expect(ids(await store.list(a, query()))).toEqual([plain.message.id, other.message.id, critical.message.id, kept]);
      const after = await send([a], { category: 'social' });
      expect(after.recipientCount).toBe(1);
      await expectCounts(a, { ...none, total: 5, unread: 5, unseen: 5 });
      await expectCounts(b, { ...none, total: 2, unread: 2, unseen: 2 });
    });

    it('applies to a broadcast when it reaches the inbox; its recipientCount stays the known users', async ({ store }) => {
      const [off, on] = [uid(), uid()];
      await store.ensureUser(off);
      await store.ensureUser(on);
      await store.setPreference(off, 'news', false);
      const news = await broadcast({ category: 'news', text: 'news' });
      const critical = await broadcast({ category: 'news', critical: true, text: 'critical news' });
      expect(news.recipientCount).toBe(await knownUsers());
      const views = await store.broadcastViews(news.message.id, [off, on]);
      expect(Object.fromEntries(views)).toEqual({
        [off]: { has: false, unreadCount: 2, unseenCount: 2 }, // critical news and the probe
        [on]: { has: true, unreadCount: 3, unseenCount: 3 }, // news, critical news and the probe broadcast
      });
      expect(await store.get(off, news.message.id)).toBeNull();
      expect(await store.get(off, critical.message.id)).toMatchObject({ category: 'news' });
      expect(await store.counts(off, 'news')).toEqual({ ...none, total: 1, unread: 1, unseen: 1 });
      await store.setPreference(off, 'news', true);
      expect(await store.get(off, news.message.id)).toBeNull();
      await expectCounts(off, { ...none, total: 2, unread: 2, unseen: 2 });
    });
  });
}

import { describe, expect } from 'vitest';
import { uid } from '../../support.js';
import { ids, query, type StoreContract } from './fixture.js';

export function isolationContract({ it, send }: StoreContract): void {
  describe('isolation', () => {
    it('shows a message to its recipients only', async ({ store }) => {
      const [a, stranger] = [uid(), uid()];
      await store.ensureUser(stranger);
      const sent = await send([a]);
      expect(await store.get(stranger, sent.message.id)).toBeNull();
      expect(await store.unreadCount(stranger)).toBe(0);
      const page = await store.list(stranger, query());
      expect(page.items).toEqual([]);
      expect(page.totalCount).toBe(0);
      expect(await store.oldestUnread(stranger, 100)).toEqual([]);
    });

    it('returns null for ids that do not exist, are malformed, or are not the user\'s', async ({ store }) => {
      const [a, b] = [uid(), uid()];
      const own = await send([a]);
      const other = await send([b]);
      for (const id of ['987654321987654', '0', '-1', 'abc', '', `${own.message.id}x`, other.message.id]) {
        expect(await store.get(a, id)).toBeNull();
      }
      expect(await store.get(a, own.message.id)).not.toBeNull();
    });
  });
}

import { describe, expect } from 'vitest';
import { uid } from '../../support.js';
import { ids, query, sorted, type StoreContract } from './fixture.js';

export function deleteContract({ it, send, expectConsistent }: StoreContract): void {
  describe('delete', () => {
    it('deletes only the user\'s deliveries', async ({ store }) => {
      const [a, b] = [uid(), uid()];
      const unread = (await send([a])).message.id;
      const read = (await send([a])).message.id;
      const kept = (await send([a])).message.id;
      const shared = (await send([a, b])).message.id;
      const others = (await send([b])).message.id;
      await store.setRead(a, [read], true);
      const missing = '987654321987654';
      const r = await store.deleteMessages(a, [unread, read, shared, others, missing, unread, 'abc']);
      expect(sorted(r.deleted)).toEqual(sorted([unread, read, shared]));
      expect(r.notFound).toEqual([others, missing, 'abc']);
      expect(r.unreadCount).toBe(1);
      expect(ids(await store.list(a, query()))).toEqual([kept]);
      expect(await store.get(a, shared)).toBeNull();
      expect(sorted(ids(await store.list(b, query())))).toEqual(sorted([shared, others]));
      expect(await store.unreadCount(b)).toBe(2);

      const again = await store.deleteMessages(a, [unread, shared]);
      expect(again).toMatchObject({ deleted: [], notFound: [unread, shared], unreadCount: 1 });
      expect((await store.setRead(a, [read], false)).notFound).toEqual([read]);
      await expectConsistent(a);
      await expectConsistent(b);
    });
  });
}

import { describe, expect } from 'vitest';
import { IdempotencyMismatch } from '../../../src/domain/message-store.js';
import { uid } from '../../support.js';
import { claim, flashResult, ids, msg, query, type StoreContract } from './fixture.js';

export function idempotencyContract({ it, expectConsistent }: StoreContract): void {
  describe('idempotency', () => {
    it('replays a send with the same claim: same result, nothing new stored', async ({ store }) => {
      const [a, b] = [uid(), uid()];
      const c = claim();
      const first = await store.send(msg({ text: 'once' }), { userIds: [a, b] }, c);
      expect(first.replayed).toBe(false);
      await store.setRead(a, [first.message.id], true); // a replay returns the first result as it was
      const again = await store.send(msg({ text: 'once' }), { userIds: [a, b] }, c);
      expect(again.replayed).toBe(true);
      expect(again.message).toEqual(first.message);
      expect(again.message.createdAt).toBeInstanceOf(Date);
      expect(again.recipientCount).toBe(2);
      expect(ids(await store.list(a, query()))).toEqual([first.message.id]);
      expect(ids(await store.list(b, query()))).toEqual([first.message.id]);
      expect(await store.unreadCount(b)).toBe(1);
    });

    it('refuses a claim reused with another fingerprint, storing nothing', async ({ store }) => {
      const a = uid();
      const c = claim();
      await store.send(msg(), { userIds: [a] }, c);
      await expect(store.send(msg({ text: 'other' }), { userIds: [a] }, { ...c, fingerprint: 'e'.repeat(64) })).rejects.toBeInstanceOf(
        IdempotencyMismatch,
      );
      expect((await store.list(a, query())).totalCount).toBe(1);
    });

    it('scopes keys: the same key in another scope is a new request', async ({ store }) => {
      const a = uid();
      const key = uid('key');
      const one = await store.send(msg(), { userIds: [a] }, claim({ key, scope: `addMessageFor:${uid('caller')}` }));
      const two = await store.send(msg(), { userIds: [a] }, claim({ key, scope: `addMessageFor:${uid('caller')}` }));
      expect(two.replayed).toBe(false);
      expect(two.message.id).not.toBe(one.message.id);
      expect(await store.unreadCount(a)).toBe(2);
    });

    it('replays a broadcast', async ({ store }) => {
      const a = uid();
      await store.ensureUser(a);
      const c = claim();
      const first = await store.send(msg({ text: 'once for all' }), { everyone: true }, c);
      const again = await store.send(msg({ text: 'once for all' }), { everyone: true }, c);
      expect(again).toMatchObject({ replayed: true, recipientCount: first.recipientCount });
      expect(again.message).toEqual(first.message);
      expect(ids(await store.list(a, query()))).toEqual([first.message.id]);
    });

    it('stores a claim once under concurrent identical sends', async ({ store }) => {
      const a = uid();
      const c = claim();
      const results = await Promise.all(Array.from({ length: 6 }, () => store.send(msg({ text: 'race' }), { userIds: [a] }, c)));
      expect(results.filter((r) => !r.replayed)).toHaveLength(1);
      expect(new Set(results.map((r) => r.message.id)).size).toBe(1);
      expect(await store.unreadCount(a)).toBe(1);
      await expectConsistent(a);
    });

    it('remembers the first result that is not a stored message and answers it to later calls', async ({ store }) => {
      const c = claim({ scope: `addMessage:${uid('caller')}` });
      const result = flashResult('b9f3c1e2-0000-4000-8000-000000000000', 'flash ☢');
      expect(await store.remember(c, result)).toEqual(result);
      // The first result wins; a second remember returns it, dates revived.
      const again = await store.remember(c, flashResult('c9f3c1e2-0000-4000-8000-000000000000', 'other'));
      expect(again).toEqual(result);
      expect(again.message.createdAt).toBeInstanceOf(Date);
      const other = { ...c, fingerprint: 'e'.repeat(64) };
      await expect(store.remember(other, result)).rejects.toBeInstanceOf(IdempotencyMismatch);
      const fresh = flashResult('d9f3c1e2-0000-4000-8000-000000000000', 'fresh');
      expect(await store.remember({ ...c, key: uid('key') }, fresh)).toEqual(fresh);
    });

    it('forgets a remembered result for its own fingerprint only, so a retry can remember anew', async ({ store }) => {
      const c = claim({ scope: `addMessage:${uid('caller')}` });
      const result = flashResult('e9f3c1e2-0000-4000-8000-000000000000', 'first');
      const retry = flashResult('f9f3c1e2-0000-4000-8000-000000000000', 'retry');
      await store.remember(c, result);
      await store.forget({ ...c, fingerprint: 'e'.repeat(64) });
      expect(await store.remember(c, retry)).toEqual(result);
      await store.forget(c);
      expect(await store.remember(c, retry)).toEqual(retry);
    });
  });
}

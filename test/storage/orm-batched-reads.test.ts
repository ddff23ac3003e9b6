import { describe, expect, it } from 'vitest';
import type { Db } from '../../src/storage/orm/db.js';
import { SET_READ_BATCH, SET_READ_ONE } from '../../src/storage/orm/sql/mark-read.js';
import { uid } from '../support.js';
import { msg } from './contract.js';
import { pgStoreWithConnection } from './pg-fixture.js';

/** Group commit of markReads on PostgreSQL (read-marks.ts): what the contract suite cannot see, that they went together. */
describe('PostgreSQL batched markReads', () => {
  const f = pgStoreWithConnection();

  it('marks concurrent markReads of one message in fewer statements, each with its own change and count', async () => {
    const { store } = f;
    /** The requests in each statement that marked read: 1 for SET_READ_ONE, the batch's size for SET_READ_BATCH. */
    const batches: number[] = [];
    (store as unknown as { db: Db }).db.onStatement = (text, bindings) => {
      if (text === SET_READ_BATCH.text) batches.push((JSON.parse(bindings[0] as string) as unknown[]).length);
      if (text === SET_READ_ONE.text) batches.push(1);
    };
    const users = [uid(), uid(), uid(), uid()];
    const ids = new Map<string, string[]>();
    for (const u of users) {
      const mine: string[] = [];
      for (let i = 0; i < 10; i++) mine.push((await store.send(msg(), { userIds: [u] })).message.id);
      ids.set(u, mine);
    }
    const calls = users.flatMap((u) => ids.get(u)!.map((id) => ({ u, id })));
    const results = await Promise.all(calls.map(({ u, id }) => store.setRead(u, [id], true)));
    (store as unknown as { db: Db }).db.onStatement = undefined;

    expect(batches.reduce((n, k) => n + k, 0)).toBe(40);
    expect(Math.max(...batches)).toBeGreaterThan(1);
    results.forEach((r, k) => expect(r.changed).toEqual([calls[k].id]));
    // Per user, each markRead reports the count just after it: 9, 8, ... 0, each once.
    for (const u of users) {
      const counts = results.filter((_, k) => calls[k].u === u).map((r) => r.unreadCount);
      expect(counts.sort((x, y) => y - x)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
      expect(await store.unreadCount(u)).toBe(0);
    }
  });
});

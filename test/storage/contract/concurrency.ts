import { describe, expect } from 'vitest';
import type { SendResult } from '../../../src/domain/message-store.js';
import { uid } from '../../support.js';
import { ids, msg, query, sorted, type StoreContract } from './fixture.js';

export function concurrencyContract({ it, send, broadcast, listAll, expectConsistent, knownUsers }: StoreContract): void {
  describe('concurrency', () => {
    it('gives each of many concurrent sends to shared users its own message, its recipients and the count just after it', async ({ store }) => {
      const [a, b, c] = [uid(), uid(), uid()];
      const to = (k: number) => (k % 3 === 0 ? [a] : k % 3 === 1 ? [a, b] : [c, b]);
      const results = await Promise.all(Array.from({ length: 60 }, (_, k) => send(to(k), { text: `concurrent ${k}` })));
      expect(new Set(results.map((r) => r.message.id)).size).toBe(60);
      const seen = new Map<string, [id: number, count: number][]>();
      results.forEach((r, k) => {
        expect(r.message.text).toBe(`concurrent ${k}`);
        expect(r.recipientCount).toBe(to(k).length);
        expect(r.recipients?.map((x) => x.userId).sort()).toEqual([...to(k)].sort());
        for (const x of r.recipients ?? []) seen.set(x.userId, [...(seen.get(x.userId) ?? []), [Number(r.message.id), x.unreadCount]]);
      });
      // Per user: each send reports its own count, so together they are 1, 2, 3 ... exactly. (In the
      // order of the messages' ids on a single store; a Redis Cluster delivers multi-user sends per
      // user after the id is taken, so there the order may differ.)
      for (const [user, pairs] of seen) {
        pairs.sort((p, q) => p[0] - q[0]);
        const counts = pairs.map(([, n]) => n).sort((p, q) => p - q);
        expect(counts, user).toEqual(counts.map((_, i) => i + 1));
        expect(await store.unreadCount(user)).toBe(counts.length);
        expect((await listAll(user)).map((m) => m.id)).toEqual(pairs.map(([id]) => String(id)).reverse());
        await expectConsistent(user);
      }
      expect([seen.get(a)?.length, seen.get(b)?.length, seen.get(c)?.length]).toEqual([40, 40, 20]);
    });

    it('keeps counts exact under concurrent sends, reads and deletes for one user', async ({ store }) => {
      const a = uid();
      const existing: string[] = [];
      for (let i = 0; i < 10; i++) existing.push((await send([a], { text: `existing ${i}` })).message.id);
      const results = await Promise.all([
        ...Array.from({ length: 20 }, (_, i) => send([a], { text: `concurrent ${i}` })),
        store.setRead(a, existing.slice(0, 5), true),
        store.setRead(a, existing.slice(5, 7), false),
        store.deleteMessages(a, existing.slice(8, 10)),
        store.unreadCount(a),
        store.list(a, query({ unreadOnly: true })),
      ]);
      const sends = results.slice(0, 20) as SendResult[];
      // Each send reports the count right after it: at least 1, at most everything unread.
      for (const s of sends) expect(s.recipients?.[0].unreadCount).toBeGreaterThanOrEqual(1);
      for (const s of sends) expect(s.recipients?.[0].unreadCount).toBeLessThanOrEqual(30);
      const c = await expectConsistent(a);
      expect(c.rows).toBe(28);
      expect(c.unread).toBe(23);
    });

    it('keeps counts exact when mark-all-read and deletes race with sends', async ({ store }) => {
      const a = uid();
      for (let i = 0; i < 5; i++) await send([a]);
      const first = await store.list(a, query({ limit: 2 }));
      await Promise.all([
        ...Array.from({ length: 10 }, () => send([a])),
        store.markAllRead(a, new Date()),
        store.deleteMessages(a, ids(first)),
        store.markAllRead(a, new Date()),
      ]);
      const c = await expectConsistent(a);
      expect(c.rows).toBe(13);
    });

    it('keeps counts exact when mark-all-read races with sends, reads, unreads, deletes and broadcasts, round after round', async ({ store }) => {
      const a = uid();
      await store.ensureUser(a);
      const seen: string[] = [];
      let deleted = 0;
      for (let round = 0; round < 4; round++) {
        const page = ids(await store.list(a, query({ limit: 6 })));
        const results = await Promise.all([
          ...Array.from({ length: 6 }, (_, i) => send([a], { text: `round ${round} send ${i}` })),
          store.markAllRead(a, new Date()),
          store.setRead(a, page.slice(0, 2), false),
          store.setRead(a, page.slice(2, 4), true),
          store.deleteMessages(a, page.slice(4, 5)),
          broadcast({ text: `round ${round} broadcast` }),
          store.markAllRead(a, new Date()),
        ]);
        for (const r of results.slice(0, 6) as SendResult[]) seen.push(r.message.id);
        deleted += (results[9] as { deleted: string[] }).deleted.length;
        await expectConsistent(a);
      }
      // Nothing sent was lost: every direct send is still listed unless this test deleted it.
      const c = await expectConsistent(a);
      expect(deleted).toBe(3); // the first round's page was empty
      expect(c.rows).toBe(4 * 6 + 4 - deleted); // sends + broadcasts - deletes
      for (const id of seen.slice(-6)) expect(c.ids).toContain(id);
    });

    it('lands every concurrent multi-recipient send for every recipient, whatever the recipient order', async () => {
      const users = Array.from({ length: 5 }, () => uid());
      const n = 12;
      const sends = await Promise.all(
        Array.from({ length: n }, (_, i) => {
          const order = i % 2 ? [...users].reverse() : [...users.slice(i % 5), ...users.slice(0, i % 5)];
          return send(order, { text: `multi ${i}` });
        }),
      );
      for (const u of users) {
        const c = await expectConsistent(u);
        expect(c.rows).toBe(n);
        expect(c.unread).toBe(n);
        // Every send reported this user's exact count after it: 1..n, each once.
        const reported = sends.map((s) => s.recipients?.find((r) => r.userId === u)?.unreadCount).sort((x, y) => (x ?? 0) - (y ?? 0));
        expect(reported).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      }
    });

    /**
     * Three users with three messages each and a broadcast not yet copied to them; for each user, every
     * one of their four messages asked for twice, someone else's message, and an id nobody has: all at once.
     */
    async function raceOnOwnMessages<R>(act: (userId: string, id: string) => Promise<R>) {
      const users = [uid(), uid(), uid()];
      const own = new Map<string, string[]>();
      for (const u of users) own.set(u, [await send([u], { text: 'one' }), await send([u], { text: 'two' }), await send([u], { text: 'three' })].map((r) => r.message.id));
      const late = (await broadcast({ text: 'late' })).message.id;
      const calls = users.flatMap((u, k) => {
        const mine = [...own.get(u)!, late];
        return [...mine, ...mine, own.get(users[(k + 1) % users.length])![0], '999999999'].map((id) => ({ u, id, mine: mine.includes(id) }));
      });
      const results = await Promise.all(calls.map(({ u, id }) => act(u, id)));
      return users.map((u) => ({
        u,
        mine: [...own.get(u)!, late],
        ofMine: results.filter((_, i) => calls[i].u === u && calls[i].mine),
        ofOthers: results.filter((_, i) => calls[i].u === u && !calls[i].mine),
      }));
    }

    it('answers each of many concurrent markReads as if alone: its change once, the count just after it, nobody else\'s message', async ({ store }) => {
      for (const { u, mine, ofMine, ofOthers } of await raceOnOwnMessages((u, id) => store.setRead(u, [id], true))) {
        // Each message changed once, by one of its two markReads; the other found it read.
        const changing = ofMine.filter((r) => r.changed.length === 1);
        expect(sorted(changing.flatMap((r) => r.changed))).toEqual(sorted(mine));
        expect(changing.map((r) => r.unreadCount).sort()).toEqual([0, 1, 2, 3]);
        for (const r of ofMine) expect(r.messages.map((m) => m.readAt === null)).toEqual([false]);
        for (const r of ofOthers) expect([r.changed, r.messages, r.notFound.length]).toEqual([[], [], 1]);
        const c = await expectConsistent(u);
        expect([c.rows, c.unread]).toEqual([4, 0]);
      }
    });

    it('answers each of many concurrent deletes as if alone: deleted once, the count just after it, nobody else\'s message', async ({ store }) => {
      for (const { u, mine, ofMine, ofOthers } of await raceOnOwnMessages((u, id) => store.deleteMessages(u, [id]))) {
        const deleting = ofMine.filter((r) => r.deleted.length === 1);
        expect(sorted(deleting.flatMap((r) => r.deleted))).toEqual(sorted(mine));
        expect(deleting.map((r) => r.unreadCount).sort()).toEqual([0, 1, 2, 3]);
        for (const r of ofOthers) expect([r.deleted, r.notFound.length]).toEqual([[], 1]);
        const c = await expectConsistent(u);
        expect([c.rows, c.unread]).toEqual([0, 0]);
      }
    });

    it('delivers concurrent broadcasts exactly once to users reading meanwhile', async ({ store }) => {
      const users = Array.from({ length: 3 }, () => uid());
      for (const u of users) await store.ensureUser(u);
      const sent = await Promise.all([
        ...Array.from({ length: 5 }, (_, i) => broadcast({ text: `concurrent broadcast ${i}` })),
        ...users.flatMap((u) => [store.unreadCount(u), store.list(u, query()), store.markAllRead(u, new Date(0)), store.oldestUnread(u, 10)]),
      ]);
      const broadcastIds = sorted((sent.slice(0, 5) as SendResult[]).map((s) => s.message.id));
      for (const u of users) {
        const c = await expectConsistent(u);
        expect(sorted(c.ids)).toEqual(broadcastIds);
        expect(c.unread).toBe(5);
      }
    });
  });

  describe('atomicity', () => {
    it('stores a multi-recipient send for all recipients or for none', async ({ store }) => {
      const known = uid();
      const [fresh1, fresh2] = [uid(), uid()];
      await store.ensureUser(known);
      const before = await knownUsers();
      // U+0000 is text some backends cannot store (PostgreSQL): there the send must fail as a whole.
      const outcome = await store.send(msg({ text: 'nul \u0000 byte' }), { userIds: [known, fresh1, fresh2] }).then(
        (r) => ({ ok: true as const, id: r.message.id }),
        () => ({ ok: false as const, id: null }),
      );
      const after = await knownUsers();
      const listed = await Promise.all([known, fresh1, fresh2].map(async (u) => ids(await store.list(u, query({ limit: 100 })))));
      if (outcome.ok) {
        for (const l of listed) expect(l).toContain(outcome.id);
        expect(after).toBe(before + 2);
      } else {
        // None got it, and the users it would have introduced are still unknown (no later broadcast reached them).
        expect(listed[0]).toHaveLength(2); // the two probes
        expect(listed[1]).toEqual([]);
        expect(listed[2]).toEqual([]);
        expect(after).toBe(before);
      }
      for (const u of [known, fresh1, fresh2]) await expectConsistent(u);
    });
  });
}

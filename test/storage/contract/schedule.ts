import { describe, expect } from 'vitest';
import { IdempotencyMismatch, InvalidCursor, type DeliveredSchedule, type MessageStore, type ScheduledRecord } from '../../../src/domain/message-store.js';
import { uid } from '../../support.js';
import { DAY, claim, idsOf, msg, sorted, type StoreContract } from './fixture.js';

/**
 * Delivers everything due at `now`, `limit` at a time, until a call delivers nothing. The store is shared
 * by the suite: other tests' schedules may be delivered here too, so callers look at their own only.
 */
async function deliverAll(store: MessageStore, now = new Date(), limit = 100): Promise<DeliveredSchedule[]> {
  const out: DeliveredSchedule[] = [];
  for (;;) {
    const delivered = await store.deliverDue(now, limit);
    if (delivered.length === 0) return out;
    out.push(...delivered);
  }
}
const mine = (delivered: DeliveredSchedule[], ids: readonly string[]) => delivered.filter((d) => ids.includes(d.scheduled.id));

/** Every pending schedule, walking the pages `limit` at a time. */
async function allPending(store: MessageStore, limit: number): Promise<{ records: ScheduledRecord[]; totalCount: number }> {
  const records: ScheduledRecord[] = [];
  let cursor: string | null = null;
  for (;;) {
    const page = await store.scheduled({ limit, cursor });
    records.push(...page.items.map((i) => i.scheduled));
    if (!page.hasNextPage) return { records, totalCount: page.totalCount };
    cursor = page.items.at(-1)!.cursor;
  }
}

/** Scheduled delivery (CONTRACT.md §9): the store keeps, lists, cancels and delivers each exactly once. */
export function scheduleContract({ it, twin, listAll, expectConsistent }: StoreContract): void {
  /** A time just past, so the schedule is due at once (the store leaves "in the future" to the domain). */
  const justPast = () => new Date(Date.now() - 1000);

  describe('schedules', () => {
    it('keeps a message until it is due, then delivers it once, as a send at that moment, under a new id', async ({ store }) => {
      const [a, b] = [uid(), uid()];
      const deliverAt = justPast();
      const s = await store.schedule(msg({ text: 'later', createdAt: deliverAt, category: 'news' }), { userIds: [a, b, a] }, deliverAt);
      expect(s).toMatchObject({ replayed: false, deliverAt, recipientCount: 2, broadcast: false });
      expect(s.message).toMatchObject({ id: s.id, text: 'later', createdAt: deliverAt, category: 'news', readAt: null, seenAt: null, groupCount: 1, stored: true });

      expect(mine(await deliverAll(store, new Date(deliverAt.getTime() - 1)), [s.id])).toEqual([]);
      expect(await store.counts(a)).toMatchObject({ total: 0, unread: 0 });
      expect(await store.get(a, s.id)).toBeNull();
      expect((await allPending(store, 50)).records.map((r) => r.id)).toContain(s.id);

      const [d] = mine(await deliverAll(store), [s.id]);
      expect(d.scheduled).toEqual({ id: s.id, message: s.message, deliverAt, recipientCount: 2, broadcast: false });
      expect(d.result.replayed).toBe(false);
      expect(d.result.recipientCount).toBe(2);
      expect(Number(d.result.message.id)).toBeGreaterThan(Number(s.id));
      expect(d.result.message).toMatchObject({ text: 'later', createdAt: deliverAt, category: 'news', readAt: null });
      expect(d.result.recipients?.map((r) => [r.userId, r.unreadCount, r.groupCount]).sort()).toEqual(sorted([a, b]).map((u) => [u, 1, 1]));
      for (const u of [a, b]) {
        expect(await idsOf(store, u)).toEqual([d.result.message.id]);
        await expectConsistent(u);
      }
      expect((await listAll(a))[0]).toMatchObject({ text: 'later', createdAt: deliverAt });

      expect(mine(await deliverAll(store), [s.id])).toEqual([]);
      expect(await store.cancelScheduled(s.id)).toEqual({ cancelled: false, scheduled: d.scheduled });
      expect((await allPending(store, 50)).records.map((r) => r.id)).not.toContain(s.id);
    });

    it('lists pending schedules soonest first (then by id), page by page, and cancels each once', async ({ store }) => {
      const base = Date.now() + 300 * DAY + Math.floor(Math.random() * DAY);
      const at = [3, 1, 2, 1, 5].map((k) => new Date(base + k * 1000));
      const before = (await store.scheduled({ limit: 0, cursor: null })).totalCount;
      const made: (ScheduledRecord & { replayed: boolean })[] = [];
      for (const [k, t] of at.entries()) made.push(await store.schedule(msg({ text: `s${k}` }), { userIds: [uid()] }, t));
      const expected = [...made].sort((x, y) => x.deliverAt.getTime() - y.deliverAt.getTime() || Number(x.id) - Number(y.id));

      const walked = await allPending(store, 2);
      expect(walked.totalCount).toBe(before + 5);
      expect(walked.records.filter((r) => made.some((m) => m.id === r.id))).toEqual(expected.map(({ replayed: _, ...r }: ScheduledRecord & { replayed: boolean }) => r));
      await expect(store.scheduled({ limit: 2, cursor: 'nonsense' })).rejects.toBeInstanceOf(InvalidCursor);

      const first = await store.cancelScheduled(expected[0].id);
      expect(first).toEqual({ cancelled: true, scheduled: walked.records.find((r) => r.id === expected[0].id) });
      expect((await store.cancelScheduled(expected[0].id))?.cancelled).toBe(false);
      expect(await store.cancelScheduled('999999999999999')).toBeNull();
      expect(await store.cancelScheduled('abc')).toBeNull();
      const page = await store.scheduled({ limit: 100, cursor: null });
      expect(page.totalCount).toBe(before + 4);
      expect(page.items.map((i) => i.scheduled.id)).not.toContain(expected[0].id);
      for (const m of expected.slice(1)) expect((await store.cancelScheduled(m.id))?.cancelled).toBe(true);
      expect((await store.scheduled({ limit: 0, cursor: null })).totalCount).toBe(before);
    });

    it('never delivers a cancelled schedule', async ({ store }) => {
      const a = uid();
      const s = await store.schedule(msg(), { userIds: [a] }, justPast());
      expect((await store.cancelScheduled(s.id))?.cancelled).toBe(true);
      expect(mine(await deliverAll(store), [s.id])).toEqual([]);
      expect(await store.counts(a)).toMatchObject({ total: 0, unread: 0 });
    });

    it('delivers a scheduled broadcast to the users known at delivery', async ({ store }) => {
      const early = uid();
      await store.ensureUser(early);
      const s = await store.schedule(msg({ text: 'to all, later' }), { everyone: true }, justPast());
      expect(s).toMatchObject({ broadcast: true, replayed: false });
      expect(s.recipientCount).toBeGreaterThanOrEqual(1);
      const late = uid();
      await store.ensureUser(late);
      const [d] = mine(await deliverAll(store), [s.id]);
      expect(d.scheduled.broadcast).toBe(true);
      expect(d.result.recipients).toBeNull();
      expect(d.result.recipientCount).toBeGreaterThanOrEqual(s.recipientCount + 1);
      for (const u of [early, late]) expect(await idsOf(store, u)).toEqual([d.result.message.id]);
      expect((await store.broadcastViews(d.result.message.id, [late])).get(late)).toMatchObject({ has: true, unreadCount: 1 });
    });

    it('replays a schedule with the same idempotency claim and refuses the claim with another fingerprint', async ({ store }) => {
      const a = uid();
      const c = claim();
      const deliverAt = new Date(Date.now() + 200 * DAY);
      const first = await store.schedule(msg({ text: 'once' }), { userIds: [a] }, deliverAt, c);
      const again = await store.schedule(msg({ text: 'once' }), { userIds: [a] }, deliverAt, c);
      expect(again).toEqual({ ...first, replayed: true });
      await expect(store.schedule(msg({ text: 'once' }), { userIds: [a] }, new Date(deliverAt.getTime() + 1), { ...c, fingerprint: 'e'.repeat(64) })).rejects.toBeInstanceOf(
        IdempotencyMismatch,
      );
      expect((await store.cancelScheduled(first.id))?.cancelled).toBe(true);
    });

    it('delivers each due schedule exactly once when several callers, on two instances, deliver at once', async ({ store }) => {
      const shared = uid();
      const made = await Promise.all(Array.from({ length: 24 }, (_, k) => store.schedule(msg({ text: `due ${k}` }), { userIds: [shared, uid()] }, justPast())));
      const ids = made.map((s) => s.id);
      const callers = [store, twin(), store, twin()].map((s) => deliverAll(s, new Date(), 5));
      const delivered = mine((await Promise.all(callers)).flat(), ids);
      expect(sorted(delivered.map((d) => d.scheduled.id))).toEqual(sorted(ids));
      expect(new Set(delivered.map((d) => d.result.message.id)).size).toBe(24);
      expect(sorted(await idsOf(store, shared))).toEqual(sorted(delivered.map((d) => d.result.message.id)));
      expect(await store.unreadCount(shared)).toBe(24);
      await expectConsistent(shared);
    });

    it('resolves cancel racing delivery to exactly one of cancelled and delivered', async ({ store }) => {
      const users = Array.from({ length: 12 }, () => uid());
      const made = await Promise.all(users.map((u) => store.schedule(msg({ text: 'race' }), { userIds: [u] }, justPast())));
      const [delivered, ...cancels] = await Promise.all([deliverAll(twin(), new Date(), 3), ...made.map((s) => store.cancelScheduled(s.id))]);
      const deliveredIds = new Set(mine(delivered, made.map((s) => s.id)).map((d) => d.scheduled.id));
      for (const [k, s] of made.entries()) {
        expect(cancels[k]?.cancelled, s.id).toBe(!deliveredIds.has(s.id));
        expect((await idsOf(store, users[k])).length).toBe(deliveredIds.has(s.id) ? 1 : 0);
      }
      expect(mine(await deliverAll(store), made.map((s) => s.id))).toEqual([]);
    });
  });
}

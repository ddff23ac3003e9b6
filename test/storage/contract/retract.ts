import { describe, expect } from 'vitest';
import type { InboxCounts, MessageStore, RetractResult } from '../../../src/domain/message-store.js';
import { inMs, uid } from '../../support.js';
import { DAY, idsOf, msg, query, sorted, type StoreContract } from './fixture.js';

const counts = (total: number, unread: number, unseen = unread, archived = 0, snoozed = 0): InboxCounts => ({ total, unread, unseen, archived, snoozed });
const none = counts(0, 0);
const again: RetractResult = { recipientCount: 0, broadcast: false, recipients: [] };

/** What a retraction answers each recipient, by user. */
const byUser = (r: RetractResult | null) => Object.fromEntries((r?.recipients ?? []).map((x) => [x.userId, [x.wasUnread, x.counts]]));

/** Delivers whatever is due now (other tests' schedules too), answering the delivery of schedule `id`. */
async function deliverNow(store: MessageStore, id: string) {
  for (;;) {
    const delivered = await store.deliverDue(new Date(), 100);
    const mine = delivered.find((d) => d.scheduled.id === id);
    if (mine || delivered.length === 0) return mine;
  }
}

/** Retraction (CONTRACT.md §9): a sent message leaves every recipient's inbox, archive, counts and indexes. */
export function retractContract({ it, send, broadcast, listAll, expectCounts }: StoreContract): void {
  describe('retraction', () => {
    it('removes a direct message from each recipient whatever its state, and answers who still had it', async ({ store }) => {
      const [unread, read, archived, snoozed, deleted, other] = [uid(), uid(), uid(), uid(), uid(), uid()];
      const everyone = [unread, read, archived, snoozed, deleted];
      const keep = await send([...everyone, other], { text: 'keep' });
      const m = await send(everyone, { text: 'mistake', category: 'news' });
      await store.setRead(read, [m.message.id], true);
      await store.setArchived(archived, [m.message.id], true);
      await store.snooze(snoozed, [m.message.id], inMs(DAY));
      await store.deleteMessages(deleted, [m.message.id]);

      const r = await store.retract(m.message.id);
      expect(r).toMatchObject({ recipientCount: 4, broadcast: false });
      expect(byUser(r)).toEqual({ [unread]: [true, counts(1, 1)], [read]: [false, counts(1, 1)], [archived]: [false, counts(1, 1)], [snoozed]: [false, counts(1, 1)] });
      for (const u of everyone) {
        expect(await store.get(u, m.message.id)).toBeNull();
        expect(await idsOf(store, u)).toEqual([keep.message.id]);
        expect(await store.counts(u, 'news')).toEqual(none);
        expect((await store.list(u, query({ filter: { categories: ['news'] } }))).items).toEqual([]);
        expect((await store.list(u, query({ filter: { snoozed: true } }))).items).toEqual([]);
        await expectCounts(u, counts(1, 1));
        expect((await store.setRead(u, [m.message.id], false)).notFound).toEqual([m.message.id]);
      }
      await expectCounts(other, counts(1, 1));
      // Retracting again answers 0; a message sent since is not touched.
      const later = await send([unread], { text: 'later', category: 'news' });
      expect(await store.retract(m.message.id)).toEqual(again);
      await expectCounts(unread, counts(2, 2));
      expect(await store.counts(unread, 'news')).toEqual(counts(1, 1));
      expect((await store.retract(later.message.id))?.recipientCount).toBe(1);
    });

    it('takes a retracted grouped message out of its group, so the next one starts the count again', async ({ store }) => {
      const a = uid();
      const g1 = await send([a], { groupKey: 'thread' });
      const g2 = await send([a], { groupKey: 'thread' });
      expect(byUser(await store.retract(g2.message.id))).toEqual({ [a]: [true, counts(1, 0)] });
      const g3 = await send([a], { groupKey: 'thread' });
      expect(g3.recipients).toEqual([{ userId: a, unreadCount: 1, unseenCount: 1, groupCount: 1, superseded: null }]);
      expect((await listAll(a)).map((x) => [x.id, x.groupCount])).toEqual([
        [g3.message.id, 1],
        [g1.message.id, 1],
      ]);
      await expectCounts(a, counts(2, 1));
    });

    it('retracts a broadcast in one step: those who had it lose it, those who never caught up never get it', async ({ store }) => {
      const [hadRead, hadUnread, behind, after] = [uid(), uid(), uid(), uid()];
      for (const u of [hadRead, hadUnread, behind]) await store.ensureUser(u);
      const keep = await send([hadRead, hadUnread, behind], { text: 'keep' });
      const b = await broadcast({ text: 'wrong', category: 'news' });
      await store.setRead(hadRead, [b.message.id], true);
      expect(await store.counts(hadUnread)).toEqual(counts(2, 2));
      await store.ensureUser(after);

      expect(await store.retract(b.message.id)).toEqual({ recipientCount: b.recipientCount, broadcast: true, recipients: null });
      const views = await store.retractedViews(b.message.id, [hadRead, hadUnread, behind, after, uid('unknown')]);
      const had = (wasUnread: boolean) => ({ had: true, wasUnread, unreadCount: 1, unseenCount: 1 });
      const not = (unread: number) => ({ had: false, wasUnread: false, unreadCount: unread, unseenCount: unread });
      expect([...views.values()]).toEqual([had(false), had(true), not(1), not(0), not(0)]);
      for (const u of [hadRead, hadUnread, behind]) {
        expect(await store.get(u, b.message.id)).toBeNull();
        expect(await idsOf(store, u)).toEqual([keep.message.id]);
        expect(await store.counts(u, 'news')).toEqual(none);
        await expectCounts(u, counts(1, 1));
      }
      await expectCounts(after, none);
      expect(await store.retract(b.message.id)).toEqual(again);
      // Later broadcasts still reach everyone.
      const next = await broadcast({ text: 'right' });
      expect(sorted(await Promise.all([hadRead, behind, after].map(async (u) => (await idsOf(store, u))[0])))).toEqual([next.message.id, next.message.id, next.message.id]);
    });

    it('cancels a schedule still pending, retracts the delivered message of one delivered, and knows nothing else', async ({ store }) => {
      const a = uid();
      const pending = await store.schedule(msg({ text: 'later' }), { userIds: [a] }, inMs(DAY));
      expect(await store.retract(pending.id)).toEqual(again);
      expect((await store.cancelScheduled(pending.id))?.cancelled).toBe(false);
      // A scheduled broadcast cancelled in time reached nobody: no recipients to tell.
      const broadcastLater = await store.schedule(msg({ text: 'all, later' }), { everyone: true }, inMs(DAY));
      expect(await store.retract(broadcastLater.id)).toEqual({ recipientCount: 0, broadcast: true, recipients: [] });
      expect(await store.retract(pending.id)).toEqual(again);

      const due = await store.schedule(msg({ text: 'now' }), { userIds: [a] }, new Date(Date.now() - 1000));
      const delivered = await deliverNow(store, due.id);
      expect(delivered?.result.recipientCount).toBe(1);
      expect(byUser(await store.retract(due.id))).toEqual({ [a]: [true, none] });
      expect(await store.get(a, delivered!.result.message.id)).toBeNull();
      expect(await store.retract(delivered!.result.message.id)).toEqual(again);
      await expectCounts(a, none);

      expect(await store.retract('999999999999999')).toBeNull();
      expect(await store.retract('abc')).toBeNull();
    });
  });
}

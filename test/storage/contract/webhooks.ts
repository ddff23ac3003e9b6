import { expect } from 'vitest';
import { IdempotencyMismatch, type SendResult } from '../../../src/domain/message-store.js';
import { inMs, uid, waitUntilPast } from '../../support.js';
import { claim, msg, type StoreContract } from './fixture.js';
import { Expected, drain, expectWritten, takeWritten } from './outbox-support.js';

/**
 * Sends that ran at once, in the order `user` got them: their counts' order (on a Redis Cluster a send
 * journalled with a lower id may reach a user after one with a higher id; the stream follows the user).
 */
const asReceivedBy = (user: string) => {
  const unread = (r: SendResult) => r.recipients?.find((x) => x.userId === user)?.unreadCount ?? 0;
  return (x: SendResult, y: SendResult) => unread(x) - unread(y);
};

/**
 * Webhooks (CONTRACT.md §10), what the store writes: every committed change writes exactly
 * webhookBodies(change) of the result it returned, in order per user, with the change; a broadcast one
 * event per signal in stream ''; a refused, replayed or empty change nothing.
 */
export function webhooksContract(c: StoreContract): void {
  c.it('writes each change’s webhook bodies, in order per user, with msg_ ids and the commit time', async ({ store }) => {
    const { outbox } = c.outboxes();
    await drain(outbox);
    const since = new Date();
    const [a, b, d] = [uid(), uid(), uid()];
    const e = new Expected();

    const first = await c.send([a, b]);
    e.add({ op: 'send', result: first });
    // Sent together: group-committed, each its own change, in the order each user got them.
    for (const result of (await Promise.all([c.send([a]), c.send([b]), c.send([a, d])])).sort(asReceivedBy(a))) e.add({ op: 'send', result });
    // The second of a group supersedes the first (INBOX_DELETED first).
    for (let i = 0; i < 2; i++) e.add({ op: 'send', result: await c.send([a], { groupKey: 'g', text: `grouped ${i}` }) });

    const [x] = [first.message.id];
    e.add({ op: 'setRead', userId: a, read: true, result: await store.setRead(a, [x], true) });
    e.add({ op: 'setRead', userId: a, read: false, result: await store.setRead(a, [x], false) });
    e.add({ op: 'markSeen', userId: a, result: await store.markSeen(a, [x]) });
    e.add({ op: 'setArchived', userId: a, archived: true, result: await store.setArchived(a, [x], true) });
    e.add({ op: 'setArchived', userId: a, archived: false, result: await store.setArchived(a, [x], false) });
    const until = inMs(3_600_000);
    e.add({ op: 'snooze', userId: a, until, result: await store.snooze(a, [x], until) });
    e.add({ op: 'snooze', userId: a, until: null, result: await store.snooze(a, [x], null) });

    const cut = new Date();
    e.add({ op: 'markAllSeen', userId: a, until: cut, category: null, result: await store.markAllSeen(a, cut, null) });
    e.add({ op: 'markAllRead', userId: b, until: cut, category: null, result: await store.markAllRead(b, cut, null) });
    e.add({ op: 'archiveAll', userId: d, until: cut, category: null, result: await store.archiveAll(d, cut, false, null) });
    e.add({ op: 'send', result: await c.send([a], { category: 'news' }) });
    const later = new Date();
    e.add({ op: 'markAllRead', userId: a, until: later, category: 'news', result: await store.markAllRead(a, later, 'news') });
    e.add({ op: 'archiveAll', userId: a, until: later, category: null, result: await store.archiveAll(a, later, true, null) });
    e.add({ op: 'deleteMessages', userId: b, result: await store.deleteMessages(b, [x]) });

    const toRetract = await c.send([a, d], { text: 'retracted' });
    e.add({ op: 'send', result: toRetract });
    e.add({ op: 'retract', messageId: toRetract.message.id, result: (await store.retract(toRetract.message.id))! });
    expectWritten(await takeWritten(outbox), e, [a, b, d], since);
  });

  c.it('writes timed wake-ups and scheduled deliveries once, as the changes they return', async ({ store }) => {
    const { outbox } = c.outboxes();
    const [a, b] = [uid(), uid()];
    const sent = await c.send([a]);
    const wakeAt = inMs(300);
    await store.snooze(a, [sent.message.id], wakeAt);
    const scheduled = await store.schedule(msg({ text: 'scheduled' }), { userIds: [a, b] }, inMs(300));
    await drain(outbox);
    const since = new Date();
    await waitUntilPast(wakeAt);
    const e = new Expected();
    for (const user of await store.wakeDue(new Date(), 1000)) e.add({ op: 'wake', user });
    const delivered = await store.deliverDue(new Date(), 1000);
    expect(delivered.map((x) => x.scheduled.id)).toContain(scheduled.id);
    for (const x of delivered) e.add({ op: 'send', result: x.result });
    // Nothing is due any more: delivering or waking again writes nothing.
    expect(await store.deliverDue(new Date(), 1000)).toEqual([]);
    await store.wakeDue(new Date(), 1000);
    const written = await takeWritten(outbox);
    expect(e.of(a).length).toBe(3);
    expectWritten(written, e, [a, b], since);
  });

  c.it('writes a broadcast, and its retraction, as one event per signal in stream ""', async ({ store }) => {
    const { outbox } = c.outboxes();
    await c.send([uid()]);
    await drain(outbox);
    const since = new Date();
    const e = new Expected();
    const sent = await c.broadcast();
    e.add({ op: 'send', result: sent });
    e.add({ op: 'retract', messageId: sent.message.id, result: (await store.retract(sent.message.id))! });
    const written = await takeWritten(outbox);
    expect([...written.keys()]).toEqual(['']);
    expect(written.get('')!.map((x) => x.type)).toEqual(['ARCHIVE_STORED', 'INBOX_STORED', 'INBOX_DELETED', 'ARCHIVE_DELETED']);
    expectWritten(written, e, [''], since);
  });

  c.it('writes nothing for a change that changed nothing, a refused one, or a replayed send', async ({ store }) => {
    const { outbox } = c.outboxes();
    const [a, off, on] = [uid(), uid(), uid()];
    const key = claim();
    const sent = await store.send(msg(), { userIds: [a] }, key);
    await store.setPreference(off, 'promo', false);
    const snoozed = inMs(3_600_000);
    await drain(outbox);

    await expect(store.send(msg(), { userIds: [a] }, key)).resolves.toMatchObject({ replayed: true });
    await expect(store.send(msg({ text: 'other' }), { userIds: [a] }, { ...key, fingerprint: '0'.repeat(64) })).rejects.toThrow(IdempotencyMismatch);
    expect((await store.setRead(a, [sent.message.id], false)).changed).toEqual([]);
    expect((await store.snooze(a, [sent.message.id], null)).changed).toEqual([]);
    expect((await store.deleteMessages(a, ['999999999'])).deleted).toEqual([]);
    expect((await store.markAllRead(uid(), new Date(), null)).count).toBe(0);
    expect((await store.archiveAll(a, new Date(0), false, null)).count).toBe(0);
    expect(await store.retract('999999999')).toBeNull();
    await store.schedule(msg(), { userIds: [a] }, snoozed);
    expect((await store.send(msg({ category: 'promo' }), { userIds: [off] })).recipientCount).toBe(0);
    expect(await takeWritten(outbox)).toEqual(new Map());

    // A preference-disabled recipient among others: only the others' events.
    const both = await store.send(msg({ category: 'promo' }), { userIds: [off, on] });
    expect(both.recipientCount).toBe(1);
    expect([...(await takeWritten(outbox)).keys()]).toEqual([on]);
  });
}

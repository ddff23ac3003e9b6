import { expect } from 'vitest';
import type { StoreChange } from '../../src/domain/changes.js';
import type { MessageStore } from '../../src/domain/message-store.js';
import type { Storage } from '../../src/storage/index.js';
import { webhookBodies, type WebhookBody, type WebhookEvent, type WebhookOutbox } from '../../src/domain/webhooks.js';
import { msg } from './contract.js';
import { ALL_SIGNALS, uid } from './redis-helpers.js';

/**
 * The Redis outbox's checks shared by the single-server and Cluster tests: every operation's webhook
 * bodies, compared with webhookBodies of the change its result describes (as the domain builds it).
 */
export type StoreWithOutbox = Storage & { webhooks: WebhookOutbox };

const HOUR = 3_600_000;

/** Claims and acknowledges everything due until nothing is; the events claimed, by stream. */
export async function drain(outbox: WebhookOutbox, now = new Date()): Promise<Map<string, WebhookEvent[]>> {
  const out = new Map<string, WebhookEvent[]>();
  for (let round = 0; round < 20; round++) {
    const claims = await outbox.claim({ now, streams: 100, perStream: 100, leaseMs: 60_000 });
    if (!claims.length) return out;
    for (const c of claims) out.set(c.stream, [...(out.get(c.stream) ?? []), ...c.items.map((i) => i.event)]);
    await outbox.acknowledge(claims.flatMap((c) => c.items.map((i) => i.event.id)));
  }
  throw new Error('the outbox did not drain');
}

export const bodiesOf = (events: readonly WebhookEvent[] = []): WebhookBody[] => events.map(({ id: _id, occurredAt: _at, ...body }) => body);

/** What a stream should hold after these changes: their bodies for that user ('' = the broadcasts'). */
export function expected(changes: readonly StoreChange[], stream: string): WebhookBody[] {
  return changes.flatMap((c) => webhookBodies(c, ALL_SIGNALS)).filter((b) => (stream === '' ? b.broadcast : b.userId === stream));
}

/**
 * Runs every operation that writes the outbox on two users and a broadcast, and checks each stream
 * holds exactly the bodies of those changes, in order, with distinct well-formed ids and the commit time.
 */
export async function checkEveryOperation(store: StoreWithOutbox): Promise<void> {
  await drain(store.webhooks);
  const [u, v] = [uid(), uid()];
  const started = Date.now();
  const changes: StoreChange[] = [];
  const send = async (...a: Parameters<MessageStore['send']>) => {
    const result = await store.send(...a);
    changes.push({ op: 'send', result });
    return result.message.id;
  };
  const a = await send(msg({ groupKey: 'g' }), { userIds: [u, v] });
  const b = await send(msg({ groupKey: 'g', category: 'news' }), { userIds: [u] });
  const c = await send(msg(), { userIds: [u] }, { scope: 'test', key: uid(), fingerprint: 'f' });
  await send(msg({ text: 'to all' }), { everyone: true });
  for (const read of [true, false, true]) changes.push({ op: 'setRead', userId: u, read, result: await store.setRead(u, [a, b], read) });
  changes.push({ op: 'markSeen', userId: v, result: await store.markSeen(v, [a]) });
  for (const archived of [true, false]) changes.push({ op: 'setArchived', userId: u, archived, result: await store.setArchived(u, [c], archived) });
  const until = new Date(Date.now() + HOUR);
  changes.push({ op: 'snooze', userId: u, until, result: await store.snooze(u, [c], until) });
  changes.push({ op: 'snooze', userId: u, until: null, result: await store.snooze(u, [c], null) });
  changes.push({ op: 'snooze', userId: v, until: new Date(Date.now() + 1), result: await store.snooze(v, [a], new Date(Date.now() + 1)) });
  for (const user of await store.wakeDue(new Date(Date.now() + HOUR), 100)) changes.push({ op: 'wake', user });
  const cut = new Date();
  changes.push({ op: 'markAllSeen', userId: u, until: cut, category: null, result: await store.markAllSeen(u, cut) });
  changes.push({ op: 'markAllRead', userId: v, until: cut, category: null, result: await store.markAllRead(v, cut) });
  changes.push({ op: 'archiveAll', userId: u, until: cut, category: 'news', result: await store.archiveAll(u, cut, false, 'news') });
  changes.push({ op: 'deleteMessages', userId: v, result: await store.deleteMessages(v, [a]) });
  const direct = await send(msg({ text: 'to retract' }), { userIds: [u, v] });
  changes.push({ op: 'retract', messageId: direct, result: (await store.retract(direct))! });
  const broadcast = await send(msg({ text: 'broadcast to retract' }), { everyone: true });
  changes.push({ op: 'retract', messageId: broadcast, result: (await store.retract(broadcast))! });
  await store.schedule(msg({ text: 'scheduled' }), { userIds: [v] }, new Date(Date.now() - 1));
  for (const d of await store.deliverDue(new Date(Date.now() + 1000), 100)) changes.push({ op: 'send', result: d.result });
  // Changes that change nothing write nothing.
  await store.setRead(u, [a], true);
  await store.markAllRead(v, cut);

  const streams = await drain(store.webhooks);
  for (const stream of [u, v, '']) expect(bodiesOf(streams.get(stream))).toEqual(expected(changes, stream));
  const events = [...streams.values()].flat();
  expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  for (const e of events) {
    expect(e.id).toMatch(/^msg_[A-Za-z0-9_-]+$/);
    expect(e.occurredAt.getTime()).toBeGreaterThanOrEqual(started - 1000);
    expect(e.occurredAt.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
  }
  expect(await store.webhooks.pending()).toBe(0);
}

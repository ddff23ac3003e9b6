import { expect } from 'vitest';
import { uid } from '../../support.js';
import type { StoreContract } from './fixture.js';
import { drain, idsOfItems, takeWritten } from './outbox-support.js';

const LEASE_MS = 30_000;
const later = (at: Date, ms: number) => new Date(at.getTime() + ms);

/**
 * Webhooks (CONTRACT.md §10), how the outbox hands its events out: leased claims of whole streams (never
 * one stream to two callers, even in two processes), in order, a retried event holding its stream.
 */
export function outboxContract(c: StoreContract): void {
  c.it('claims due streams whole and in order, never one stream to two callers, until the lease lapses', async () => {
    const { outbox, twin } = c.outboxes();
    await drain(outbox);
    const users = Array.from({ length: 6 }, () => uid());
    await c.send(users);
    await c.send(users);
    const now = new Date();
    const o = { now, streams: 1, perStream: 3, leaseMs: LEASE_MS };
    // More callers than streams, in both instances at once: each stream goes to one of them.
    const claims = (await Promise.all(Array.from({ length: 8 }, (_, k) => (k % 2 ? twin : outbox).claim(o)))).flat();
    expect(claims.map((x) => x.stream).sort()).toEqual([...users].sort());
    for (const x of claims) {
      expect(x.items.map((i) => [i.event.type, i.event.userId, i.attempts, i.delivered])).toEqual([
        ['ARCHIVE_STORED', x.stream, 0, []],
        ['INBOX_STORED', x.stream, 0, []],
        ['ARCHIVE_STORED', x.stream, 0, []],
      ]);
    }
    // Leased: nothing is claimable until the lease lapses; then the same events, the same ids.
    expect(await outbox.claim({ ...o, streams: 100 })).toEqual([]);
    expect(await twin.claim({ ...o, now: later(now, LEASE_MS - 1000), streams: 100 })).toEqual([]);
    const again = await twin.claim({ ...o, now: later(now, LEASE_MS + 1000), streams: 4, perStream: 10 });
    expect(again).toHaveLength(4);
    const first = new Map(claims.map((x) => [x.stream, idsOfItems(x.items)]));
    for (const x of again) {
      expect(x.items).toHaveLength(4);
      expect(idsOfItems(x.items).slice(0, 3)).toEqual(first.get(x.stream));
    }
    await drain(outbox);
  });

  c.it('acknowledge removes events, release makes them due now, pending counts what is left', async () => {
    const { outbox, twin } = c.outboxes();
    await drain(outbox);
    expect(await outbox.pending()).toBe(0);
    const [a, b] = [uid(), uid()];
    await c.send([a, b]);
    await c.send([a]);
    expect(await outbox.pending()).toBe(6);
    const now = new Date();
    const claims = await outbox.claim({ now, streams: 10, perStream: 1, leaseMs: LEASE_MS });
    expect(claims.map((x) => x.stream).sort()).toEqual([a, b].sort());
    const ofA = claims.find((x) => x.stream === a)!.items;
    const ofB = claims.find((x) => x.stream === b)!.items;
    await outbox.acknowledge(idsOfItems(ofA));
    await outbox.release(idsOfItems(ofB));
    expect(await outbox.pending()).toBe(5);
    // a's next event is its first now; b's released one is due again at once (by the clock now), in either instance.
    const next = await twin.claim({ now: new Date(), streams: 10, perStream: 10, leaseMs: LEASE_MS });
    const streams = new Map(next.map((x) => [x.stream, x.items.map((i) => i.event)]));
    expect(streams.get(a)!.map((e) => e.type)).toEqual(['INBOX_STORED', 'ARCHIVE_STORED', 'INBOX_STORED']);
    expect(streams.get(a)!.map((e) => e.id)).not.toContain(ofA[0].event.id);
    expect(streams.get(b)!.map((e) => e.id)).toEqual([ofB[0].event.id, expect.any(String)]);
    await twin.acknowledge(next.flatMap((x) => idsOfItems(x.items)));
    expect(await outbox.pending()).toBe(0);
  });

  c.it('a retried event stays first with its attempts and deliveries, and holds its stream until due', async () => {
    const { outbox, twin } = c.outboxes();
    await drain(outbox);
    const a = uid();
    await c.send([a]);
    await c.send([a]);
    const now = new Date();
    const [claimed] = await outbox.claim({ now, streams: 10, perStream: 10, leaseMs: LEASE_MS });
    expect(claimed.items).toHaveLength(4);
    const [head, ...rest] = claimed.items;
    const dueAt = later(now, 60_000);
    await outbox.retry(head.event.id, { attempts: 1, delivered: ['https://a.example/hook'], dueAt });
    // The later events are released (or their lease lapses): the stream still waits for its first.
    await outbox.release(idsOfItems(rest));
    expect(await twin.claim({ now, streams: 10, perStream: 10, leaseMs: LEASE_MS })).toEqual([]);
    expect(await twin.claim({ now: later(now, LEASE_MS + 1000), streams: 10, perStream: 10, leaseMs: LEASE_MS })).toEqual([]);
    const [again] = await twin.claim({ now: later(dueAt, 1000), streams: 10, perStream: 10, leaseMs: LEASE_MS });
    expect(again.stream).toBe(a);
    expect(again.items[0]).toEqual({ ...head, attempts: 1, delivered: ['https://a.example/hook'] });
    expect(idsOfItems(again.items)).toEqual(idsOfItems(claimed.items));
    expect(again.items.slice(1).map((i) => i.attempts)).toEqual([0, 0, 0]);
    await drain(outbox);
  });
}

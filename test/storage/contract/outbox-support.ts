import { expect } from 'vitest';
import type { StoreChange } from '../../../src/domain/changes.js';
import type { SignalName } from '../../../src/domain/signals.js';
import { WEBHOOK_SIGNAL_NAMES, webhookBodies, type WebhookBody, type WebhookEvent, type WebhookOutbox } from '../../../src/domain/webhooks.js';
import { DAY } from './fixture.js';

/**
 * What the webhook contract files share: every signal name (the contract's stores write them all),
 * reading the outbox whole, and the bodies a sequence of changes must have written.
 */
export const ALL_SIGNALS: ReadonlySet<SignalName> = new Set(WEBHOOK_SIGNAL_NAMES);

/** A claim time so far ahead that every event is due, leased and retried ones too. */
const farAhead = () => new Date(Date.now() + 3650 * DAY);
const takeAll = (outbox: WebhookOutbox) => outbox.claim({ now: farAhead(), streams: 1000, perStream: 1000, leaseMs: 60_000 });

/**
 * Everything in the outbox, by stream in order, acknowledged as it is read: the outbox is left empty.
 * Tests run one at a time, so after a drain, what this finds is what the test wrote.
 */
export async function takeWritten(outbox: WebhookOutbox): Promise<Map<string, WebhookEvent[]>> {
  const streams = new Map<string, WebhookEvent[]>();
  for (;;) {
    const claims = await takeAll(outbox);
    if (claims.length === 0) return streams;
    for (const c of claims) streams.set(c.stream, [...(streams.get(c.stream) ?? []), ...c.items.map((i) => i.event)]);
    await outbox.acknowledge(claims.flatMap((c) => c.items.map((i) => i.event.id)));
  }
}

/** Empties the outbox (before a test that inspects it). */
export const drain = async (outbox: WebhookOutbox) => void (await takeWritten(outbox));

export const bodyOf = ({ id: _id, occurredAt: _at, ...body }: WebhookEvent): WebhookBody => body;

/** The bodies a test's changes must have written, in order (webhookBodies of each with every signal). */
export class Expected {
  readonly bodies: WebhookBody[] = [];

  add(change: StoreChange): void {
    this.bodies.push(...webhookBodies(change, ALL_SIGNALS));
  }

  /** One stream's bodies: a user's, or the broadcasts' (''). */
  of(stream: string): WebhookBody[] {
    return this.bodies.filter((b) => (b.userId ?? '') === stream);
  }
}

/**
 * Asserts that each of `streams` holds exactly the expected bodies, in order, and that every event has a
 * `msg_` id of its own and the commit time (within the test's run).
 */
export function expectWritten(written: Map<string, WebhookEvent[]>, expected: Expected, streams: readonly string[], since: Date): void {
  for (const s of streams) expect((written.get(s) ?? []).map(bodyOf), `stream '${s}'`).toEqual(expected.of(s));
  const events = [...written.values()].flat();
  const ids = events.map((e) => e.id);
  for (const id of ids) expect(id).toMatch(/^msg_[A-Za-z0-9_-]+$/);
  expect(new Set(ids).size).toBe(ids.length);
  for (const e of events) {
    expect(e.occurredAt).toBeInstanceOf(Date);
    expect(e.occurredAt.getTime()).toBeGreaterThanOrEqual(since.getTime() - 1000);
    expect(e.occurredAt.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
  }
}

/** The ids of claimed items. */
export const idsOfItems = (items: readonly { event: WebhookEvent }[]) => items.map((i) => i.event.id);

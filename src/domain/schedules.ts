import { AppError, badInput, forbidden } from './errors.js';
import { deliveredRecord, reviveMessage, type NewMessage } from './message.js';
import { InvalidCursor, type MessageStore, type ScheduledPage, type ScheduledRecord } from './message-store.js';
import type { Viewer } from './messages.js';
import * as v from './validate.js';

/**
 * Scheduled messages for producers (CONTRACT.md §9): the list of those waiting and their cancellation.
 * Sending with `deliverAt` is messages.ts's `produce`; delivering is scheduled-delivery.ts's job.
 */
export function createSchedules(o: { store: MessageStore }) {
  const producerOnly = (viewer: Viewer, what: string) => {
    if (!viewer.producer) throw forbidden(`${what} needs the messages:send scope`);
  };
  return {
    /** Every producer's scheduled messages not yet delivered, soonest first. */
    async scheduledMessages(viewer: Viewer, page: { first?: number | null; after?: string | null }): Promise<ScheduledPage> {
      producerOnly(viewer, 'scheduledMessages');
      const limit = v.pageSize('first', page.first);
      return o.store.scheduled({ limit, cursor: page.after ?? null }).catch((err: unknown) => {
        throw err instanceof InvalidCursor ? badInput('after', err.message) : err;
      });
    },

    /** `cancelled` false when it was already delivered or cancelled; NOT_FOUND for an id never scheduled, or a flash message's. */
    async cancelScheduledMessage(viewer: Viewer, ref: { stored: boolean; id: string }): Promise<{ cancelled: boolean; scheduled: ScheduledRecord }> {
      producerOnly(viewer, 'cancelScheduledMessage');
      const found = ref.stored ? await o.store.cancelScheduled(ref.id) : null;
      if (!found) throw new AppError('NOT_FOUND', 'input.id: no scheduled message has this id', 'input.id');
      return found;
    },
  };
}

export type Schedules = ReturnType<typeof createSchedules>;

// What the backends share about schedules -----------------------------------------------------------

/** The record of a schedule: its message as it will be delivered, with the schedule's id. */
export function scheduledRecord(id: string, message: NewMessage, deliverAt: Date, recipientCount: number, broadcast: boolean): ScheduledRecord {
  return { id, message: deliveredRecord(id, message), deliverAt, recipientCount, broadcast };
}

/** A NewMessage as a backend keeps it (JSON), and back. */
export const scheduledMessageJson = (m: NewMessage) => ({ ...m, data: m.data ?? null, createdAt: m.createdAt.toISOString(), expiresAt: m.expiresAt?.toISOString() ?? null });

export function reviveScheduledMessage(raw: Record<string, unknown>): NewMessage {
  const r = raw as unknown as ReturnType<typeof scheduledMessageJson>;
  return { ...r, createdAt: new Date(r.createdAt), expiresAt: r.expiresAt === null ? null : new Date(r.expiresAt) };
}

/** A ScheduledRecord as an idempotency record keeps it (JSON), back to dates. */
export function reviveScheduledRecord(raw: unknown): ScheduledRecord {
  const r = raw as ScheduledRecord & { deliverAt: string };
  return { ...r, deliverAt: new Date(r.deliverAt), message: reviveMessage(r.message as never) };
}

/** Page cursors of `scheduled` on every backend: "<deliverAt in epoch ms>-<id>", the order of the list. */
export const scheduleCursor = (s: { id: string; deliverAt: Date }) => `${s.deliverAt.getTime()}-${s.id}`;

export function parseScheduleCursor(cursor: string | null): { afterMs: number; afterId: string } | null {
  if (cursor === null) return null;
  const m = /^(\d{1,15})-([1-9]\d{0,17})$/.exec(cursor);
  if (!m) throw new InvalidCursor('malformed cursor');
  return { afterMs: Number(m[1]), afterId: m[2] };
}

import { signalsOf, type StoreChange, type StoredSignal } from './changes.js';
import { SIGNAL_NAMES, type SignalName } from './signals.js';

/**
 * Webhooks (CONTRACT.md §10): every committed change's signals, as the bodies POSTed to the producers'
 * endpoints. A store with webhooks on writes them to a durable outbox in the same transaction (PostgreSQL,
 * the embedded database) or script (Redis) as the change; the dispatcher claims, delivers and retries them.
 */

/** The JSON body of one webhook, less what the outbox assigns (id, occurredAt). */
export interface WebhookBody {
  type: SignalName;
  /** null for a broadcast's event (one event, not one per user). */
  userId: string | null;
  messageIds: string[];
  /** The user's counts once the change committed; null for a broadcast's event. */
  unreadCount: number | null;
  unseenCount: number | null;
  /** markAllRead, markAllSeen, archiveAll: the cut-off used; null otherwise. */
  until: Date | null;
  /** Those three when limited to a category; null otherwise. */
  category: string | null;
  broadcast: boolean;
}

/** One outbox event: the body, its id (Standard Webhooks' `webhook-id`, also the body's `id`) and the commit time. */
export interface WebhookEvent extends WebhookBody {
  /** `msg_` then letters, digits, `_` or `-`; unique across users and over time (a reset database never reuses one), the same on every retry. */
  id: string;
  occurredAt: Date;
}

/** The signal names a deployment sends (WEBHOOK_EVENTS); null when webhooks are off (nothing is written). */
export type WebhookSignals = ReadonlySet<SignalName> | null;

/** Every signal name a webhook may carry: WEBHOOK_EVENTS' default and the names it accepts. */
export const WEBHOOK_SIGNAL_NAMES: readonly SignalName[] = SIGNAL_NAMES;

/** The webhook bodies of a committed change, in order, limited to the wanted signal names. */
export function webhookBodies(change: StoreChange, wanted: ReadonlySet<SignalName>): WebhookBody[] {
  return signalsOf(change)
    .filter((s) => wanted.has(s.signal))
    .map(toBody);
}

function toBody(s: StoredSignal): WebhookBody {
  if (s.kind === 'broadcast') {
    return { type: s.signal, userId: null, messageIds: s.messageIds, unreadCount: null, unseenCount: null, until: null, category: null, broadcast: true };
  }
  return {
    type: s.signal,
    userId: s.userId,
    messageIds: s.messageIds,
    unreadCount: s.unreadCount,
    unseenCount: s.unseenCount,
    until: s.until ?? null,
    category: s.category ?? null,
    broadcast: false,
  };
}

/** An outbox event as the dispatcher claims it, with its delivery so far. */
export interface OutboxItem {
  event: WebhookEvent;
  /** Failed attempts so far (0 on the first claim). */
  attempts: number;
  /** The endpoint URLs that already acknowledged it (a retry goes to the others only). */
  delivered: string[];
}

/**
 * One stream's claimed events, oldest first: a user's events, or the broadcasts' (stream ''). A stream's
 * events are delivered in order: a later one waits while an earlier one is being retried.
 */
export interface OutboxClaim {
  stream: string;
  items: OutboxItem[];
}

/**
 * The durable outbox behind webhooks (each backend's, opened with its store). Claims are leases: a
 * dispatcher that dies mid-delivery leaves its events due again once the lease lapses (at least once).
 */
export interface WebhookOutbox {
  /**
   * Leases up to `streams` streams whose first event is due at or before `now` and not leased, with up
   * to `perStream` of each one's first events, for `leaseMs`. Two callers never hold the same stream.
   */
  claim(o: { now: Date; streams: number; perStream: number; leaseMs: number }): Promise<OutboxClaim[]>;
  /** Events delivered to every endpoint: removed from the outbox. */
  acknowledge(ids: readonly string[]): Promise<void>;
  /**
   * A failed attempt at a claimed stream's first undelivered event: kept with its attempts and the
   * endpoints that acknowledged it, due again at `dueAt` (its stream waits until then).
   */
  retry(id: string, o: { attempts: number; delivered: readonly string[]; dueAt: Date }): Promise<void>;
  /** Claimed events not attempted (shutdown): due again now. */
  release(ids: readonly string[]): Promise<void>;
  /** Events written and not yet acknowledged or given up (the `stored_messages_webhook_pending` gauge). */
  pending(): Promise<number>;
}

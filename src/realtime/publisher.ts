import type { Logger } from 'pino';
import type { BroadcastSignal, InboxChange, UserSignal } from '../domain/signals.js';
import type { EventTransport, LoggedEvent } from './log.js';

// Appends that failed (Redis unreachable) are retried in order, for at most this many users' events
// (a batch of n users counts n, a broadcast 1), so batching does not raise the memory held meanwhile.
const OUTBOX_MAX = 10_000;
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5000;

/**
 * Turns the committed signals of this process into log appends: one append per user per mutation
 * (its signals gathered in one call, in order; the users of one flush go in batches of the
 * transport's `userBatch`), one broadcast-log append per broadcast (never one per
 * user), and a direct publish for flash messages. An append that fails (Redis unreachable) is kept
 * and retried, in order with every later one, so subscribers get those events late rather than never.
 */
export class Publisher {
  private readonly pending: (UserSignal | BroadcastSignal)[] = [];
  private readonly inflight = new Set<Promise<void>>();
  private readonly outbox: { append: () => Promise<void>; what: string; weight: number }[] = [];
  private outboxWeight = 0;
  private retrying = false;
  private closed = false;

  constructor(
    private readonly transport: EventTransport,
    private readonly logger: Logger,
  ) {}

  publish(change: InboxChange): void {
    if (change.kind === 'flash') {
      // A flash message lives in the FlashStore (pendingMessages); its live copy is not retried.
      this.track(this.transport.publishFlash(change.userId, change.message), 'a flash message');
      return;
    }
    // One mutation emits its signals synchronously: gather them and append per user in one call.
    this.pending.push(change);
    if (this.pending.length === 1) queueMicrotask(() => this.flush());
  }

  /** Sends what is pending and waits for appends on the way (not for Redis to come back). */
  async close(): Promise<void> {
    this.flush();
    this.closed = true;
    await Promise.allSettled([...this.inflight]);
    if (this.outbox.length) this.logger.error({ batches: this.outbox.length }, 'shutting down with unpublished live events (Redis unreachable)');
  }

  private flush() {
    const batch = this.pending.splice(0);
    if (!batch.length) return;
    const byUser = new Map<string, LoggedEvent[]>();
    const broadcasts: LoggedEvent[] = [];
    for (const s of batch) {
      const event: LoggedEvent =
        s.kind === 'user'
          ? { signal: s.signal, message: s.message, messageIds: s.messageIds, until: s.until ?? null, category: s.category ?? null, unreadCount: s.unreadCount, unseenCount: s.unseenCount }
          : { signal: s.signal, message: s.message, messageIds: s.messageIds, until: null, category: null, unreadCount: null, unseenCount: null };
      if (s.kind === 'broadcast') broadcasts.push(event);
      else {
        const events = byUser.get(s.userId);
        if (events) events.push(event);
        else byUser.set(s.userId, [event]);
      }
    }
    // A send to 10,000 users is a few appendUsers calls (one script each on a single Redis server), not 10,000.
    const users = [...byUser].map(([userId, events]) => ({ userId, events }));
    const size = Math.max(1, this.transport.userBatch);
    for (let i = 0; i < users.length; i += size) {
      const chunk = users.slice(i, i + size);
      this.append(() => this.transport.appendUsers(chunk), 'user events', chunk.length);
    }
    if (broadcasts.length) this.append(() => this.transport.appendBroadcast(broadcasts), 'broadcast events');
  }

  private append(append: () => Promise<void>, what: string, weight = 1) {
    if (this.outbox.length) {
      this.enqueue(append, what, weight);
      return;
    }
    this.track(
      append().catch((err) => {
        this.logger.warn({ err }, `publishing ${what} failed; retrying`);
        this.enqueue(append, what, weight);
      }),
      what,
    );
  }

  private enqueue(append: () => Promise<void>, what: string, weight: number) {
    while (this.outbox.length && this.outboxWeight + weight > OUTBOX_MAX) {
      const lost = this.outbox.shift()!;
      this.outboxWeight -= lost.weight;
      this.logger.error(`too many unpublished live events: the oldest batch (${lost.what}) is lost`);
    }
    this.outbox.push({ append, what, weight });
    this.outboxWeight += weight;
    // Not tracked: close() does not wait for Redis to come back.
    if (!this.retrying) void this.retry();
  }

  private async retry(): Promise<void> {
    this.retrying = true;
    let delay = RETRY_MIN_MS;
    try {
      while (this.outbox.length && !this.closed) {
        try {
          await this.outbox[0].append();
          this.outboxWeight -= this.outbox.shift()!.weight;
          delay = RETRY_MIN_MS;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, delay));
          delay = Math.min(delay * 2, RETRY_MAX_MS);
        }
      }
    } finally {
      this.retrying = false;
    }
  }

  private track(p: Promise<void>, what: string) {
    const tracked = p.catch((err) => this.logger.error({ err }, `publishing ${what} failed`));
    this.inflight.add(tracked);
    void tracked.finally(() => this.inflight.delete(tracked));
  }
}

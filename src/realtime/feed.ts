import type { Logger } from 'pino';
import type { LiveInboxEvent, LiveItem, LiveReads } from '../domain/live.js';
import type { InboxCounts, RetractedView } from '../domain/message-store.js';
import type { Viewer } from '../domain/messages.js';
import { encodeEventCursor, type EventPosition } from './cursor.js';
import { compareIds, idTime, LOG_START, type EventTransport, type LogEntry, type LogRead, type Stream, type Wire } from './log.js';
import { keptAfter, replayOrder } from './replay.js';

export interface FeedOptions {
  viewer: Viewer;
  /** `events`: inboxEvents (every signal, with cursors); `messages`: messageAdded (new messages, flash too). */
  mode: 'events' | 'messages';
  after: EventPosition | null;
  /** Seconds since the epoch (the token's exp): the feed ends with an `expired` item a little after it. */
  expiresAt: number | null;
  /** The request's signal (SSE): when the client goes away, the feed ends, even if it was still starting. */
  signal?: AbortSignal;
}

/** What the hub gives every feed. */
export interface FeedDeps {
  transport: EventTransport;
  reads: LiveReads;
  logger: Logger;
  keep: number;
  ttlSeconds: number;
  /** Items waiting for a slow consumer before the feed gives up on them (RESYNC, or dropping the oldest message). */
  queueMax: number;
  /** Told, for each event this feed delivers (live or replayed), the ms since it was appended to its log. */
  onLiveEventLag?: (ms: number) => void;
  join(feed: Feed): Promise<void>;
  leave(feed: Feed): void;
  /** A broadcast as this viewer sees it: whether it is theirs (when `check`), and their unread and unseen counts now (when `count`). */
  resolveBroadcast(feed: Feed, messageId: string, o: { check: boolean; count: boolean }): Promise<BroadcastResolution>;
  /** A retracted broadcast as this viewer sees it: whether they had it, whether it was unread, their counts after. */
  resolveRetraction(feed: Feed, messageId: string): Promise<RetractedView>;
}

export interface BroadcastResolution {
  visible: boolean;
  /** Null unless counts were asked for. */
  counts: { unread: number; unseen: number } | null;
}

// The socket closes with 4401 at the token's expiry; over SSE the stream ends this much later.
const EXPIRY_GRACE_MS = 1000;
const MAX_TIMER_MS = 2 ** 31 - 1;
// Positions read from the logs count as complete up to a little before now (clocks of processes differ).
const CLOCK_SLACK_MS = 1000;
// Broadcasts appended this long after the viewer became known are theirs without asking storage
// (commit-to-append takes milliseconds; this also covers clock differences between hosts).
const BROADCAST_CHECK_WINDOW_MS = 10_000;

type Pending = LiveItem | (() => Promise<LiveItem | null>);
type Arrival = Wire | { kind: 'poll' };

/** Where a user's events stand now: their log's and the broadcast log's last entries. */
export async function positionNow(transport: EventTransport, userId: string): Promise<EventPosition> {
  const h = await transport.heads(userId);
  return { user: h.user, broadcast: h.broadcast, at: Date.now() - CLOCK_SLACK_MS };
}

/**
 * One subscription: subscribes first, then reads where to start (replaying after a cursor, or a
 * RESYNC when what followed the cursor is no longer kept), then delivers what arrived meanwhile and
 * everything after, in log order. An entry whose predecessor was not seen is filled from the log,
 * so a lost or reordered pub/sub message costs a read, never an event. Arrivals are queued and
 * processed by the feed's own loop: a slow consumer or a slow query never delays other feeds.
 */
export class Feed implements AsyncIterableIterator<LiveItem> {
  private pos: EventPosition = { user: LOG_START, broadcast: LOG_START, at: 0 };
  private readonly arrivals: Arrival[] = [];
  private readonly out: Pending[] = [];
  private waiting: ((r: IteratorResult<LiveItem>) => void) | null = null;
  private started = false;
  private pumping = false;
  private finished = false;
  /** Once a broadcast is the viewer's, they are a known user and every later broadcast is theirs too. */
  private broadcastsConfirmed = false;
  /** When this feed made its viewer a known user (ms). */
  private knownSince = Number.POSITIVE_INFINITY;
  private expiryTimer: NodeJS.Timeout | undefined;

  private readonly onAbort = () => void this.return();

  constructor(
    private readonly deps: FeedDeps,
    readonly o: FeedOptions,
  ) {
    if (o.signal?.aborted) this.finished = true;
    else o.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  get userId() {
    return this.o.viewer.id;
  }

  /** Items waiting for the consumer (a slow client's backlog). */
  get queued() {
    return this.out.length + this.arrivals.length;
  }

  /** Started (replayed, now live) and not finished. */
  get live() {
    return this.started && !this.finished;
  }

  /** Subscribes, replays or RESYNCs, and goes live. Rejects (and cleans up) when Redis or storage fails. */
  async start(): Promise<void> {
    if (this.finished) return;
    await this.deps.join(this);
    // Ended while joining (the client went away): finish() ran before the hub knew this feed.
    if (this.finished) return this.deps.leave(this);
    try {
      if (this.o.after) {
        const [counts, user, broadcast] = await Promise.all([
          this.counts(),
          this.readLog('user', this.o.after.user),
          this.readLog('broadcast', this.o.after.broadcast),
        ]);
        await this.resume(this.o.after, counts, user, broadcast);
      } else {
        // Reading the counts also makes the viewer a known user, so broadcasts from now on are theirs.
        [, this.pos] = await Promise.all([this.counts(), this.heads()]);
      }
      if (!this.o.viewer.producer) this.knownSince = Date.now();
      this.scheduleExpiry();
      this.started = true;
      void this.pump();
    } catch (err) {
      this.finish();
      throw err;
    }
  }

  /** A wire message for this feed's user (or a broadcast); processed in arrival order. */
  push(wire: Wire): void {
    if (this.finished) return;
    this.arrivals.push(wire);
    void this.pump();
  }

  /** Re-reads the logs after the pub/sub came back from an outage (messages may have been lost). */
  poll(): void {
    if (this.finished) return;
    this.arrivals.push({ kind: 'poll' });
    void this.pump();
  }

  /** Ends the feed: consumers get `done` after what is already queued (an `expired` item, say). */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.expiryTimer);
    this.o.signal?.removeEventListener('abort', this.onAbort);
    this.arrivals.length = 0;
    this.deps.leave(this);
    if (this.waiting && !this.out.length) {
      const w = this.waiting;
      this.waiting = null;
      w({ value: undefined, done: true });
    }
  }

  async next(): Promise<IteratorResult<LiveItem>> {
    while (this.out.length) {
      const item = this.out.shift()!;
      const value = typeof item === 'function' ? await item() : item;
      if (value) return { value, done: false };
    }
    if (this.finished) return { value: undefined, done: true };
    return new Promise((resolve) => (this.waiting = resolve));
  }

  async return(): Promise<IteratorResult<LiveItem>> {
    this.out.length = 0;
    this.finish();
    return { value: undefined, done: true };
  }

  async throw(err?: unknown): Promise<IteratorResult<LiveItem>> {
    await this.return();
    throw err;
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  // --- start ------------------------------------------------------------------------------------

  private counts() {
    return this.deps.reads.counts(this.o.viewer);
  }

  private heads(): Promise<EventPosition> {
    return positionNow(this.deps.transport, this.userId);
  }

  private async resume(after: EventPosition, counts: InboxCounts, user: LogRead, broadcast: LogRead): Promise<void> {
    const limits = { keep: this.deps.keep, ttlSeconds: this.deps.ttlSeconds, now: Date.now() };
    if (!keptAfter(user, after.user, after.at, limits) || !keptAfter(broadcast, after.broadcast, after.at, limits)) {
      this.pos = await this.heads();
      this.emitResync(counts);
      return;
    }
    this.pos = { ...after };
    for (const { stream, entry } of replayOrder(user.entries, broadcast.entries)) await this.deliver(stream, entry);
  }

  private readLog(stream: Stream, after: string) {
    return this.deps.transport.read(stream, this.userId, after, this.deps.keep + 1);
  }

  private scheduleExpiry() {
    if (this.o.expiresAt === null) return;
    const left = this.o.expiresAt * 1000 + EXPIRY_GRACE_MS - Date.now();
    if (left > MAX_TIMER_MS) {
      this.expiryTimer = setTimeout(() => this.scheduleExpiry(), MAX_TIMER_MS);
      return;
    }
    this.expiryTimer = setTimeout(() => {
      this.out.length = 0;
      this.emit({ kind: 'expired' });
      this.finish();
    }, Math.max(0, left));
  }

  // --- live -------------------------------------------------------------------------------------

  private async pump(): Promise<void> {
    if (this.pumping || !this.started) return;
    this.pumping = true;
    try {
      while (!this.finished && this.arrivals.length) {
        const arrival = this.arrivals.shift()!;
        try {
          await this.accept(arrival);
        } catch (err) {
          // A failed log read or count (Redis or storage down): the next entry's gap check, or the
          // poll after the pub/sub reconnects, fetches what this one would have delivered.
          this.deps.logger.warn({ err, userId: this.userId }, 'live event could not be delivered now');
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private async accept(arrival: Arrival): Promise<void> {
    if (arrival.kind === 'flash') {
      if (this.o.mode === 'messages') this.emit({ kind: 'message', message: arrival.message });
      return;
    }
    if (arrival.kind === 'poll') {
      await this.fill('user', null);
      await this.fill('broadcast', null);
      return;
    }
    const { stream, entry } = arrival;
    const seen = this.pos[stream];
    if (compareIds(entry.id, seen) <= 0) return;
    if (entry.prev === seen) await this.deliver(stream, entry);
    else await this.fill(stream, entry);
  }

  /** Delivers what the log holds after our position; when the entries in between are gone, RESYNC. */
  private async fill(stream: Stream, arrived: LogEntry | null): Promise<void> {
    const read = await this.readLog(stream, this.pos[stream]);
    const first = read.entries[0];
    if (first ? first.prev !== this.pos[stream] : arrived !== null) {
      this.deps.logger.warn({ userId: this.userId, stream }, 'live events were lost before delivery');
      if (this.o.mode === 'events') {
        this.pos = await this.heads();
        this.emitResync(await this.counts());
        return;
      }
    }
    for (const entry of read.entries) {
      if (compareIds(entry.id, this.pos[stream]) > 0) await this.deliver(stream, entry);
    }
    if (arrived && compareIds(arrived.id, this.pos[stream]) > 0) await this.deliver(stream, arrived);
  }

  private async deliver(stream: Stream, entry: LogEntry): Promise<void> {
    this.deps.onLiveEventLag?.(Date.now() - idTime(entry.id));
    this.pos = { ...this.pos, [stream]: entry.id, at: Math.max(this.pos.at, idTime(entry.id)) };
    const cursor = this.o.mode === 'events' ? encodeEventCursor(this.pos) : '';
    const { signal, message, messageIds, until, category } = entry.event;
    // An expired message disappears from every event at once.
    if (message?.expiresAt && new Date(message.expiresAt).getTime() <= Date.now() && signal.endsWith('_STORED')) return;
    let unreadCount = entry.event.unreadCount;
    // Entries logged before inbox states existed have no unseen count: then seen was read.
    let unseenCount = entry.event.unseenCount ?? unreadCount;
    if (stream === 'broadcast' && !message) {
      // A retracted broadcast: an event only for those who had it (INBOX_DELETED where it was unread).
      if (this.o.mode !== 'events' || !messageIds[0]) return;
      const v = await this.deps.resolveRetraction(this, messageIds[0]);
      if (!v.had || (signal === 'INBOX_DELETED' && !v.wasUnread)) return;
      unreadCount = v.unreadCount;
      unseenCount = v.unseenCount;
    } else if (stream === 'broadcast' && message) {
      // Is it theirs? A producer may not be a user at all; a user is, for every broadcast appended well
      // after this feed made them known (a broadcast committed just before that, and appended just
      // after the feed read its start, is not theirs: those few are checked in storage).
      const check = !this.broadcastsConfirmed && idTime(entry.id) < this.knownSince + BROADCAST_CHECK_WINDOW_MS;
      const count = this.o.mode === 'events';
      if (check || count) {
        const r = await this.deps.resolveBroadcast(this, message.id, { check, count });
        if (!r.visible) return;
        this.broadcastsConfirmed = true;
        unreadCount = r.counts?.unread ?? null;
        unseenCount = r.counts?.unseen ?? null;
      }
    }
    if (this.o.mode === 'events') {
      this.emit({ kind: 'event', event: { signal, message, messageIds, until, category, unreadCount: unreadCount ?? 0, unseenCount: unseenCount ?? 0, cursor } });
    } else if (signal === 'ARCHIVE_STORED' && message) {
      this.emit({ kind: 'message', message });
    }
  }

  private emitResync(counts: { unread: number; unseen: number }) {
    this.emit({ kind: 'event', event: resync(counts, encodeEventCursor(this.pos)) });
  }

  private emit(item: LiveItem) {
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w({ value: item, done: false });
      return;
    }
    if (this.out.length >= this.deps.queueMax && item.kind !== 'expired') {
      this.deps.logger.warn({ userId: this.userId, mode: this.o.mode }, 'slow subscriber: live queue full');
      if (this.o.mode === 'messages') {
        this.out.shift();
      } else {
        // The consumer fell too far behind: replace what it has not taken with one RESYNC at our position.
        const at = { ...this.pos };
        this.out.length = 0;
        this.out.push(async () => {
          const counts = await this.counts().catch(() => ({ unread: 0, unseen: 0 }));
          return { kind: 'event', event: resync(counts, encodeEventCursor(at)) };
        });
        return;
      }
    }
    this.out.push(item);
  }
}

/** "Reload what you show": no message, no ids, the counts now. */
const resync = (counts: { unread: number; unseen: number }, cursor: string): LiveInboxEvent => ({
  signal: 'RESYNC',
  message: null,
  messageIds: [],
  until: null,
  category: null,
  unreadCount: counts.unread,
  unseenCount: counts.unseen,
  cursor,
});

import type { Logger } from 'pino';
import type { LiveHub, LiveReads, OpenLive } from '../domain/live.js';
import type { Viewer } from '../domain/messages.js';
import type { Signals } from '../domain/signals.js';
import { decodeEventCursor, encodeEventCursor } from './cursor.js';
import type { BroadcastView, RetractedView } from '../domain/message-store.js';
import { Feed, positionNow, type BroadcastResolution, type FeedDeps } from './feed.js';
import type { EventTransport, Wire, WireTarget } from './log.js';
import { Publisher } from './publisher.js';

export interface LiveOptions {
  logger: Logger;
  /** The counts and broadcast views its feeds need. */
  reads: LiveReads;
  /** EVENTS_KEEP and EVENTS_TTL_SECONDS. */
  keep: number;
  ttlSeconds: number;
  /** Items a slow subscriber may have waiting before it gets a RESYNC (events) or loses the oldest (messages). Default 1,000 (at least 2 × keep + 10). */
  queueMax?: number;
  /** Concurrent storage look-ups while a broadcast reaches this process's subscribers (default 8), so other requests keep a share of the pool. */
  broadcastConcurrency?: number;
  /**
   * Subscriptions starting at once (default 16); more wait their turn. Each start reads storage (the
   * unread count) and the logs: after a deploy, thousands of clients reconnecting at the same moment
   * queue here instead of exhausting the database pool.
   */
  startConcurrency?: number;
  /** Users per `reads.broadcastViews` call (default 500). */
  broadcastBatch?: number;
  /** Told, for each event a feed delivers (live or replayed), the ms since it was appended to its log (metrics). */
  onLiveEventLag?: (ms: number) => void;
}

interface UserFeeds {
  feeds: Set<Feed>;
  ready: Promise<void>;
}

// Resolutions are shared by the ARCHIVE_STORED and INBOX_STORED events of a broadcast and by all of a
// user's subscriptions here; kept for the newest two broadcasts (memory: 2 × subscribers at most).
const RECENT_BROADCASTS = 2;

/**
 * Live delivery in one process. Publishes every committed signal (see Publisher), and feeds the
 * subscriptions of this process: each user's wire messages go only to that user's feeds, broadcast
 * ones to every feed, and each feed resolves its own view of a broadcast (its unread count, and
 * whether the broadcast is the viewer's at all), coalesced per user and message: the cost of a
 * broadcast grows with the subscribers connected here, not with the number of users.
 */
export class FeedHub implements LiveHub {
  private readonly users = new Map<string, UserFeeds>();
  private readonly feeds = new Set<Feed>();
  private readonly publisher: Publisher;
  private readonly resolutions = new Map<string, Map<string, Promise<BroadcastResolution | RetractedView>>>();
  private readonly pendingViews = new Map<string, Map<string, Waiter<BroadcastView | RetractedView>>>();
  private readonly deps: FeedDeps;
  private readonly limiter: Limiter;
  private readonly starts: Limiter;
  private unsubscribeSignals: (() => void) | null = null;
  private closed = false;

  constructor(
    private readonly transport: EventTransport,
    private readonly o: LiveOptions,
  ) {
    this.limiter = new Limiter(o.broadcastConcurrency ?? 8);
    this.starts = new Limiter(o.startConcurrency ?? 16);
    this.publisher = new Publisher(transport, o.logger);
    this.deps = {
      transport,
      reads: o.reads,
      logger: o.logger,
      keep: o.keep,
      ttlSeconds: o.ttlSeconds,
      queueMax: o.queueMax ?? Math.max(1000, 2 * o.keep + 10),
      join: (feed) => this.join(feed),
      leave: (feed) => this.leave(feed),
      resolveBroadcast: (feed, messageId, r) => this.resolveBroadcast(feed, messageId, r),
      resolveRetraction: (feed, messageId) => this.resolved(messageId, `r\u0000${feed.userId}`, () => this.viewOf('retracted', messageId, feed.userId) as Promise<RetractedView>),
      onLiveEventLag: o.onLiveEventLag,
    };
    transport.onWire((target, wire) => this.dispatch(target, wire));
    transport.onResume(() => {
      o.logger.info({ feeds: this.feeds.size }, 'pub/sub reconnected: re-reading event logs');
      for (const feed of this.feeds) feed.poll();
    });
  }

  /** Starts publishing the bus's signals (after commit, as the domain emits them). */
  listen(signals: Signals): void {
    this.unsubscribeSignals = signals.on((change) => this.publisher.publish(change));
  }

  /** A started feed: subscribed, replayed (or RESYNCed), live. Rejects when Redis or storage fails. */
  async open(o: OpenLive): Promise<Feed> {
    const after = decodeEventCursor('after', o.after);
    if (this.closed) throw new Error('live delivery is shut down');
    const feed = new Feed(this.deps, { viewer: o.viewer, mode: o.mode, after, expiresAt: o.expiresAt ?? null, signal: o.signal });
    await this.starts.run(() => feed.start());
    return feed;
  }

  /** The viewer's position now, as a cursor: inboxEvents(after:) with it replays every event committed after this call. */
  async cursor(viewer: Viewer): Promise<string> {
    // Known first, so that every broadcast after the position read below is the viewer's.
    await this.o.reads.counts(viewer);
    return encodeEventCursor(await positionNow(this.transport, viewer.id));
  }

  /** Feeds of this process (`live`: started, past their replay), the users they serve, and items waiting for slow consumers. */
  stats() {
    let live = 0;
    let queued = 0;
    for (const feed of this.feeds) {
      if (feed.live) live++;
      queued += feed.queued;
    }
    return { feeds: this.feeds.size, live, users: this.users.size, queued };
  }

  /** Started feeds of one user in this process. */
  liveFor(userId: string): number {
    let n = 0;
    for (const feed of this.users.get(userId)?.feeds ?? []) if (feed.live) n++;
    return n;
  }

  /** Ends every feed (subscribers see `complete`), and waits for publishes still on the way. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribeSignals?.();
    for (const feed of [...this.feeds]) feed.finish();
    await this.publisher.close();
  }

  // --- subscribers ------------------------------------------------------------------------------

  private async join(feed: Feed): Promise<void> {
    let user = this.users.get(feed.userId);
    if (!user) {
      const ready = this.transport.subscribeUser(feed.userId);
      user = { feeds: new Set(), ready };
      this.users.set(feed.userId, user);
      const created = user;
      ready.catch(() => {
        // Let the next subscriber of this user try again.
        if (this.users.get(feed.userId) === created) this.users.delete(feed.userId);
      });
    }
    user.feeds.add(feed);
    this.feeds.add(feed);
    try {
      await user.ready;
    } catch (err) {
      this.leave(feed);
      throw err;
    }
  }

  private leave(feed: Feed) {
    this.feeds.delete(feed);
    const user = this.users.get(feed.userId);
    if (!user || !user.feeds.delete(feed) || user.feeds.size) return;
    this.users.delete(feed.userId);
    this.transport.unsubscribeUser(feed.userId).catch((err) => this.o.logger.warn({ err }, 'unsubscribing a user channel failed'));
  }

  private dispatch(target: WireTarget, wire: Wire) {
    if (target === 'broadcast') {
      for (const feed of this.feeds) feed.push(wire);
      return;
    }
    const user = this.users.get(target.userId);
    if (user) for (const feed of user.feeds) feed.push(wire);
  }

  /**
   * One user's view of a broadcast, gathered with every other request for the same broadcast made in
   * the same turn of the event loop, and resolved in batches through `reads.broadcastViews` (bounded by the limiter).
   */
  private viewOf(kind: ViewKind, messageId: string, userId: string): Promise<BroadcastView | RetractedView> {
    const at = `${kind}:${messageId}`;
    let batch = this.pendingViews.get(at);
    if (!batch) {
      batch = new Map();
      this.pendingViews.set(at, batch);
      setImmediate(() => this.flushViews(kind, messageId));
    }
    let waiter = batch.get(userId);
    if (!waiter) {
      let resolve!: (v: BroadcastView | RetractedView) => void;
      let reject!: (err: unknown) => void;
      const promise = new Promise<BroadcastView | RetractedView>((res, rej) => ((resolve = res), (reject = rej)));
      waiter = { promise, resolve, reject };
      batch.set(userId, waiter);
    }
    return waiter.promise;
  }

  private flushViews(kind: ViewKind, messageId: string) {
    const at = `${kind}:${messageId}`;
    const batch = this.pendingViews.get(at);
    this.pendingViews.delete(at);
    if (!batch) return;
    const users = [...batch.keys()];
    const size = this.o.broadcastBatch ?? 500;
    for (let i = 0; i < users.length; i += size) {
      const chunk = users.slice(i, i + size);
      this.limiter
        .run((): Promise<Map<string, BroadcastView | RetractedView>> => (kind === 'broadcast' ? this.o.reads.broadcastViews(messageId, chunk) : this.o.reads.retractedViews(messageId, chunk)))
        .then(
          (views) => {
            for (const id of chunk) batch.get(id)!.resolve(views.get(id) ?? (kind === 'broadcast' ? { has: false, unreadCount: 0, unseenCount: 0 } : { had: false, wasUnread: false, unreadCount: 0, unseenCount: 0 }));
          },
          (err) => {
            for (const id of chunk) batch.get(id)!.reject(err);
          },
        );
    }
  }

  private resolveBroadcast(feed: Feed, messageId: string, r: { check: boolean; count: boolean }): Promise<BroadcastResolution> {
    const key = `${feed.userId}\u0000${feed.o.viewer.producer}\u0000${r.check}\u0000${r.count}`;
    return this.resolved(messageId, key, () =>
      (this.viewOf('broadcast', messageId, feed.userId) as Promise<BroadcastView>).then((v) =>
        r.check && !v.has ? { visible: false, counts: null } : { visible: true, counts: r.count ? { unread: v.unreadCount, unseen: v.unseenCount } : null },
      ),
    );
  }

  /** One resolution per message and key, shared by the feeds here while the message is among the newest few. */
  private resolved<T extends BroadcastResolution | RetractedView>(messageId: string, key: string, make: () => Promise<T>): Promise<T> {
    let perMessage = this.resolutions.get(messageId);
    if (!perMessage) {
      perMessage = new Map();
      this.resolutions.set(messageId, perMessage);
      if (this.resolutions.size > RECENT_BROADCASTS) this.resolutions.delete(this.resolutions.keys().next().value!);
    }
    let found = perMessage.get(key) as Promise<T> | undefined;
    if (!found) {
      found = make();
      perMessage.set(key, found);
      // A failure is not remembered: the next subscriber of this user asks again.
      found.catch(() => perMessage.delete(key));
    }
    return found;
  }
}

type ViewKind = 'broadcast' | 'retracted';
type Waiter<V> = { promise: Promise<V>; resolve: (v: V) => void; reject: (err: unknown) => void };

/** At most `max` tasks at a time, the rest in arrival order. */
class Limiter {
  private running = 0;
  private readonly queue: (() => void)[] = [];

  constructor(private readonly max: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.max) await new Promise<void>((resolve) => this.queue.push(resolve));
    this.running++;
    try {
      return await task();
    } finally {
      this.running--;
      this.queue.shift()?.();
    }
  }
}

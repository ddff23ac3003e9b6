import { setMaxListeners } from 'node:events';
import type { Signals } from './signals.js';
import { leaseMsOf, nextAttemptAt, WEBHOOK_TIMINGS, type WebhookTimings } from './webhook-dispatch-policy.js';
import type { OutboxClaim, OutboxItem, WebhookEvent, WebhookOutbox } from './webhooks.js';

/** One attempt at one event: the endpoints that acknowledged it (2xx) and why each other one did not. */
export interface DeliveryOutcome {
  acknowledged: string[];
  failures: { url: string; reason: string }[];
}

/** Sends one event to endpoints (the HTTP side: src/webhooks/). Never throws: a failure is an outcome. */
export interface WebhookSender {
  /** POSTs `event` to each of `urls` at once; `signal` aborts the attempt (shutdown). */
  deliver(event: WebhookEvent, urls: readonly string[], signal: AbortSignal): Promise<DeliveryOutcome>;
}

export interface WebhookDispatchOptions {
  outbox: WebhookOutbox;
  sender: WebhookSender;
  /** Every endpoint; each receives every event. */
  urls: readonly string[];
  /** Local commits wake the dispatcher early; other processes' are found by polling. */
  signals: Signals;
  timings?: Partial<WebhookTimings>;
  /** Streams delivered at once (default 32); within a stream, one event at a time. */
  concurrency?: number;
  /** Events claimed per stream (default 20). */
  perStream?: number;
  onDelivered(event: WebhookEvent): void;
  /** A failed attempt, and when the next one is due. */
  onFailedAttempt(event: WebhookEvent, attempts: number, failures: DeliveryOutcome['failures'], nextAt: Date): void;
  /** An event given up on, 24 h after it occurred: removed from the outbox. */
  onGaveUp(event: WebhookEvent, attempts: number, failures: DeliveryOutcome['failures']): void;
  /** An outbox call failed: its events are due again when their lease lapses. */
  onError(err: unknown): void;
}

export interface WebhookDispatch {
  /** Stops claiming, aborts the attempts in flight, and releases every claimed event not delivered. */
  stop(): Promise<void>;
}

/**
 * Delivers the outbox's events (CONTRACT.md §10) in this process, beside those of every other process
 * sharing the storage: claims lease streams, so no two deliver one stream at once. Off the request path:
 * mutations only write the outbox, and a hanging endpoint holds one of this loop's streams, nothing else.
 */
export function startWebhookDispatch(o: WebhookDispatchOptions): WebhookDispatch {
  const t: WebhookTimings = { ...WEBHOOK_TIMINGS, ...o.timings };
  const leaseMs = leaseMsOf(t);
  const concurrency = o.concurrency ?? 32;
  const perStream = o.perStream ?? 20;
  const stopping = new AbortController();
  // Every attempt in flight listens to it.
  setMaxListeners(0, stopping.signal);
  const streams = new Set<Promise<void>>();
  let claiming: Promise<void> | null = null;
  /** Set when a wake comes while a claim runs, or a claim filled every free slot: more may be due now. */
  let again = false;
  let wakeTimer: NodeJS.Timeout | null = null;

  const pump = (): void => {
    if (stopping.signal.aborted) return;
    if (claiming) {
      again = true;
      return;
    }
    claiming = claimWhileDue().finally(() => (claiming = null));
  };
  const claimWhileDue = async () => {
    while (!stopping.signal.aborted) {
      const free = concurrency - streams.size;
      // Every slot busy: the next stream to end claims for the slots then free.
      if (free <= 0) return void (again = true);
      again = false;
      const claims = await o.outbox.claim({ now: new Date(), streams: free, perStream, leaseMs }).catch((err: unknown) => {
        o.onError(err);
        return [];
      });
      if (stopping.signal.aborted) return void (await releaseAll(claims));
      for (const claim of claims) track(claim);
      if (claims.length === free) again = true;
      if (!again) return;
    }
  };
  const track = (claim: OutboxClaim) => {
    const run: Promise<void> = deliverStream(claim)
      .catch(o.onError)
      .finally(() => {
        streams.delete(run);
        // A full claim may have left the stream more events: they are due now, not at the next poll.
        // Through the wake timer, so streams ending together free their slots for one claim.
        if (again || claim.items.length === perStream) wake();
      });
    streams.add(run);
  };
  const acknowledge = batched((ids) => o.outbox.acknowledge(ids));
  const releaseAll = (claims: OutboxClaim[]) => (claims.length ? o.outbox.release(claims.flatMap((c) => c.items.map((i) => i.event.id))).catch(o.onError) : undefined);

  /** A stream's claimed events in order; the first that fails waits for its retry, and the rest with it. */
  const deliverStream = async (claim: OutboxClaim) => {
    const leaseEnds = Date.now() + leaseMs;
    const done: string[] = [];
    /** Hands back the claimed events from the `k`-th on (not attempted, or waiting behind a retried one). */
    const releaseFrom = (k: number) => o.outbox.release(claim.items.slice(k).map((i) => i.event.id));
    const acknowledgeDone = async () => (done.length ? acknowledge(done.splice(0)) : undefined);
    for (const [k, item] of claim.items.entries()) {
      // An attempt that could outlast the lease might run beside another dispatcher's claim of the stream.
      if (stopping.signal.aborted || Date.now() + t.timeoutMs > leaseEnds - 1_000) {
        await acknowledgeDone();
        return releaseFrom(k);
      }
      const urls = o.urls.filter((u) => !item.delivered.includes(u));
      const outcome = urls.length ? await o.sender.deliver(item.event, urls, stopping.signal) : { acknowledged: [], failures: [] };
      if (!outcome.failures.length) {
        done.push(item.event.id);
        o.onDelivered(item.event);
        continue;
      }
      await acknowledgeDone();
      if (stopping.signal.aborted) return releaseFrom(k);
      if (await failed(item, outcome)) continue;
      return releaseFrom(k + 1);
    }
    await acknowledgeDone();
  };
  /** Records a failed attempt; answers true when the event was given up (the stream goes on). */
  const failed = async (item: OutboxItem, outcome: DeliveryOutcome): Promise<boolean> => {
    const attempts = item.attempts + 1;
    const nextAt = nextAttemptAt(item.event, attempts, new Date(), t);
    if (!nextAt) {
      await acknowledge([item.event.id]);
      o.onGaveUp(item.event, attempts, outcome.failures);
      return true;
    }
    await o.outbox.retry(item.event.id, { attempts, delivered: [...item.delivered, ...outcome.acknowledged], dueAt: nextAt });
    o.onFailedAttempt(item.event, attempts, outcome.failures, nextAt);
    return false;
  };

  const wake = () => {
    if (stopping.signal.aborted) return;
    wakeTimer ??= setTimeout(() => {
      wakeTimer = null;
      pump();
    }, t.wakeDelayMs);
  };
  const unsubscribe = o.signals.on((change) => {
    if (change.kind !== 'flash') wake();
  });
  const poll = setInterval(pump, t.pollMs);
  poll.unref();
  pump();

  return {
    async stop() {
      stopping.abort();
      unsubscribe();
      clearInterval(poll);
      if (wakeTimer) clearTimeout(wakeTimer);
      await claiming;
      await Promise.all(streams);
    },
  };
}

/**
 * Calls `run` once for the ids of every call made in the same turn of the event loop and those made
 * while it runs: streams ending together share one outbox call instead of one each.
 */
function batched(run: (ids: string[]) => Promise<void>): (ids: readonly string[]) => Promise<void> {
  let next: { ids: string[]; done: Promise<void> } | null = null;
  let running: Promise<void> = Promise.resolve();
  return (ids) => {
    if (!next) {
      const batch: { ids: string[]; done: Promise<void> } = { ids: [], done: Promise.resolve() };
      batch.done = running.then(() => new Promise<void>((resolve) => setImmediate(resolve))).then(() => {
        if (next === batch) next = null;
        return run(batch.ids);
      });
      running = batch.done.catch(() => undefined);
      next = batch;
    }
    next.ids.push(...ids);
    return next.done;
  };
}

import type { WebhookEvent } from './webhooks.js';

/**
 * When webhooks are attempted again (CONTRACT.md §10): after about 5 s, 30 s, 2 min, 10 min, 30 min,
 * then hourly, for 24 hours after the event occurred. Tests shorten these through the app's options.
 */
export interface WebhookTimings {
  /** Delays after the 1st, 2nd, ... failed attempt; the last one repeats. */
  retryDelaysMs: readonly number[];
  /** Each delay is moved by up to this fraction either way, so endpoints coming back are not hit by every retry at once. */
  jitter: number;
  /** An event still failing this long after it occurred is given up (logged, counted, removed). */
  giveUpAfterMs: number;
  /** An attempt with no answer within this long fails (the sender's timeout). */
  timeoutMs: number;
  /** How often a dispatcher looks for due events when nothing woke it (other processes' commits, retries coming due). */
  pollMs: number;
  /** After a local commit wakes it, how long it waits so that commits close together share one claim. */
  wakeDelayMs: number;
}

export const WEBHOOK_TIMINGS: WebhookTimings = {
  retryDelaysMs: [5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000],
  jitter: 0.2,
  giveUpAfterMs: 24 * 3_600_000,
  timeoutMs: 10_000,
  pollMs: 750,
  wakeDelayMs: 50,
};

/**
 * How long a claim leases its streams: one attempt's timeout and a margin for the outbox calls and
 * clocks. A dispatcher starts an attempt only while a whole timeout still fits in its lease (see
 * webhook-dispatch.ts), so a crashed one's streams are due again within this long.
 */
export const leaseMsOf = (t: WebhookTimings) => t.timeoutMs + Math.max(2_000, t.timeoutMs / 2);

/**
 * When to attempt an event again after its `attempts`-th failed attempt at `now`, or null to give up.
 * The last retry is at the give-up time itself, so an endpoint down for almost a day still gets it.
 */
export function nextAttemptAt(event: Pick<WebhookEvent, 'occurredAt'>, attempts: number, now: Date, t: WebhookTimings, random = Math.random): Date | null {
  const giveUpAt = new Date(event.occurredAt).getTime() + t.giveUpAfterMs;
  if (now.getTime() >= giveUpAt) return null;
  const base = t.retryDelaysMs[Math.min(attempts, t.retryDelaysMs.length) - 1] ?? 0;
  const delay = base * (1 + t.jitter * (2 * random() - 1));
  return new Date(Math.min(now.getTime() + delay, giveUpAt));
}

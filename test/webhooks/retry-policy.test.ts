import { describe, expect, it } from 'vitest';
import { leaseMsOf, nextAttemptAt, WEBHOOK_TIMINGS } from '../../src/domain/webhook-dispatch-policy.js';

/** CONTRACT.md §10's schedule: about 5 s, 30 s, 2 min, 10 min, 30 min, then hourly, for 24 hours. */

const MINUTE = 60_000;
const occurredAt = new Date('2026-12-07T00:00:00Z');
const at = (ms: number) => new Date(occurredAt.getTime() + ms);
/** The delay chosen after the n-th failure at `now`, with the jitter drawn as `r` (0..1; 0.5 is none). */
const delay = (n: number, nowMs: number, r = 0.5) => nextAttemptAt({ occurredAt }, n, at(nowMs), WEBHOOK_TIMINGS, () => r)!.getTime() - at(nowMs).getTime();

describe('webhook retry schedule', () => {
  it('waits 5 s, 30 s, 2, 10 and 30 minutes, then an hour between attempts', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 12].map((n) => delay(n, MINUTE))).toEqual([5_000, 30_000, 2 * MINUTE, 10 * MINUTE, 30 * MINUTE, 60 * MINUTE, 60 * MINUTE, 60 * MINUTE]);
  });

  it('moves each delay by at most a fifth either way', () => {
    expect(delay(1, 0, 0)).toBe(4_000);
    expect(delay(1, 0, 1)).toBe(6_000);
    expect(delay(6, 0, 0.75)).toBe(66 * MINUTE);
  });

  it('makes a last attempt at the 24-hour mark, then gives up', () => {
    const day = 24 * 60 * MINUTE;
    expect(nextAttemptAt({ occurredAt }, 20, at(day - 10 * MINUTE), WEBHOOK_TIMINGS)?.getTime()).toBe(at(day).getTime());
    expect(nextAttemptAt({ occurredAt }, 21, at(day), WEBHOOK_TIMINGS)).toBeNull();
    expect(nextAttemptAt({ occurredAt: occurredAt.toISOString() as unknown as Date }, 21, at(day + 1), WEBHOOK_TIMINGS)).toBeNull();
  });

  it('leases a claim longer than an attempt can take', () => {
    expect(leaseMsOf(WEBHOOK_TIMINGS)).toBeGreaterThan(WEBHOOK_TIMINGS.timeoutMs);
  });
});

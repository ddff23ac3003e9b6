/**
 * Issue 5's figures: what the original (django-stored-messages on Django 3.2, PostgreSQL 15, Redis 7,
 * 2 cores, load generator on the same machine) measured, and the targets set against them.
 * The embedded backend is compared with the original's ORM figures.
 */
import type { BackendName } from './options.js';

type Pair = { orm: string; redis: string };

export const ORIGINAL: Record<string, Pair> = {
  W1: { orm: '536 messages/s (in-process)', redis: '2,167 messages/s (in-process)' },
  W2: { orm: '14.2 s', redis: '3.4 s' },
  W3: { orm: '148 s (100,000 users)', redis: '36 s (100,000 users)' },
  W4first: { orm: '95 req/s, p50 169 ms, p99 217 ms (all 1,000 at once)', redis: '144 req/s (all 1,000 at once)' },
  W4all: { orm: '95,000 messages/s (95 req/s × 1,000)', redis: '144,000 messages/s (144 req/s × 1,000)' },
  W5: { orm: '6 ms (1,000 unread, HTTP)', redis: '0.5 ms (in-process)' },
  W6: { orm: '746 req/s', redis: '42 req/s' },
  W7: { orm: '112/s (in-process; SQL COUNT tag 2,080/s)', redis: '248/s (in-process)' },
};

export const original = (key: keyof typeof ORIGINAL, backend: BackendName | string) =>
  backend === 'redis' ? ORIGINAL[key].redis : ORIGINAL[key].orm;

/** Messages/s of the original's one-shot inbox list: the W4 paging target. */
export const originalListRate = (backend: BackendName | string) => (backend === 'redis' ? 144_000 : 95_000);

export const TARGET = {
  w1Rate: 1_650,
  w1FloorShare: 0.5,
  w2Seconds: 0.5,
  w3Ms: 50,
  w3Ratio: 1.5,
  w4Rps: 1_000,
  w4P99Ms: 50,
  w5SmallMs: 10,
  w5LargeMs: 20,
  w6Rps: 1_500,
  w6bP99Ms: 20,
  w7Rps: 2_500,
  w7Ratio: 1.5,
  // Issue 19: the states' "all" operations like W5, their counts like W7, wake-ups within 2 s.
  w9SmallMs: 10,
  w9LargeMs: 20,
  w10Rps: 2_500,
  w10Ratio: 1.5,
  w11Ms: 2_000,
  // Issue 20: retracting a broadcast costs what broadcasting does, whatever the number of users.
  w13Ms: 50,
  // Issue 21: every webhook of 10,000 mutations delivered within 10 s of the last; W1 loses at most 15 % with webhooks on.
  w14Seconds: 10,
  w14W1Loss: 0.15,
};

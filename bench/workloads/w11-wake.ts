/**
 * W11: 10,000 messages of 1,000 users (10 each), all snoozed through GraphQL until the same whole
 * second S. Measured from S: when the last one woke (its user's INBOX_STORED fired in the app), and
 * when the last of a sample of live subscribers (the live hub, as inboxEvents reads it) had all of
 * its user's wake-ups. Fresh users each repeat.
 */
import { setMaxListeners } from 'node:events';
import type { BenchTarget } from '../lib/backends.js';
import type { BenchContext } from '../lib/context.js';
import { bearer, globalId, gql, Q } from '../lib/gql.js';
import type { Row } from '../lib/report.js';
import { fmt, sleep, summarize } from '../lib/stats.js';
import { TARGET } from '../lib/targets.js';

/** Users of each repeat with a live subscription (every one costs the wake-up a delivery). */
const SUBSCRIBERS = 100;
/** Concurrent snooze calls while setting up. */
const CONCURRENCY = 16;
/** Past S + this, a repeat that has not seen every wake-up fails. */
const GIVE_UP_MS = 120_000;

export async function w11(ctx: BenchContext, t: BenchTarget): Promise<Row[]> {
  const { w11Users: users, w11PerUser: perUser } = ctx.opts.sizes;
  const woken: number[] = [];
  const delivered: number[] = [];
  for (let r = 0; r < ctx.opts.repeats; r++) {
    const round = await oneRound(ctx, t, `w11-${r}-`, users, perUser);
    woken.push(round.woken);
    delivered.push(round.delivered);
  }
  const what = `${fmt(users * perUser)} messages of ${fmt(users)} users snoozed until one second`;
  const target = (s: ReturnType<typeof summarize>) => ({ text: `≤ ${fmt(TARGET.w11Ms)} ms`, met: s.max <= TARGET.w11Ms });
  const [w, d] = [summarize(woken), summarize(delivered)];
  return [
    { workload: 'W11', title: `${what}: the last woken (INBOX_STORED fired), after that second`, backend: t.name, measured: w, unit: 'ms', target: target(w) },
    { workload: 'W11', title: `${what}: the last of ${SUBSCRIBERS} live subscribers with all its wake-ups`, backend: t.name, measured: d, unit: 'ms', target: target(d) },
  ];
}

async function oneRound(ctx: BenchContext, t: BenchTarget, prefix: string, users: number, perUser: number): Promise<{ woken: number; delivered: number }> {
  const userIds = Array.from({ length: users }, (_, i) => `${prefix}${i}`);
  ctx.log(`    seeding ${fmt(users)} users × ${perUser}`);
  const ids = await t.seeder.inboxes(userIds, perUser);
  const auths = await Promise.all(userIds.map((u) => bearer(u)));
  // Far enough ahead for every snooze call to land before it, on a loaded machine too (checked below).
  const at = Math.ceil((Date.now() + 10_000 + users * 10) / 1000) * 1000;
  const until = new Date(at).toISOString();

  const pending = new Map(userIds.map((u, i) => [u, new Set(ids[i])]));
  let lastWoken = 0;
  const stop = t.app.signals.on((c) => {
    if (c.kind !== 'user' || c.signal !== 'INBOX_STORED') return;
    const left = pending.get(c.userId);
    if (!left) return;
    for (const id of c.messageIds) left.delete(id);
    if (left.size === 0) pending.delete(c.userId);
    lastWoken = Date.now();
  });
  const abort = new AbortController();
  // Every subscriber's feed listens on it.
  setMaxListeners(SUBSCRIBERS + 1, abort.signal);
  const subscribers = await Promise.all(userIds.slice(0, SUBSCRIBERS).map((u, i) => subscriber(t, u, ids[i], abort.signal)));
  try {
    ctx.log(`    snoozing ${fmt(users * perUser)} until ${until}`);
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let i = next++; i < users; i = next++) {
          const d = await gql<{ snooze: { count: number } }>(t.url, auths[i], Q.snooze, { input: { ids: ids[i].map(globalId), until } });
          if (d.snooze.count !== perUser) throw new Error(`${userIds[i]}: snoozed ${d.snooze.count} of ${perUser}`);
        }
      }),
    );
    if (Date.now() >= at) throw new Error(`snoozing took past ${until}`);
    while ((pending.size > 0 || subscribers.some((s) => s.at === 0)) && Date.now() < at + GIVE_UP_MS) await sleep(20);
    if (pending.size > 0) throw new Error(`${pending.size} users not all woken ${GIVE_UP_MS / 1000} s after ${until}`);
    const late = subscribers.filter((s) => s.at === 0).length;
    if (late) throw new Error(`${late} subscribers without all their wake-ups ${GIVE_UP_MS / 1000} s after ${until}`);
    return { woken: lastWoken - at, delivered: Math.max(...subscribers.map((s) => s.at)) - at };
  } finally {
    stop();
    abort.abort();
  }
}

/** A live inboxEvents feed of `user`: `at` becomes the time it had an INBOX_STORED for each of `ids`. */
async function subscriber(t: BenchTarget, user: string, ids: string[], signal: AbortSignal): Promise<{ at: number }> {
  const got = { at: 0 };
  const left = new Set(ids);
  const feed = await t.app.realtime.live.open({ viewer: { id: user, producer: false }, mode: 'events', signal });
  void (async () => {
    for await (const item of feed) {
      if (item.kind !== 'event' || item.event.signal !== 'INBOX_STORED') continue;
      for (const id of item.event.messageIds) left.delete(id);
      if (left.size === 0 && got.at === 0) got.at = Date.now();
    }
  })();
  return got;
}

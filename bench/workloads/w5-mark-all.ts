/**
 * W5: markAllRead over HTTP for a user with 1,000 and with 100,000 unread. Each timed call uses a
 * fresh seeded user who has already made one call (as a user looking at the inbox has).
 */
import type { BenchTarget } from '../lib/backends.js';
import { baselineText, type BenchContext } from '../lib/context.js';
import { bearer, gql, Q } from '../lib/gql.js';
import type { Row } from '../lib/report.js';
import { fmt, summarize } from '../lib/stats.js';
import { original, TARGET } from '../lib/targets.js';

async function timeMarkAll(t: BenchTarget, unread: number, calls: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < calls; i++) {
    const user = `w5-${unread}-${i}`;
    await t.seeder.inboxes([user], unread);
    const auth = await bearer(user);
    const before = await gql<{ unreadCount: number }>(t.url, auth, Q.unreadCount);
    if (before.unreadCount !== unread) throw new Error(`${user} has ${before.unreadCount} unread, expected ${unread}`);
    const t0 = performance.now();
    const d = await gql<{ markAllRead: { count: number; unreadCount: number } }>(t.url, auth, Q.markAllRead);
    out.push(performance.now() - t0);
    if (d.markAllRead.count !== unread || d.markAllRead.unreadCount !== 0) throw new Error(`markAllRead returned ${JSON.stringify(d.markAllRead)}`);
  }
  return out;
}

export async function w5(ctx: BenchContext, t: BenchTarget): Promise<Row[]> {
  const { w5Small: small, w5Large: large } = ctx.opts.sizes;
  await timeMarkAll(t, 10, 1); // warm-up
  const rows: Row[] = [];
  for (const [unread, limit, calls] of [
    [small, TARGET.w5SmallMs, ctx.opts.repeats * ctx.opts.callsPerRepeat],
    [large, TARGET.w5LargeMs, ctx.opts.repeats],
  ] as const) {
    ctx.log(`    markAllRead with ${fmt(unread)} unread × ${calls}`);
    const s = summarize(await timeMarkAll(t, unread, calls));
    rows.push({
      workload: 'W5',
      title: `markAllRead with ${fmt(unread)} unread (HTTP)`,
      backend: t.name,
      measured: s,
      unit: 'ms',
      target: { text: `≤ ${limit} ms`, met: s.median <= limit },
      original: unread === small ? original('W5', t.name) : undefined,
      baseline: baselineText(ctx, t.name, { storage: true }),
      notes: unread === large && large !== 100_000 ? [`scaled down (--quick): ${fmt(large)} unread instead of 100,000`] : [],
    });
  }
  return rows;
}

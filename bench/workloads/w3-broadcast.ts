/**
 * W3: broadcastMessage with 1,000 and then 100,000 known users (HTTP). The cost must not grow with
 * the number of users: target ≤ 50 ms at 100,000 and ≤ 1.5 × the time at 1,000.
 * Runs first on a fresh backend, so the known users are exactly the seeded ones.
 */
import type { BenchTarget } from '../lib/backends.js';
import { baselineText, type BenchContext } from '../lib/context.js';
import { bearer, gql, Q } from '../lib/gql.js';
import { timeCalls } from '../lib/measure.js';
import type { Row } from '../lib/report.js';
import { fmt, summarize, type Summary } from '../lib/stats.js';
import { original, TARGET } from '../lib/targets.js';

export async function w3(ctx: BenchContext, t: BenchTarget): Promise<Row[]> {
  const { w3Small: small, w3Large: large } = ctx.opts.sizes;
  const producer = await bearer('bench-w3-producer', { producer: true });
  const calls = ctx.opts.repeats * ctx.opts.callsPerRepeat;
  const notes: string[] = large === 100_000 ? [] : [`scaled down (--quick): ${fmt(large)} known users instead of 100,000`];
  const broadcast = async (known: number, i: number) => {
    const d = await gql<{ broadcastMessage: { recipientCount: number } }>(t.url, producer, Q.broadcast, {
      input: { level: 'STORED_INFO', text: `Release notes #${i}: what changed this week.` },
    });
    if (d.broadcastMessage.recipientCount !== known && notes.length < 2) {
      notes.push(`recipientCount ${d.broadcastMessage.recipientCount} where ${known} users were seeded`);
    }
  };

  ctx.log(`    seeding ${small} known users`);
  await t.seeder.knownUsers('w3-user-', 0, small);
  await broadcast(small, -1); // warm-up
  const atSmall = summarize(await timeCalls(calls, (i) => broadcast(small, i)));

  ctx.log(`    seeding ${large - small} more known users`);
  await t.seeder.knownUsers('w3-user-', small, large - small);
  const atLarge = summarize(await timeCalls(calls, (i) => broadcast(large, i)));

  const ratio: Summary = summarize([atLarge.median / atSmall.median]);
  const row = (n: number, s: Summary, target?: Row['target']): Row => ({
    workload: 'W3',
    title: `broadcastMessage with ${n.toLocaleString('en-US')} known users (HTTP)`,
    backend: t.name,
    measured: s,
    unit: 'ms',
    target,
    original: n === large ? original('W3', t.name) : undefined,
    baseline: baselineText(ctx, t.name, { storage: true }),
    notes,
  });
  return [
    row(small, atSmall),
    row(large, atLarge, { text: `≤ ${TARGET.w3Ms} ms`, met: atLarge.median <= TARGET.w3Ms }),
    {
      workload: 'W3',
      title: `time at ${fmt(large)} users ÷ time at ${fmt(small)} (medians)`,
      backend: t.name,
      measured: ratio,
      unit: '×',
      target: { text: `≤ ${TARGET.w3Ratio} ×`, met: ratio.median <= TARGET.w3Ratio },
    },
  ];
}

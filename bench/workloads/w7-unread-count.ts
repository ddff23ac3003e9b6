/** W7: unreadCount over HTTP, 16 connections, for a user with 10 and one with 100,000 unread. */
import type { BenchTarget } from '../lib/backends.js';
import { baselineText, type BenchContext } from '../lib/context.js';
import { bearer, body, gql, Q } from '../lib/gql.js';
import { measureHttp } from '../lib/measure.js';
import type { Row } from '../lib/report.js';
import { fmt, summarize } from '../lib/stats.js';
import { original, TARGET } from '../lib/targets.js';

export async function w7(ctx: BenchContext, t: BenchTarget): Promise<Row[]> {
  const { w7Small: small, w7Large: large } = ctx.opts.sizes;
  const rows: Row[] = [];
  const rates = new Map<number, number>();
  for (const unread of [small, large]) {
    const user = `w7-user-${unread}`;
    ctx.log(`    seeding ${fmt(unread)} unread`);
    await t.seeder.inboxes([user], unread);
    const auth = await bearer(user);
    const check = await gql<{ unreadCount: number }>(t.url, auth, Q.unreadCount);
    if (check.unreadCount !== unread) throw new Error(`${user} has ${check.unreadCount} unread, expected ${unread}`);
    const f = await measureHttp(ctx.opts, { url: t.url, bodies: [body(Q.unreadCount)], auths: [auth] });
    rates.set(unread, f.rps.median);
    rows.push({
      workload: 'W7',
      title: `unreadCount with ${fmt(unread)} unread (HTTP), 16 connections`,
      backend: t.name,
      measured: f.rps,
      unit: 'req/s',
      extra: [
        { label: 'p50', summary: f.p50, unit: 'ms' },
        { label: 'p99', summary: f.p99, unit: 'ms' },
      ],
      target: { text: `≥ ${fmt(TARGET.w7Rps)} req/s`, met: !f.problems.length && f.rps.median >= TARGET.w7Rps },
      original: original('W7', t.name),
      baseline: baselineText(ctx, t.name, { http: true }),
      notes: [...(unread === large && large !== 100_000 ? [`scaled down (--quick): ${fmt(large)} unread instead of 100,000`] : []), ...f.problems],
    });
  }
  const a = rates.get(small)!;
  const b = rates.get(large)!;
  const ratio = Math.max(a, b) / Math.min(a, b);
  rows.push({
    workload: 'W7',
    title: `req/s at ${fmt(small)} vs at ${fmt(large)} unread (larger ÷ smaller)`,
    backend: t.name,
    measured: summarize([ratio]),
    unit: '×',
    target: { text: `within ${TARGET.w7Ratio} ×`, met: ratio <= TARGET.w7Ratio },
  });
  return rows;
}

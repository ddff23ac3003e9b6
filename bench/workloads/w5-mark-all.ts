/**
 * W5: markAllRead over HTTP for a user with 1,000 and with 100,000 unread. Each timed call uses a
 * fresh seeded user who has already made one call (as a user looking at the inbox has).
 */
import type { BenchTarget } from '../lib/backends.js';
import { allOperationRows } from '../lib/all-operation.js';
import type { BenchContext } from '../lib/context.js';
import { Q } from '../lib/gql.js';
import type { Row } from '../lib/report.js';
import { fmt } from '../lib/stats.js';
import { original, TARGET } from '../lib/targets.js';

export async function w5(ctx: BenchContext, t: BenchTarget): Promise<Row[]> {
  const { w5Small: small, w5Large: large } = ctx.opts.sizes;
  return allOperationRows(ctx, t, {
    workload: 'W5',
    key: 'w5',
    title: 'markAllRead with {n} unread (HTTP)',
    before: { query: Q.unreadCount, check: (d, n) => (d.unreadCount === n ? null : `${d.unreadCount} unread, expected ${n}`) },
    mutation: Q.markAllRead,
    check: (d, n) => (d.markAllRead.count === n && d.markAllRead.unreadCount === 0 ? null : `markAllRead returned ${JSON.stringify(d.markAllRead)}`),
    sizes: [
      { covered: small, ms: TARGET.w5SmallMs, calls: ctx.opts.repeats * ctx.opts.callsPerRepeat, original: original('W5', t.name) },
      { covered: large, ms: TARGET.w5LargeMs, calls: ctx.opts.repeats, note: large !== 100_000 ? `scaled down (--quick): ${fmt(large)} unread instead of 100,000` : undefined },
    ],
  });
}

/**
 * W9: markAllSeen and archiveAll over HTTP covering 1,000 and 100,000 messages, like W5's
 * markAllRead: each timed call on a fresh seeded user (all unread and unseen) who has made one call;
 * then the same limited to a category all the messages are in (per-category watermarks).
 */
import type { BenchTarget } from '../lib/backends.js';
import { allOperationRows, type AllOperation } from '../lib/all-operation.js';
import type { BenchContext } from '../lib/context.js';
import { Q } from '../lib/gql.js';
import type { Row } from '../lib/report.js';
import { fmt } from '../lib/stats.js';
import { TARGET } from '../lib/targets.js';

export async function w9(ctx: BenchContext, t: BenchTarget): Promise<Row[]> {
  const { w9Small: small, w9Large: large } = ctx.opts.sizes;
  const sizes = [
    { covered: small, ms: TARGET.w9SmallMs, calls: ctx.opts.repeats * ctx.opts.callsPerRepeat },
    { covered: large, ms: TARGET.w9LargeMs, calls: ctx.opts.repeats, note: large !== 100_000 ? `scaled down (--quick): ${fmt(large)} instead of 100,000` : undefined },
  ];
  const fresh = { query: Q.counts, check: (d: any, n: number) => (d.counts.unseen === n && d.counts.archived === 0 ? null : `counts ${JSON.stringify(d.counts)}, expected ${n} unseen`) };
  const seen = (category?: string): AllOperation => ({
    workload: 'W9',
    key: category ? 'w9-seen-cat' : 'w9-seen',
    category,
    title: `markAllSeen covering {n} unseen${category ? ' in one category' : ''} (HTTP)`,
    before: fresh,
    mutation: category ? Q.markAllSeenIn(category) : Q.markAllSeen,
    check: (d, n) => (d.markAllSeen.count === n && d.markAllSeen.unseenCount === 0 ? null : `markAllSeen returned ${JSON.stringify(d.markAllSeen)}`),
    sizes,
  });
  const archive = (category?: string): AllOperation => ({
    workload: 'W9',
    key: category ? 'w9-archive-cat' : 'w9-archive',
    category,
    title: `archiveAll covering {n} unread${category ? ' in one category' : ''} (HTTP)`,
    before: fresh,
    mutation: category ? Q.archiveAllIn(category) : Q.archiveAll,
    check: (d, n) => {
      const { count, counts } = d.archiveAll;
      return count === n && counts.archived === n && counts.unread === 0 && counts.unseen === 0 ? null : `archiveAll returned ${JSON.stringify(d.archiveAll)}`;
    },
    sizes,
  });
  const rows: Row[] = [];
  for (const op of [seen(), archive(), seen('billing'), archive('billing')]) rows.push(...(await allOperationRows(ctx, t, op)));
  return rows;
}

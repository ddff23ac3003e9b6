/**
 * W10: `counts` (all five) and `unseenCount` over HTTP, 16 connections, for a user with 10 and one
 * with 100,000 messages: at least W7's rate, and as fast at either size.
 */
import type { BenchTarget } from '../lib/backends.js';
import type { BenchContext } from '../lib/context.js';
import { Q } from '../lib/gql.js';
import { flatReadRows, seededInboxes } from '../lib/read-rate.js';
import type { Row } from '../lib/report.js';
import { TARGET } from '../lib/targets.js';

export async function w10(ctx: BenchContext, t: BenchTarget): Promise<Row[]> {
  const inboxes = await seededInboxes(ctx, t, 'w10-user', [ctx.opts.sizes.w10Small, ctx.opts.sizes.w10Large]);
  const target = { rps: TARGET.w10Rps, ratio: TARGET.w10Ratio };
  return [
    ...(await flatReadRows(
      ctx,
      t,
      {
        workload: 'W10',
        name: 'counts',
        title: 'counts (all five) with {n} messages',
        query: Q.counts,
        check: (d, n) => {
          const c = d.counts;
          return c.total === n && c.unread === n && c.unseen === n && c.archived === 0 && c.snoozed === 0 ? null : `counts ${JSON.stringify(c)}`;
        },
        target,
      },
      inboxes,
    )),
    ...(await flatReadRows(
      ctx,
      t,
      { workload: 'W10', name: 'unseenCount', title: 'unseenCount with {n} messages', query: Q.unseenCount, check: (d, n) => (d.unseenCount === n ? null : `${d.unseenCount} unseen, expected ${n}`), target },
      inboxes,
    )),
  ];
}

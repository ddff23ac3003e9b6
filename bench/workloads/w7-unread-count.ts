/** W7: unreadCount over HTTP, 16 connections, for a user with 10 and one with 100,000 unread. */
import type { BenchTarget } from '../lib/backends.js';
import type { BenchContext } from '../lib/context.js';
import { Q } from '../lib/gql.js';
import { flatReadRows, seededInboxes } from '../lib/read-rate.js';
import type { Row } from '../lib/report.js';
import { original, TARGET } from '../lib/targets.js';

export async function w7(ctx: BenchContext, t: BenchTarget): Promise<Row[]> {
  const inboxes = await seededInboxes(ctx, t, 'w7-user', [ctx.opts.sizes.w7Small, ctx.opts.sizes.w7Large]);
  return flatReadRows(
    ctx,
    t,
    {
      workload: 'W7',
      name: 'unreadCount',
      title: 'unreadCount with {n} unread',
      query: Q.unreadCount,
      check: (d, n) => (d.unreadCount === n ? null : `${d.unreadCount} unread, expected ${n}`),
      target: { rps: TARGET.w7Rps, ratio: TARGET.w7Ratio },
      original: original('W7', t.name),
    },
    inboxes,
  );
}

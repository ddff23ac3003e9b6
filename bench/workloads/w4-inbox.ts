/**
 * W4: a user with 1,000 unread messages among 1,000,000 deliveries of 10,000 other users.
 * (a) the first page (20 newest unread) under load; (b) all 1,000 through pages of 100, each of the
 * 16 connections paging with the previous page's endCursor: messages/s.
 */
import type { BenchTarget } from '../lib/backends.js';
import { baselineText, type BenchContext } from '../lib/context.js';
import { bearer, body, gql, Q } from '../lib/gql.js';
import { measureHttp, timeCalls } from '../lib/measure.js';
import type { Row } from '../lib/report.js';
import { fmt, summarize } from '../lib/stats.js';
import { original, originalListRate, TARGET } from '../lib/targets.js';

export const W4_TARGET_USER = 'w4-reader';

export async function w4(ctx: BenchContext, t: BenchTarget): Promise<Row[]> {
  const { w4Unread: unread, w4Others: others, w4OtherUsers: otherUsers } = ctx.opts.sizes;
  ctx.log(`    seeding ${fmt(others)} deliveries of ${fmt(otherUsers)} other users and ${fmt(unread)} unread for the reader (${t.seeder.kind})`);
  const t0 = performance.now();
  await t.seeder.crowd({ target: W4_TARGET_USER, targetUnread: unread, others, otherUsers, othersPrefix: 'w4-other-' });
  ctx.log(`    seeded in ${fmt((performance.now() - t0) / 1000)} s`);
  const auth = await bearer(W4_TARGET_USER);
  const scale = `${fmt(unread)} unread among ${fmt(others)} rows of others`;
  const notes = others === 1_000_000 ? [] : [`scaled down: ${fmt(others)} rows of others instead of 1,000,000 (--quick)`];

  // Sanity: the seeded inbox is what the workload says it is.
  const check = await gql<{ unreadMessages: { totalCount: number } }>(t.url, auth, Q.firstPage);
  if (check.unreadMessages.totalCount !== unread) throw new Error(`the reader has ${check.unreadMessages.totalCount} unread, expected ${unread}`);

  const first = await measureHttp(ctx.opts, { url: t.url, bodies: [body(Q.firstPage)], auths: [auth] });
  const pagesNeeded = Math.ceil(unread / 100);
  const paging = await measureHttp(ctx.opts, {
    url: t.url,
    bodies: [],
    auths: [auth],
    pages: { count: pagesNeeded, first: body(Q.page), next: body(Q.page, { after: '__CURSOR__' }) },
  });
  const messagesPerSecond = summarize(paging.rps.samples.map((r) => r * 100));
  // One reader alone, sequentially: the latency a user sees scrolling the whole inbox.
  const sequential = summarize(
    await timeCalls(ctx.opts.repeats * 3, async () => {
      let after: string | null = null;
      for (let p = 0; p < pagesNeeded; p++) {
        const d: { unreadMessages: { pageInfo: { endCursor: string | null } } } = await gql(t.url, auth, Q.page, { after });
        after = d.unreadMessages.pageInfo.endCursor;
      }
    }),
  );

  const listTarget = originalListRate(t.name);
  const yogaPage = ctx.floors.get('yogaPage');
  return [
    {
      workload: 'W4',
      title: `first page (20 newest unread), ${scale}, 16 connections`,
      backend: t.name,
      measured: first.rps,
      unit: 'req/s',
      extra: [
        { label: 'p50', summary: first.p50, unit: 'ms' },
        { label: 'p99', summary: first.p99, unit: 'ms' },
      ],
      target: {
        text: `≥ ${fmt(TARGET.w4Rps)} req/s, p99 ≤ ${TARGET.w4P99Ms} ms`,
        met: !first.problems.length && first.rps.median >= TARGET.w4Rps && first.p99.median <= TARGET.w4P99Ms,
      },
      original: original('W4first', t.name),
      baseline: baselineText(ctx, t.name, { http: true }),
      notes: [...notes, ...first.problems],
    },
    {
      workload: 'W4',
      title: `all ${fmt(unread)} unread through pages of 100 (cursor-chained), 16 connections`,
      backend: t.name,
      measured: messagesPerSecond,
      unit: 'msg/s',
      extra: [
        { label: 'i.e.', summary: paging.rps, unit: 'pages/s' },
        { label: 'p99', summary: paging.p99, unit: 'ms/page' },
        { label: 'one reader alone', summary: sequential, unit: `ms for ${pagesNeeded} pages` },
      ],
      target: { text: `≥ original's one-shot list (${fmt(listTarget)} msg/s)`, met: !paging.problems.length && messagesPerSecond.median >= listTarget },
      original: original('W4all', t.name),
      baseline: [baselineText(ctx, t.name, { http: true }), yogaPage ? `bare Yoga + jit, same page from memory ${fmt(yogaPage.median * 100)} msg/s` : ''].filter(Boolean).join('; '),
      notes: [...notes, ...paging.problems],
    },
  ];
}

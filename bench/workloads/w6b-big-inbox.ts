/**
 * W6b (issue 18): markRead of one message over HTTP, 16 connections, by users each holding 10,000
 * unread. Requests go round the users, each marking the next of its own unread messages, so every
 * request changes one delivery while every inbox stays large; several users, so a run does not
 * exhaust one inbox (the rows say how many unread the users still held at the end).
 */
import type { BenchTarget } from '../lib/backends.js';
import { baselineText, type BenchContext } from '../lib/context.js';
import { bearer, body, globalId, Q } from '../lib/gql.js';
import { measureHttp } from '../lib/measure.js';
import type { Row } from '../lib/report.js';
import { fmt } from '../lib/stats.js';
import { original, TARGET } from '../lib/targets.js';

export async function w6b(ctx: BenchContext, t: BenchTarget): Promise<Row[]> {
  const { w6bUsers: users, w6bUnread: perUser } = ctx.opts.sizes;
  const userIds = Array.from({ length: users }, (_, i) => `w6b-user-${i}`);
  ctx.log(`    seeding ${fmt(users)} users × ${fmt(perUser)} unread`);
  const ids = await t.seeder.inboxes(userIds, perUser);
  const auths = await Promise.all(userIds.map((u) => bearer(u)));
  // Request k: user k % users, that user's message floor(k / users).
  const bodies: string[] = [];
  for (let j = 0; j < perUser; j++) {
    for (let u = 0; u < users; u++) bodies.push(body(Q.markRead, { input: { ids: [globalId(ids[u][j])] } }));
  }
  const f = await measureHttp(ctx.opts, { url: t.url, bodies, auths });
  const notes = [...f.problems];
  const leftPerUser = perUser - Math.ceil(f.requests / users);
  if (f.requests > bodies.length) notes.push(`the plan wrapped: ${fmt(f.requests)} requests for ${fmt(bodies.length)} unread messages, later requests marked read messages again`);
  else notes.push(`${fmt(f.requests)} requests in the measured runs: each user still held at least ${fmt(leftPerUser)} unread less the warm-up's`);
  return [
    {
      workload: 'W6b',
      title: `markRead one message (HTTP), ${fmt(users)} users with ${fmt(perUser)} unread each, a different id per request, 16 connections`,
      backend: t.name,
      measured: f.rps,
      unit: 'req/s',
      extra: [
        { label: 'p50', summary: f.p50, unit: 'ms' },
        { label: 'p99', summary: f.p99, unit: 'ms' },
      ],
      target: {
        text: `≥ ${fmt(TARGET.w6Rps)} req/s, p99 ≤ ${TARGET.w6bP99Ms} ms`,
        met: !f.problems.length && f.rps.median >= TARGET.w6Rps && f.p99.median <= TARGET.w6bP99Ms,
      },
      original: original('W6', t.name),
      baseline: baselineText(ctx, t.name),
      notes,
    },
  ];
}

/**
 * W6: markRead of one message over HTTP, 16 connections. Requests go round the users, each marking
 * the next of its own unread messages, so every request changes one delivery (until the seeded
 * messages run out and the plan wraps, when requests mark already-read messages).
 */
import type { BenchTarget } from '../lib/backends.js';
import { baselineText, type BenchContext } from '../lib/context.js';
import { bearer, body, globalId, Q } from '../lib/gql.js';
import { measureHttp } from '../lib/measure.js';
import type { Row } from '../lib/report.js';
import { fmt } from '../lib/stats.js';
import { original, TARGET } from '../lib/targets.js';

export async function w6(ctx: BenchContext, t: BenchTarget): Promise<Row[]> {
  const { w6Users: users, w6PerUser: perUser } = ctx.opts.sizes;
  const userIds = Array.from({ length: users }, (_, i) => `w6-user-${i}`);
  ctx.log(`    seeding ${fmt(users)} users × ${perUser} unread`);
  const ids = await t.seeder.inboxes(userIds, perUser);
  const auths = await Promise.all(userIds.map((u) => bearer(u)));
  // Request k: user k % users, that user's message floor(k / users).
  const bodies: string[] = [];
  for (let j = 0; j < perUser; j++) {
    for (let u = 0; u < users; u++) bodies.push(body(Q.markRead, { input: { ids: [globalId(ids[u][j])] } }));
  }
  const f = await measureHttp(ctx.opts, { url: t.url, bodies, auths });
  const notes = [...f.problems];
  if (f.requests > bodies.length) notes.push(`the plan wrapped: ${fmt(f.requests)} requests for ${fmt(bodies.length)} unread messages, later requests marked read messages again`);
  return [
    {
      workload: 'W6',
      title: `markRead one message (HTTP), ${fmt(users)} users, 16 connections`,
      backend: t.name,
      measured: f.rps,
      unit: 'req/s',
      extra: [
        { label: 'p50', summary: f.p50, unit: 'ms' },
        { label: 'p99', summary: f.p99, unit: 'ms' },
      ],
      target: { text: `≥ ${fmt(TARGET.w6Rps)} req/s`, met: !f.problems.length && f.rps.median >= TARGET.w6Rps },
      original: original('W6', t.name),
      baseline: baselineText(ctx, t.name),
      notes,
    },
  ];
}

/**
 * W6 and W6b: markRead of one message over HTTP, 16 connections. Requests go round the users, each
 * marking the next of its own unread messages, so every request changes one delivery (until the
 * seeded messages run out and the plan wraps, when requests mark already-read messages).
 * W6b (issue 18) gives every user 10,000 unread, so each request works in a large inbox.
 */
import type { BenchTarget } from '../lib/backends.js';
import { baselineText, type BenchContext } from '../lib/context.js';
import { bearer, body, globalId, Q } from '../lib/gql.js';
import { measureHttp } from '../lib/measure.js';
import type { Row } from '../lib/report.js';
import { fmt } from '../lib/stats.js';
import { original, TARGET } from '../lib/targets.js';

export function w6(ctx: BenchContext, t: BenchTarget): Promise<Row[]> {
  const { w6Users: users, w6PerUser: perUser } = ctx.opts.sizes;
  return markReadRound(ctx, t, { workload: 'W6', users, perUser, title: `markRead one message (HTTP), ${fmt(users)} users, 16 connections` });
}

export function w6b(ctx: BenchContext, t: BenchTarget): Promise<Row[]> {
  const { w6bUsers: users, w6bUnread: perUser } = ctx.opts.sizes;
  return markReadRound(ctx, t, {
    workload: 'W6b',
    users,
    perUser,
    title: `markRead one message (HTTP), ${fmt(users)} users with ${fmt(perUser)} unread each, a different id per request, 16 connections`,
    p99Ms: TARGET.w6bP99Ms,
  });
}

interface Round {
  workload: 'W6' | 'W6b';
  users: number;
  perUser: number;
  title: string;
  /** A p99 target beside the rate target, if any. */
  p99Ms?: number;
}

async function markReadRound(ctx: BenchContext, t: BenchTarget, r: Round): Promise<Row[]> {
  const { users, perUser } = r;
  const userIds = Array.from({ length: users }, (_, i) => `${r.workload.toLowerCase()}-user-${i}`);
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
  if (f.sent > bodies.length) notes.push(`the plan wrapped: ${fmt(f.sent)} requests for ${fmt(bodies.length)} unread messages, later requests marked read messages again`);
  else if (r.workload === 'W6b') notes.push(`${fmt(f.sent)} requests with the warm-up's: each user still held at least ${fmt(perUser - Math.ceil(f.sent / users))} unread`);
  const p99Met = r.p99Ms === undefined || f.p99.median <= r.p99Ms;
  return [
    {
      workload: r.workload,
      title: r.title,
      backend: t.name,
      measured: f.rps,
      unit: 'req/s',
      extra: [
        { label: 'p50', summary: f.p50, unit: 'ms' },
        { label: 'p99', summary: f.p99, unit: 'ms' },
      ],
      target: {
        text: `≥ ${fmt(TARGET.w6Rps)} req/s${r.p99Ms === undefined ? '' : `, p99 ≤ ${r.p99Ms} ms`}`,
        met: !f.problems.length && f.rps.median >= TARGET.w6Rps && p99Met,
      },
      original: original('W6', t.name),
      baseline: baselineText(ctx, t.name),
      notes,
    },
  ];
}

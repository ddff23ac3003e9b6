/**
 * W1: addMessageFor one user over GraphQL HTTP, 16 connections. Each request goes to the next of
 * 1,000 recipients (a production sender writes to many users, so requests do not queue on one
 * user's counter row). Also measured in-process (the original's figure is in-process).
 */
import type { BenchTarget } from '../lib/backends.js';
import { baselineText, type BenchContext } from '../lib/context.js';
import { bearer, body, Q } from '../lib/gql.js';
import { inProcessRate, measureHttp } from '../lib/measure.js';
import type { Row } from '../lib/report.js';
import { fmt, summarize } from '../lib/stats.js';
import { original, TARGET } from '../lib/targets.js';

const RECIPIENTS = 1_000;

export async function w1(ctx: BenchContext, t: BenchTarget): Promise<Row[]> {
  const producer = await bearer('bench-w1-producer', { producer: true });
  const bodies = Array.from({ length: RECIPIENTS }, (_, i) =>
    body(Q.addMessageFor, { input: { userIds: [`w1-user-${i}`], level: 'STORED_INFO', text: `Your export #${i} is ready: download it from the Reports page.` } }),
  );
  const f = await measureHttp(ctx.opts, { url: t.url, bodies, auths: [producer] });
  const floor = ctx.floors.get(`typename:${t.name}`)?.median;
  const needed = Math.max(TARGET.w1Rate, floor ? floor * TARGET.w1FloorShare : 0);
  const rows: Row[] = [
    {
      workload: 'W1',
      title: 'addMessageFor one user, GraphQL HTTP, 16 connections',
      backend: t.name,
      measured: f.rps,
      unit: 'msg/s',
      extra: [
        { label: 'p50', summary: f.p50, unit: 'ms' },
        { label: 'p99', summary: f.p99, unit: 'ms' },
      ],
      target: {
        text: `≥ ${fmt(TARGET.w1Rate)} msg/s and ≥ ½ {__typename}${floor ? ` (= ${fmt(needed)})` : ''}`,
        met: f.problems.length ? false : f.rps.median >= needed,
      },
      original: original('W1', t.name),
      baseline: baselineText(ctx, t.name),
      notes: f.problems,
    },
  ];

  // In-process: the use case itself, as the original measured it (no HTTP, no GraphQL).
  const viewer = { id: 'bench-w1-producer', producer: true };
  const rates: number[] = [];
  for (let r = 0; r < ctx.opts.repeats; r++) {
    rates.push(
      await inProcessRate(
        (i) => t.app.messages.addMessageFor(viewer, { userIds: [`w1-user-${i % RECIPIENTS}`], level: 'STORED_INFO', text: `In-process export #${i} is ready.` }),
        { concurrency: ctx.opts.connections, seconds: ctx.opts.durationSeconds },
      ),
    );
  }
  rows.push({
    workload: 'W1',
    title: 'addMessageFor one user, in-process use case, 16 concurrent',
    backend: t.name,
    measured: summarize(rates),
    unit: 'msg/s',
    original: original('W1', t.name),
    baseline: baselineText(ctx, t.name, { storage: true }),
  });
  return rows;
}

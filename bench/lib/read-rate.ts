import type { BenchTarget } from './backends.js';
import { baselineText, type BenchContext } from './context.js';
import { bearer, body, gql } from './gql.js';
import { measureHttp } from './measure.js';
import type { Row } from './report.js';
import { fmt, summarize } from './stats.js';

/** A cheap read (unreadCount, counts, unseenCount) whose rate must not depend on the inbox size. */
export interface FlatRead {
  workload: string;
  /** The read's name (`unreadCount`), for the ratio row. */
  name: string;
  /** Its title in the table, with `{n}` for the inbox size. */
  title: string;
  query: string;
  /** Answers why the read's answer for an inbox of `n` is wrong, or null. */
  check(data: any, n: number): string | null;
  target: { rps: number; ratio: number };
  original?: string;
}

/** A user `<prefix>-<n>` seeded with `n` unread messages for each size: the inboxes flatReadRows reads. */
export async function seededInboxes(ctx: BenchContext, t: BenchTarget, prefix: string, sizes: number[]): Promise<Map<number, string>> {
  const inboxes = new Map<number, string>();
  for (const n of sizes) {
    ctx.log(`    seeding ${fmt(n)} unread`);
    await t.seeder.inboxes([`${prefix}-${n}`], n);
    inboxes.set(n, `${prefix}-${n}`);
  }
  return inboxes;
}

/**
 * One row per inbox (users already seeded, `n` → user id), 16 connections reading it, and the ratio
 * of the two rates (larger ÷ smaller) against `target.ratio`.
 */
export async function flatReadRows(ctx: BenchContext, t: BenchTarget, read: FlatRead, inboxes: Map<number, string>): Promise<Row[]> {
  const rows: Row[] = [];
  const rates: number[] = [];
  for (const [n, user] of inboxes) {
    const auth = await bearer(user);
    const wrong = read.check(await gql(t.url, auth, read.query), n);
    if (wrong) throw new Error(`${user}: ${wrong}`);
    const f = await measureHttp(ctx.opts, { url: t.url, bodies: [body(read.query)], auths: [auth] });
    rates.push(f.rps.median);
    rows.push({
      workload: read.workload,
      title: `${read.title.replace('{n}', fmt(n))} (HTTP), 16 connections`,
      backend: t.name,
      measured: f.rps,
      unit: 'req/s',
      extra: [
        { label: 'p50', summary: f.p50, unit: 'ms' },
        { label: 'p99', summary: f.p99, unit: 'ms' },
      ],
      target: { text: `≥ ${fmt(read.target.rps)} req/s`, met: !f.problems.length && f.rps.median >= read.target.rps },
      original: read.original,
      baseline: baselineText(ctx, t.name, { http: true }),
      notes: [...(n < 100_000 && n === Math.max(...inboxes.keys()) ? [`scaled down (--quick): ${fmt(n)} instead of 100,000`] : []), ...f.problems],
    });
  }
  const [small, large] = [...inboxes.keys()];
  const ratio = Math.max(...rates) / Math.min(...rates);
  rows.push({
    workload: read.workload,
    title: `${read.name}: req/s at ${fmt(small)} vs at ${fmt(large)} (larger ÷ smaller)`,
    backend: t.name,
    measured: summarize([ratio]),
    unit: '×',
    target: { text: `within ${read.target.ratio} ×`, met: ratio <= read.target.ratio },
  });
  return rows;
}

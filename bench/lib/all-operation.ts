import type { BenchTarget } from './backends.js';
import { baselineText, type BenchContext } from './context.js';
import { bearer, gql } from './gql.js';
import type { Row } from './report.js';
import { fmt, summarize } from './stats.js';

/** An "all" operation (markAllRead, markAllSeen, archiveAll): one call covering every message of a fresh inbox. */
export interface AllOperation {
  workload: string;
  /** Names its users (`<key>-<covered>-<i>`), unique in a run. */
  key: string;
  /** The category the seeded messages are in (the operation is then limited to it). */
  category?: string;
  /** Its title in the table, with `{n}` for the number covered. */
  title: string;
  /** A read the user makes first (a user looking at the inbox has made one); answers why it is wrong, or null. */
  before: { query: string; check(data: any, covered: number): string | null };
  mutation: string;
  /** Answers why the mutation's result is wrong, or null. */
  check(data: any, covered: number): string | null;
  /** The inbox sizes timed, each with its target (ms), how many calls, and the original's figure and a note if any. */
  sizes: { covered: number; ms: number; calls: number; original?: string; note?: string }[];
}

/** Times `calls` calls of the operation, each on a fresh seeded user with `covered` unread messages. */
async function timeOperation(t: BenchTarget, op: AllOperation, covered: number, calls: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < calls; i++) {
    const user = `${op.key}-${covered}-${i}`;
    await t.seeder.inboxes([user], covered, op.category);
    const auth = await bearer(user);
    const wrongBefore = op.before.check(await gql(t.url, auth, op.before.query), covered);
    if (wrongBefore) throw new Error(`${user} before: ${wrongBefore}`);
    const t0 = performance.now();
    const d = await gql(t.url, auth, op.mutation);
    out.push(performance.now() - t0);
    const wrong = op.check(d, covered);
    if (wrong) throw new Error(`${user}: ${wrong}`);
  }
  return out;
}

/** One row per size of `op`, after one warm-up call. */
export async function allOperationRows(ctx: BenchContext, t: BenchTarget, op: AllOperation): Promise<Row[]> {
  await timeOperation(t, op, 10, 1); // warm-up (user <key>-10-0)
  const rows: Row[] = [];
  for (const { covered, ms, calls, original, note } of op.sizes) {
    ctx.log(`    ${op.title.replace('{n}', fmt(covered))} × ${calls}`);
    const s = summarize(await timeOperation(t, op, covered, calls));
    rows.push({
      workload: op.workload,
      title: op.title.replace('{n}', fmt(covered)),
      backend: t.name,
      measured: s,
      unit: 'ms',
      target: { text: `≤ ${ms} ms`, met: s.median <= ms },
      original,
      baseline: baselineText(ctx, t.name, { storage: true }),
      notes: note ? [note] : [],
    });
  }
  return rows;
}

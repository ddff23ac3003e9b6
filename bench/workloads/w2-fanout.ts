/** W2: one addMessageFor to 10,000 users in one GraphQL call. */
import type { BenchTarget } from '../lib/backends.js';
import { baselineText, type BenchContext } from '../lib/context.js';
import { bearer, gql, Q } from '../lib/gql.js';
import { timeCalls } from '../lib/measure.js';
import type { Row } from '../lib/report.js';
import { summarize } from '../lib/stats.js';
import { original, TARGET } from '../lib/targets.js';

export async function w2(ctx: BenchContext, t: BenchTarget): Promise<Row[]> {
  const n = ctx.opts.sizes.w2Recipients;
  const producer = await bearer('bench-w2-producer', { producer: true });
  const userIds = Array.from({ length: n }, (_, i) => `w2-user-${i}`);
  const send = async (i: number) => {
    const d = await gql<{ addMessageFor: { recipientCount: number } }>(t.url, producer, Q.addMessageFor, {
      input: { userIds, level: 'STORED_WARNING', text: `Scheduled maintenance #${i} tonight from 22:00 to 23:00 UTC.` },
    });
    if (d.addMessageFor.recipientCount !== n) throw new Error(`recipientCount ${d.addMessageFor.recipientCount}, expected ${n}`);
  };
  // The first call also makes the 10,000 users known; the rest go to known users.
  const first = await timeCalls(1, send);
  const known = await timeCalls(ctx.opts.repeats * ctx.opts.callsPerRepeat, (i) => send(i + 1));
  const target = (s: number) => ({ text: `≤ ${TARGET.w2Seconds} s`, met: s <= TARGET.w2Seconds });
  const seconds = (ms: number[]) => summarize(ms.map((x) => x / 1000));
  return [
    {
      workload: 'W2',
      title: `addMessageFor to ${n.toLocaleString('en-US')} known users, one call (HTTP)`,
      backend: t.name,
      measured: seconds(known),
      unit: 's',
      target: target(seconds(known).median),
      original: original('W2', t.name),
      baseline: baselineText(ctx, t.name, { storage: true }),
    },
    {
      workload: 'W2',
      title: `addMessageFor to ${n.toLocaleString('en-US')} new users (first call registers them)`,
      backend: t.name,
      measured: seconds(first),
      unit: 's',
      target: target(first[0] / 1000),
      original: original('W2', t.name),
    },
  ];
}

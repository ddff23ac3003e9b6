/**
 * W13: retractMessage of a broadcast to 100,000 known users (HTTP), some of whom already have it in
 * their inbox. The cost must not grow with the number of users: target ≤ 50 ms. Each timed call
 * retracts a broadcast sent (untimed) just before it.
 */
import type { BenchTarget } from '../lib/backends.js';
import { baselineText, type BenchContext } from '../lib/context.js';
import { bearer, gql, Q } from '../lib/gql.js';
import type { Row } from '../lib/report.js';
import { fmt, summarize } from '../lib/stats.js';
import { TARGET } from '../lib/targets.js';

const RETRACT = 'mutation Retract($input: RetractMessageInput!) { retractMessage(input: $input) { recipientCount } }';
/** Users who read their inbox between the broadcast and its retraction (they have it; the rest never caught up). */
const CAUGHT_UP = 100;

export async function w13(ctx: BenchContext, t: BenchTarget): Promise<Row[]> {
  const users = ctx.opts.sizes.w3Large;
  const producer = await bearer('bench-w13-producer', { producer: true });
  const readers = await Promise.all(Array.from({ length: CAUGHT_UP }, (_, i) => bearer(`w13-user-${i}`)));
  const notes: string[] = users === 100_000 ? [] : [`scaled down (--quick): ${fmt(users)} known users instead of 100,000`];
  ctx.log(`    seeding ${fmt(users)} known users`);
  await t.seeder.knownUsers('w13-user-', 0, users);

  const once = async (i: number): Promise<number> => {
    const sent = await gql<{ broadcastMessage: { message: { id: string } } }>(t.url, producer, Q.broadcast, { input: { level: 'STORED_INFO', text: `Wrong notice #${i}` } });
    await Promise.all(readers.map((auth) => gql(t.url, auth, '{ unreadCount }')));
    const started = performance.now();
    const d = await gql<{ retractMessage: { recipientCount: number } }>(t.url, producer, RETRACT, { input: { id: sent.broadcastMessage.message.id } });
    const ms = performance.now() - started;
    if (d.retractMessage.recipientCount < users && notes.length < 2) notes.push(`recipientCount ${d.retractMessage.recipientCount} where ${fmt(users)} users were seeded`);
    return ms;
  };
  await once(-1); // warm-up
  const times: number[] = [];
  for (let i = 0; i < ctx.opts.repeats * ctx.opts.callsPerRepeat; i++) times.push(await once(i));
  const s = summarize(times);
  return [
    {
      workload: 'W13',
      title: `retractMessage of a broadcast to ${fmt(users)} known users, ${CAUGHT_UP} of them caught up (HTTP)`,
      backend: t.name,
      measured: s,
      unit: 'ms',
      target: { text: `≤ ${TARGET.w13Ms} ms`, met: s.median <= TARGET.w13Ms },
      baseline: baselineText(ctx, t.name, { storage: true }),
      notes,
    },
  ];
}

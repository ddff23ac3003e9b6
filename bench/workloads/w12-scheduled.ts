/**
 * W12 (issue 20): scheduled delivery as the server's own job does it. A broadcast scheduled for 100,000
 * known users: from deliverAt to its one broadcast event, target ≤ 2 s. 10,000 direct messages due in the
 * same second: from deliverAt to the last one's INBOX_STORED, target ≤ 5 s. The lag the 500 ms tick
 * adds is part of what users see, so it is measured, not subtracted.
 */
import type { InboxChange } from '../../src/domain/signals.js';
import type { BenchTarget } from '../lib/backends.js';
import type { BenchContext } from '../lib/context.js';
import type { Row } from '../lib/report.js';
import { fmt, summarize } from '../lib/stats.js';

const PRODUCER = { id: 'bench-w12-producer', producer: true };
const DIRECT = 10_000;
const LEAD_MS = 3_000;

/** Resolves with the time the `count`th signal that `matches` fires. */
function signalsSeen(t: BenchTarget, count: number, matches: (c: InboxChange) => boolean): Promise<number> {
  return new Promise((resolve) => {
    let seen = 0;
    const off = t.app.signals.on((c) => {
      if (matches(c) && ++seen === count) {
        off();
        resolve(Date.now());
      }
    });
  });
}

export async function w12(ctx: BenchContext, t: BenchTarget): Promise<Row[]> {
  const large = ctx.opts.sizes.w3Large;
  ctx.log(`    seeding ${large} known users`);
  await t.seeder.knownUsers('w12-user-', 0, large);

  const broadcastLags: number[] = [];
  for (let r = 0; r < ctx.opts.repeats; r++) {
    const deliverAt = new Date(Date.now() + LEAD_MS);
    const { message } = await t.app.messages.broadcastMessage(PRODUCER, { level: 'STORED_INFO', text: `Scheduled notice #${r}`, deliverAt });
    const text = message.text;
    const seen = await signalsSeen(t, 1, (c) => c.kind === 'broadcast' && c.signal === 'INBOX_STORED' && c.message.text === text);
    broadcastLags.push((seen - deliverAt.getTime()) / 1000);
  }

  const directLags: number[] = [];
  for (let r = 0; r < ctx.opts.repeats; r++) {
    // Scheduling 10,000 takes a while: the due second is set after they are all in.
    const deliverAt = new Date(Date.now() + 60_000);
    deliverAt.setMilliseconds(0);
    const tag = `w12 direct round ${r}`;
    const batch = 200;
    const started = Date.now();
    const seen = signalsSeen(t, DIRECT, (c) => c.kind === 'user' && c.signal === 'INBOX_STORED' && c.message?.text.startsWith(tag) === true);
    ctx.log(`    scheduling ${DIRECT} direct messages due at ${deliverAt.toISOString()}`);
    for (let i = 0; i < DIRECT; i += batch) {
      await Promise.all(
        Array.from({ length: Math.min(batch, DIRECT - i) }, (_, k) =>
          t.app.messages.addMessageFor(PRODUCER, { userIds: [`w12-user-${(i + k) % large}`], level: 'STORED_INFO', text: `${tag} #${i + k}`, deliverAt }),
        ),
      );
    }
    ctx.log(`    scheduled in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    directLags.push(((await seen) - deliverAt.getTime()) / 1000);
  }

  const b = summarize(broadcastLags);
  const d = summarize(directLags);
  return [
    {
      workload: 'W12',
      title: `scheduled broadcast to ${fmt(large)} known users: deliverAt to its event`,
      backend: t.name,
      measured: b,
      unit: 's',
      target: { text: '≤ 2 s', met: b.median <= 2 },
      baseline: 'the job ticks every 500 ms',
    },
    {
      workload: 'W12',
      title: `${fmt(DIRECT)} scheduled direct messages due the same second: deliverAt to the last event`,
      backend: t.name,
      measured: d,
      unit: 's',
      target: { text: '≤ 5 s', met: d.median <= 5 },
      baseline: 'the job ticks every 500 ms',
    },
  ];
}

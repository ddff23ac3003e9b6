/**
 * W14 (issue 21): webhooks on, to a local endpoint that answers 200 at once. 10,000 addMessageFor by
 * 16 connections to 1,000 users (two events each: 20,000 webhooks): the time from the last mutation's
 * answer to the last delivery (target ≤ 10 s). And W1's load with webhooks on beside W1 off, each on a
 * fresh storage of the same backend in this run (target: on within 15 % of off).
 */
import { randomBytes } from 'node:crypto';
import { startBackend, type BenchTarget } from '../lib/backends.js';
import type { BenchContext } from '../lib/context.js';
import { bearer, body, gql, Q } from '../lib/gql.js';
import { measureHttp } from '../lib/measure.js';
import type { Row } from '../lib/report.js';
import { fmt, summarize } from '../lib/stats.js';
import { TARGET } from '../lib/targets.js';
import { startBenchReceiver, type BenchReceiver } from '../lib/webhook-receiver.js';

const USERS = 1_000;
const MUTATIONS = 10_000;
/** addMessageFor to one user: ARCHIVE_STORED and INBOX_STORED. */
const EVENTS_PER_SEND = 2;

const sendInput = (i: number, what: string) => ({ input: { userIds: [`w14-user-${i % USERS}`], level: 'STORED_INFO', text: `${what} #${i} is ready.` } });

export async function w14(ctx: BenchContext, t: BenchTarget): Promise<Row[]> {
  const producer = await bearer('bench-w14-producer', { producer: true });
  const bodies = Array.from({ length: USERS }, (_, i) => body(Q.addMessageFor, sendInput(i, 'Your export')));
  const w1Plan = (url: string) => ({ url, bodies, auths: [producer] });

  ctx.log('    W1 with webhooks off, on a fresh storage');
  const off = await startBackend(t.name, ctx.opts);
  const w1Off = await measureHttp(ctx.opts, w1Plan(off.url)).finally(() => off.close());

  const receiver = await startBenchReceiver();
  const on = await startBackend(t.name, ctx.opts, { WEBHOOK_URLS: receiver.url, WEBHOOK_SECRET: `whsec_${randomBytes(32).toString('base64')}` });
  try {
    ctx.log('    W1 with webhooks on, on a fresh storage');
    const w1On = await measureHttp(ctx.opts, w1Plan(on.url));
    await drained(receiver, w1On.sent * EVENTS_PER_SEND);

    ctx.log(`    W14: ${fmt(MUTATIONS)} mutations by 16 connections, then until the last webhook`);
    const before = (await receiver.count()).count;
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < MUTATIONS; i = next++) await gql(on.url, producer, Q.addMessageFor, sendInput(i, 'Your report'));
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: ctx.opts.connections }, worker));
    const lastMutation = Date.now();
    const { lastAt, count } = await drained(receiver, before + MUTATIONS * EVENTS_PER_SEND);
    const tail = (lastAt - lastMutation) / 1000;
    const ratio = w1On.rps.median / w1Off.rps.median;
    return [
      {
        workload: 'W14',
        title: `${fmt(MUTATIONS)} addMessageFor to ${fmt(USERS)} users, webhooks to a local endpoint: last mutation to last delivery`,
        backend: t.name,
        measured: summarize([Math.max(0, tail)]),
        unit: 's',
        target: { text: `≤ ${TARGET.w14Seconds} s`, met: count >= before + MUTATIONS * EVENTS_PER_SEND && tail <= TARGET.w14Seconds },
        notes: [`mutations took ${((lastMutation - started) / 1000).toFixed(1)} s (${fmt(Math.round(MUTATIONS / ((lastMutation - started) / 1000)))}/s); ${fmt(count - before)} webhooks`],
      },
      {
        workload: 'W14',
        title: 'W1 (addMessageFor one user, 16 connections) with webhooks on, against off',
        backend: t.name,
        measured: w1On.rps,
        unit: 'msg/s',
        extra: [
          { label: 'off', summary: w1Off.rps, unit: 'msg/s' },
          { label: 'p99 on', summary: w1On.p99, unit: 'ms' },
        ],
        target: { text: `≥ ${Math.round((1 - TARGET.w14W1Loss) * 100)} % of off (on/off = ${ratio.toFixed(2)})`, met: ratio >= 1 - TARGET.w14W1Loss },
        notes: [...w1Off.problems, ...w1On.problems],
      },
    ];
  } finally {
    await on.close();
    await receiver.close();
  }
}

/** Waits (up to 2 minutes) until the receiver got `count` webhooks; answers its count and last arrival. */
async function drained(receiver: BenchReceiver, count: number): Promise<{ count: number; lastAt: number }> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const c = await receiver.count();
    if (c.count >= count || Date.now() > deadline) return c;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * W14 (issue 21): webhooks on, to a local endpoint that answers 200 at once. 10,000 addMessageFor by
 * 16 connections to 1,000 users (two events each: 20,000 webhooks): the time from the last mutation's
 * answer to the last delivery (target ≤ 10 s). And W1's load with webhooks on beside W1 off, each on a
 * fresh storage of the same backend in this run (target: on within 15 % of off): once with the dispatcher
 * paused (what a mutation pays: the outbox writes), once delivering to the endpoint, which then shares
 * the machine's cores with the server and the load generator.
 */
import { randomBytes } from 'node:crypto';
import { startBackend, type BenchTarget } from '../lib/backends.js';
import type { BenchContext } from '../lib/context.js';
import { bearer, body, gql, Q } from '../lib/gql.js';
import { measureHttp, type HttpFigures } from '../lib/measure.js';
import type { Row } from '../lib/report.js';
import { fmt, summarize } from '../lib/stats.js';
import { TARGET } from '../lib/targets.js';
import { startBenchReceiver, type BenchReceiver } from '../lib/webhook-receiver.js';

const USERS = 1_000;
const MUTATIONS = 10_000;
/** addMessageFor to one user: ARCHIVE_STORED and INBOX_STORED. */
const EVENTS_PER_SEND = 2;
const DAY = 86_400_000;

const sendInput = (i: number, what: string) => ({ input: { userIds: [`w14-user-${i % USERS}`], level: 'STORED_INFO', text: `${what} #${i} is ready.` } });

export async function w14(ctx: BenchContext, t: BenchTarget): Promise<Row[]> {
  const producer = await bearer('bench-w14-producer', { producer: true });
  const bodies = Array.from({ length: USERS }, (_, i) => body(Q.addMessageFor, sendInput(i, 'Your export')));
  const receiver = await startBenchReceiver();
  const webhooks = { WEBHOOK_URLS: receiver.url, WEBHOOK_SECRET: `whsec_${randomBytes(32).toString('base64')}` };
  /** W1 on a fresh storage of this backend. */
  const w1On = async (what: string, extra: Parameters<typeof startBackend>[2]) => {
    ctx.log(`    W1 ${what}, on a fresh storage`);
    const target = await startBackend(t.name, ctx.opts, extra);
    return measureHttp(ctx.opts, { url: target.url, bodies, auths: [producer] }).finally(() => target.close());
  };
  try {
    const off = await w1On('with webhooks off', {});
    // The mutations' own cost: outbox writes, the dispatcher paused (it would wake after a day).
    const written = await w1On('with webhooks on, the dispatcher paused', { env: webhooks, app: { webhookTimings: { pollMs: DAY, wakeDelayMs: DAY } } });
    const delivering = await w1On('with webhooks on and delivered', { env: webhooks });
    const tail = await lastDelivery(ctx, t, producer, receiver, webhooks);
    const vsOff = (f: HttpFigures) => f.rps.median / off.rps.median;
    const w1Row = (title: string, f: HttpFigures): Row => ({
      workload: 'W14',
      title,
      backend: t.name,
      measured: f.rps,
      unit: 'msg/s',
      extra: [
        { label: 'off', summary: off.rps, unit: 'msg/s' },
        { label: 'p99', summary: f.p99, unit: 'ms' },
      ],
      target: { text: `≥ ${Math.round((1 - TARGET.w14W1Loss) * 100)} % of off (${(vsOff(f) * 100).toFixed(0)} %)`, met: vsOff(f) >= 1 - TARGET.w14W1Loss },
      notes: [...off.problems, ...f.problems],
    });
    return [
      tail,
      w1Row('W1 (addMessageFor one user, 16 connections), webhooks on: outbox written, dispatcher paused', written),
      w1Row('W1, webhooks on and delivered to a local endpoint on the same 2 cores, beside W1 off', delivering),
    ];
  } finally {
    await receiver.close();
  }
}

/** 10,000 mutations with webhooks on, then the time until the endpoint has every webhook. */
async function lastDelivery(ctx: BenchContext, t: BenchTarget, producer: string, receiver: BenchReceiver, env: Record<string, string>): Promise<Row> {
  const on = await startBackend(t.name, ctx.opts, { env });
  try {
    ctx.log(`    W14: ${fmt(MUTATIONS)} mutations by ${ctx.opts.connections} connections, then until the last webhook`);
    const before = (await receiver.count()).count;
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < MUTATIONS; i = next++) await gql(on.url, producer, Q.addMessageFor, sendInput(i, 'Your report'));
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: ctx.opts.connections }, worker));
    const lastMutation = Date.now();
    const expected = before + MUTATIONS * EVENTS_PER_SEND;
    const { lastAt, count } = await drained(receiver, expected);
    const tail = Math.max(0, lastAt - lastMutation) / 1000;
    return {
      workload: 'W14',
      title: `${fmt(MUTATIONS)} addMessageFor to ${fmt(USERS)} users, webhooks to a local endpoint: last mutation to last delivery`,
      backend: t.name,
      measured: summarize([tail]),
      unit: 's',
      target: { text: `≤ ${TARGET.w14Seconds} s`, met: count >= expected && tail <= TARGET.w14Seconds },
      notes: [`mutations took ${((lastMutation - started) / 1000).toFixed(1)} s (${fmt(Math.round(MUTATIONS / ((lastMutation - started) / 1000)))}/s); ${fmt(count - before)} of ${fmt(expected - before)} webhooks`],
    };
  } finally {
    await on.close();
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

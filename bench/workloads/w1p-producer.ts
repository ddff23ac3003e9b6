/**
 * W1p and W2p (issue 20): W1's and W2's sends with a category a quarter of the recipients disabled, and
 * with a group key (every send supersedes the recipient's previous one), each against the plain send
 * measured in the same run, interleaved round by round and each first in turn, so drift and the inbox's
 * growth hit all three alike. Target: within 10 %.
 */
import type { BenchTarget } from '../lib/backends.js';
import type { BenchContext } from '../lib/context.js';
import { bearer, body, gql, Q } from '../lib/gql.js';
import { measureHttp, timeCalls } from '../lib/measure.js';
import type { Row } from '../lib/report.js';
import { fmt, summarize, type Summary } from '../lib/stats.js';

const RECIPIENTS = 1_000;
const CATEGORY = 'comments';
const SHARE = 0.9;
const VARIANTS = ['plain', 'category', 'group'] as const;
type Variant = (typeof VARIANTS)[number];

/** The variants in round r's order: each goes first in turn, so the inbox's growth over a run favours none. */
const inTurn = (r: number): Variant[] => VARIANTS.map((_, k) => VARIANTS[(k + r) % VARIANTS.length]);

/** The extra input of each variant (a group per recipient's thread, so repeats supersede). */
const extra = (v: Variant, i: number): Record<string, unknown> => (v === 'category' ? { category: CATEGORY } : v === 'group' ? { groupKey: `thread-${i % 50}` } : {});

/** Every fourth user turns the category off, as the benchmark's producers would find in production. */
async function disableForAQuarter(t: BenchTarget, users: readonly string[]): Promise<void> {
  for (let i = 0; i < users.length; i += 4) await t.app.messages.setPreference({ id: users[i], producer: false }, { category: CATEGORY, enabled: false });
}

export async function w1p(ctx: BenchContext, t: BenchTarget): Promise<Row[]> {
  const producer = await bearer('bench-w1p-producer', { producer: true });
  const users = Array.from({ length: RECIPIENTS }, (_, i) => `w1p-user-${i}`);
  await disableForAQuarter(t, users);
  const bodies = (v: Variant) =>
    users.map((u, i) => body(Q.addMessageFor, { input: { userIds: [u], level: 'STORED_INFO', text: `New comment #${i} on your post.`, ...extra(v, i) } }));
  const rates = new Map<Variant, number[]>(VARIANTS.map((v) => [v, []]));
  const problems: string[] = [];
  for (let r = 0; r < ctx.opts.repeats; r++) {
    for (const v of inTurn(r)) {
      const f = await measureHttp({ ...ctx.opts, repeats: 1 }, { url: t.url, bodies: bodies(v), auths: [producer] });
      rates.get(v)!.push(f.rps.median);
      problems.push(...f.problems.map((p) => `${v}: ${p}`));
    }
  }
  const plain = summarize(rates.get('plain')!);
  return VARIANTS.filter((v) => v !== 'plain').map((v) => {
    const measured = summarize(rates.get(v)!);
    return {
      workload: 'W1p',
      title: `addMessageFor one user (HTTP, 16 connections) with ${v === 'category' ? 'a category ¼ of users disabled' : 'a group key'}`,
      backend: t.name,
      measured,
      unit: 'msg/s',
      target: { text: `≥ 90 % of the plain send (= ${fmt(plain.median * SHARE)})`, met: problems.length ? false : measured.median >= plain.median * SHARE },
      baseline: `plain send ${fmt(plain.median)} msg/s`,
      notes: problems,
    };
  });
}

export async function w2p(ctx: BenchContext, t: BenchTarget): Promise<Row[]> {
  const n = ctx.opts.sizes.w2Recipients;
  const producer = await bearer('bench-w2p-producer', { producer: true });
  const userIds = Array.from({ length: n }, (_, i) => `w2p-user-${i}`);
  const send = (v: Variant) => async (i: number) => {
    const input = { userIds, level: 'STORED_WARNING', text: `Maintenance window #${i} tonight.`, ...(v === 'category' ? { category: CATEGORY } : v === 'group' ? { groupKey: 'maintenance' } : {}) };
    await gql(t.url, producer, Q.addMessageFor, { input });
  };
  await send('plain')(0); // registers the users
  await disableForAQuarter(t, userIds);
  const ms = new Map<Variant, number[]>(VARIANTS.map((v) => [v, []]));
  for (let r = 0; r < ctx.opts.repeats * ctx.opts.callsPerRepeat; r++) {
    for (const v of inTurn(r)) ms.get(v)!.push(...(await timeCalls(1, (i) => send(v)(r + i + 1))));
  }
  const seconds = (v: Variant): Summary => summarize(ms.get(v)!.map((x) => x / 1000));
  const plain = seconds('plain');
  return (['category', 'group'] as const).map((v) => ({
    workload: 'W2p',
    title: `addMessageFor to ${n.toLocaleString('en-US')} known users with ${v === 'category' ? 'a category ¼ of them disabled' : 'a group key (each send supersedes the last)'}`,
    backend: t.name,
    measured: seconds(v),
    unit: 's',
    target: { text: `≤ 110 % of the plain send (= ${(plain.median * 1.1).toFixed(3)} s)`, met: seconds(v).median <= plain.median * 1.1 },
    baseline: `plain send ${plain.median.toFixed(3)} s`,
  }));
}

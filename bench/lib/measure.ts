import { httpLoad, loadProblems, type LoadPlan } from './load.js';
import type { BenchOptions } from './options.js';
import { summarize, type Summary } from './stats.js';

export interface HttpFigures {
  rps: Summary;
  p50: Summary;
  p99: Summary;
  /** Problems seen in any run (bad responses); empty when every response was good. */
  problems: string[];
  requests: number;
  /** Requests sent in all, warm-up included. */
  sent: number;
}

/**
 * One unmeasured warm-up run, then `repeats` measured runs of the same plan; each run goes on where
 * the last stopped in the plan's bodies, so a plan of distinct requests (markRead of the next unread)
 * does not repeat the warm-up's.
 */
export async function measureHttp(o: BenchOptions, plan: Omit<LoadPlan, 'durationSeconds' | 'connections'> & { connections?: number }): Promise<HttpFigures> {
  const full = { connections: o.connections, ...plan };
  const problems: string[] = [];
  const warm = await httpLoad({ ...full, durationSeconds: o.warmupSeconds });
  const wp = loadProblems(warm);
  if (wp) problems.push(`warm-up: ${wp}`);
  const runs = [];
  let first = warm.next;
  for (let i = 0; i < o.repeats; i++) {
    const r = await httpLoad({ ...full, first, durationSeconds: o.durationSeconds });
    first = r.next;
    const p = loadProblems(r);
    if (p) problems.push(`run ${i + 1}: ${p}`);
    runs.push(r);
  }
  return {
    rps: summarize(runs.map((r) => r.rps)),
    p50: summarize(runs.map((r) => r.latency.p50)),
    p99: summarize(runs.map((r) => r.latency.p99)),
    problems,
    requests: runs.reduce((n, r) => n + r.ok, 0),
    sent: first,
  };
}

/** Times `count` sequential calls of `fn(i)` (ms each); stops early past `maxSeconds`. */
export async function timeCalls(count: number, fn: (i: number) => Promise<unknown>, maxSeconds = 300): Promise<number[]> {
  const deadline = Date.now() + maxSeconds * 1000;
  const out: number[] = [];
  for (let i = 0; i < count && Date.now() < deadline; i++) {
    const t0 = performance.now();
    await fn(i);
    out.push(performance.now() - t0);
  }
  return out;
}

/** Operations per second of `fn` run by `concurrency` in-process workers for `seconds` (at most `maxOps` calls). */
export async function inProcessRate(fn: (i: number) => Promise<unknown>, o: { concurrency: number; seconds: number; maxOps?: number }): Promise<number> {
  const maxOps = o.maxOps ?? 10_000_000;
  const t0 = performance.now();
  const stopAt = t0 + o.seconds * 1000;
  let started = 0;
  let done = 0;
  const worker = async () => {
    while (performance.now() < stopAt && started < maxOps) {
      await fn(started++);
      done++;
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  return done / ((performance.now() - t0) / 1000);
}

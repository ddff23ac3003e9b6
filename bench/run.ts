/**
 * `npm run bench` (-- --quick for a smoke run): issue 5's workloads W1-W7 and issue 19's W9-W11 on every storage
 * backend (each backend in a child process of its own, with its raw storage floor), the baselines
 * measured in the same run, W8 from bench/live.ts. Writes
 * bench/results/latest.json and latest.md and prints the table. Benchmarks, not tests: nothing here
 * asserts a time; a missed target is reported as missed.
 */
import './lib/production-env.js'; // first: before graphql-js loads (see the file)
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { startBackend, type BenchTarget } from './lib/backends.js';
import { cleanupOnSignals, onCleanup, runCleanups } from './lib/cleanup.js';
import type { BenchContext } from './lib/context.js';
import { parseOptions, type BackendName, type WorkloadName } from './lib/options.js';
import { markdownTable, runInfo, writeResults, type Row } from './lib/report.js';
import { redisReachable } from './lib/services.js';
import type { Summary } from './lib/stats.js';
import { appTypename, bareYoga, bareYogaPage, pgInsertFloor, pgliteInsertFloor, redisFloor } from './workloads/baselines.js';
import { w1 } from './workloads/w1-send.js';
import { w1g } from './workloads/w1g-growth.js';
import { w2 } from './workloads/w2-fanout.js';
import { w1p, w2p } from './workloads/w1p-producer.js';
import { w12 } from './workloads/w12-scheduled.js';
import { w3 } from './workloads/w3-broadcast.js';
import { w4 } from './workloads/w4-inbox.js';
import { w5 } from './workloads/w5-mark-all.js';
import { w6, w6b } from './workloads/w6-mark-read.js';
import { w7 } from './workloads/w7-unread-count.js';
import { w8 } from './workloads/w8-live.js';
import { w9 } from './workloads/w9-all-states.js';
import { w10 } from './workloads/w10-counts.js';
import { w11 } from './workloads/w11-wake.js';
import { w13 } from './workloads/w13-retract.js';
import { w14 } from './workloads/w14-webhooks.js';

const RESULTS = fileURLToPath(new URL('./results', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Per backend, in this order: W3 first, while the known users are exactly the seeded ones. */
const PER_BACKEND: [WorkloadName, (ctx: BenchContext, t: BenchTarget) => Promise<Row[]>][] = [
  ['W3', w3],
  ['W1', w1],
  ['W1g', w1g],
  ['W2', w2],
  ['W1p', w1p],
  ['W2p', w2p],
  ['W12', w12],
  ['W4', w4],
  ['W5', w5],
  ['W6', w6],
  ['W6b', w6b],
  ['W7', w7],
  ['W9', w9],
  ['W10', w10],
  ['W11', w11],
  ['W13', w13],
  ['W14', w14],
];

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  cleanupOnSignals();
  const started = performance.now();
  const ctx: BenchContext = {
    opts,
    floors: new Map(),
    log: (m) => console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${m}`),
  };
  const info = runInfo(opts);
  const rows: Row[] = [];
  const extras: { title: string; text: string }[] = [];
  const wants = (w: WorkloadName) => opts.only.has(w);

  /** Runs one step; a failure becomes an error row, and the run goes on. */
  const step = async (workload: string, backend: string, title: string, fn: () => Promise<Row | Row[]>) => {
    ctx.log(`${workload} ${backend}: ${title}`);
    try {
      const out = await fn();
      const load = Math.round(os.loadavg()[0] * 100) / 100;
      rows.push(...(Array.isArray(out) ? out : [out]).map((r) => ({ ...r, loadAverage: load })));
    } catch (err) {
      const message = (err as Error).message.split('\n')[0].slice(0, 300);
      ctx.log(`  failed: ${message}`);
      rows.push({ workload, title, backend, error: message });
    }
  };

  ctx.log(`mode ${info.mode}: ${opts.repeats} run(s) per figure, ${opts.durationSeconds} s per load run; load average ${info.loadAverageStart.join(' ')} on ${info.cpus} cores`);
  const redisDown = opts.backends.includes('redis') ? await redisReachable() : null;

  try {
    if (opts.child) {
      // A child: one backend, with its storage floor; the parent measured the HTTP floors.
      for (const [k, v] of Object.entries(JSON.parse(process.env.BENCH_FLOORS ?? '{}') as Record<string, Summary>)) ctx.floors.set(k, v);
      const backend = opts.backends[0];
      if (wants('floor')) await storageFloor(backend);
      await runBackend(backend);
      await writeFile(opts.child, JSON.stringify(rows));
      return;
    }

    if (wants('floor')) await step('floor', '-', 'bare Yoga', () => bareYoga(ctx));
    // W4's paging reads against what bare Yoga needs to send the same page.
    if (wants('floor') || wants('W4')) await step('floor', '-', 'bare Yoga page', () => bareYogaPage(ctx));

    // Each backend in a process of its own, so what one leaves behind (heap, caches) cannot slow the next.
    for (const backend of opts.backends) {
      if (backend === 'redis' && redisDown) {
        rows.push({ workload: 'W1-W11', title: 'Redis backend', backend, error: `Redis unreachable: ${redisDown}` });
        continue;
      }
      await inChild(backend);
    }

    if (wants('W8')) {
      ctx.log('W8: bench/live.ts');
      try {
        const live = await w8(ctx);
        extras.push({
          title: `W8 live subscriptions (bench/live.ts, exit code ${live.exitCode})`,
          text: live.table || '```\n' + live.output.slice(-4000) + '\n```',
        });
        if (live.status === 'failed') rows.push({ workload: 'W8', title: 'live subscriptions', backend: '-', error: `bench/live.ts exited with code ${live.exitCode}` });
      } catch (err) {
        rows.push({ workload: 'W8', title: 'live subscriptions', backend: '-', error: (err as Error).message });
      }
    }
  } finally {
    await runCleanups();
  }

  if (opts.child) return;
  info.finishedAt = new Date().toISOString();
  info.loadAverageEnd = os.loadavg().map((n) => Math.round(n * 100) / 100);
  await writeResults(RESULTS, info, rows, extras);
  console.log(`\n${markdownTable(rows)}\n`);
  for (const e of extras) console.log(`${e.title}\n${e.text}\n`);
  console.log(`load average at end ${info.loadAverageEnd.join(' ')} (noisy when other work shares the machine)`);
  console.log(`wrote bench/results/latest.json and bench/results/latest.md in ${((performance.now() - started) / 1000).toFixed(0)} s`);

  async function storageFloor(backend: BackendName) {
    if (backend === 'postgres') await step('floor', 'postgres', 'raw pg inserts', () => pgInsertFloor(ctx));
    if (backend === 'embedded') await step('floor', 'embedded', 'raw PGlite inserts', () => pgliteInsertFloor(ctx));
    if (backend === 'redis') await step('floor', 'redis', 'raw Redis SET+INCR', () => redisFloor(ctx));
  }

  /** Runs `backend`'s rows in a child process (`tsx bench/run.ts --child=FILE --backends=X`, the same options) and adds them. */
  async function inChild(backend: BackendName) {
    const dir = await mkdtemp(join(os.tmpdir(), 'sm-bench-'));
    const file = join(dir, 'rows.json');
    const args = process.argv.slice(2).filter((a) => !a.startsWith('--backends') && !a.startsWith('--child'));
    const child = spawn('npx', ['tsx', SELF, ...args, `--backends=${backend}`, `--child=${file}`], {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, BENCH_FLOORS: JSON.stringify(Object.fromEntries(ctx.floors)) },
    });
    const stop = onCleanup(`bench ${backend}`, async () => {
      if (child.exitCode === null && child.pid) child.kill('SIGTERM');
    });
    try {
      const code = await new Promise<number | null>((resolve) => {
        child.once('exit', (c) => resolve(c));
        child.once('error', () => resolve(null));
      });
      const out = await readFile(file, 'utf8').catch(() => null);
      if (out) rows.push(...(JSON.parse(out) as Row[]));
      if (code !== 0 || !out) rows.push({ workload: 'W1-W11', title: `${backend} backend`, backend, error: `its bench process exited with code ${code}` });
    } finally {
      await stop();
      await rm(dir, { recursive: true, force: true });
    }
  }

  async function runBackend(backend: BackendName) {
    const per = PER_BACKEND.filter(([w]) => wants(w));
    if (!per.length && !wants('floor')) return;
    if (backend === 'redis' && redisDown) {
      rows.push({ workload: 'W1-W11', title: 'Redis backend', backend, error: `Redis unreachable: ${redisDown}` });
      return;
    }
    ctx.log(`starting the app on ${backend}`);
    let target: BenchTarget;
    try {
      target = await startBackend(backend, opts);
    } catch (err) {
      rows.push({ workload: 'W1-W11', title: `${backend} backend`, backend, error: `could not start: ${(err as Error).message}` });
      return;
    }
    try {
      if (wants('floor') || per.length) await step('floor', backend, '{ __typename } on the app', () => appTypename(ctx, target));
      for (const [name, fn] of per) await step(name, backend, `${name}`, () => fn(ctx, target));
    } finally {
      await target.close();
    }
  }
}

main().catch(async (err) => {
  console.error(err);
  await runCleanups();
  process.exitCode = 1;
});

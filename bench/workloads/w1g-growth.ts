/**
 * W1g: addMessageFor ONE user over GraphQL HTTP, 16 connections, for `--growth-duration` seconds on a
 * fresh database that the bench never analyses. Sends must not slow down as that user's inbox grows,
 * even without fresh planner statistics (a young table that autovacuum has not analysed yet): the last window's rate is compared with the
 * first's.
 */
import type { BenchTarget } from '../lib/backends.js';
import { startBackend } from '../lib/backends.js';
import type { BenchContext } from '../lib/context.js';
import { storageCpu, threadCpu } from '../lib/cpu.js';
import { bearer, body, Q } from '../lib/gql.js';
import { httpLoad, loadProblems } from '../lib/load.js';
import type { Row } from '../lib/report.js';
import { fmt, summarize } from '../lib/stats.js';

/** The last window may be this much slower than the first at most. */
const MAX_SLOWDOWN = 1.2;
const WINDOW_SECONDS = 10;

export async function w1g(ctx: BenchContext, t: BenchTarget): Promise<Row[]> {
  const total = ctx.opts.growthSeconds;
  const window = Math.min(WINDOW_SECONDS, Math.max(1, Math.floor(total / 2)));
  const count = Math.max(2, Math.floor(total / window));
  // A database of its own: the shared target has been seeded (and may have been analysed) by other workloads.
  const fresh = await startBackend(t.name, ctx.opts);
  try {
    const producer = await bearer('bench-w1g-producer', { producer: true });
    const bodies = Array.from({ length: 100 }, (_, i) =>
      body(Q.addMessageFor, { input: { userIds: ['w1g-user'], level: 'STORED_INFO', text: `Build #${i} finished: see the report.` } }),
    );
    const windows: { rps: number; cpuMicros: number; problem: string | null }[] = [];
    for (let w = 0; w < count; w++) {
      // The server's thread (with PGlite in it, on the embedded backend) and the storage processes (every
      // postgres and redis-server process of the machine: noisy when it is shared); not the load generator.
      const [u0, s0, st0] = [...threadCpu(), storageCpu()];
      const r = await httpLoad({ url: fresh.url, connections: ctx.opts.connections, durationSeconds: window, bodies, auths: [producer] });
      const [u1, s1, st1] = [...threadCpu(), storageCpu()];
      windows.push({ rps: r.rps, cpuMicros: r.ok ? ((u1 - u0 + s1 - s0 + st1 - st0) * 1000) / r.ok : 0, problem: loadProblems(r) });
      ctx.log(`  W1g ${t.name} window ${w + 1}/${count}: ${fmt(r.rps)} msg/s, server + storage CPU ${fmt(windows[w].cpuMicros)} µs per send`);
    }
    const [first, last] = [windows[0], windows[windows.length - 1]];
    const ratio = first.rps / Math.max(last.rps, 1e-9);
    return [
      {
        workload: 'W1g',
        title: `addMessageFor ONE user on a fresh database, ${count} × ${window} s, no ANALYZE: first → last window`,
        backend: t.name,
        measured: summarize([last.rps]),
        unit: 'msg/s (last window)',
        extra: [
          { label: 'first window', summary: summarize([first.rps]), unit: 'msg/s' },
          { label: 'first/last', summary: summarize([ratio]), unit: '×' },
          { label: 'server + storage CPU per send, first', summary: summarize([first.cpuMicros]), unit: 'µs' },
          { label: 'last', summary: summarize([last.cpuMicros]), unit: 'µs' },
        ],
        target: { text: `last window ≥ first / ${MAX_SLOWDOWN}`, met: windows.every((w) => !w.problem) && ratio <= MAX_SLOWDOWN },
        notes: [`windows (msg/s): ${windows.map((w) => fmt(w.rps)).join(', ')}`, ...windows.flatMap((w, i) => (w.problem ? [`window ${i + 1}: ${w.problem}`] : []))],
      },
    ];
  } finally {
    await fresh.close();
  }
}

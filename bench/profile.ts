/**
 * `npx tsx bench/profile.ts W7 [--backend=redis] [--seconds=8] [--out=FILE] [--no-profile] [--waits] [--tables] [--statements] [--plans] [--heap] [--connections=16] [--webhooks=on|paused] [--grow=PLAN:SECONDS]`: one workload's
 * HTTP load against the app on PostgreSQL (or the --backend given) (typename, W1, W1pplain and W1pgroup (W1p's sends), W4 (the first page of 100), W4after (a page of 100 past a cursor), W6, W6b (16 users with 10,000 unread each), W7 with 10 unread or W7_UNREAD),
 * a warm-up, then one measured run during which it records a V8 CPU profile of the SERVER's thread
 * only (not the seeding, not the load generator's thread) and reads that thread's CPU time from /proc:
 *
 *   W7: <req/s>, p50, p99, server thread CPU <µs>/request (user, system), storage processes <µs>/request
 *   wrote /tmp/W7.cpuprofile: npx tsx bench/cpuprofile-top.ts /tmp/W7.cpuprofile 30
 *
 * The CPU per request is the figure to compare A/B on a shared machine (req/s moves with whatever
 * else runs). Read the profile's proportions, not its milliseconds: the sampler counts a thread that
 * waits for a core as still in its last native call, so `writev` (a socket write that wakes
 * PostgreSQL or the load generator, which then take the core) looks far bigger than the system time
 * /proc reports. --waits samples PostgreSQL's wait events of the app's connections during the run;
 * --tables prints the rows each table gained, changed (HOT of them) and lost, the index entries each index
 * read, and the commits, per request; --statements counts the statements the store sent, per request;
 * --plans how often one pooled connection planned each prepared statement anew (custom) or ran its generic plan.
 * --webhooks turns webhooks on, delivered to a local endpoint (its process's CPU is printed per request) or
 * with the dispatcher paused (W14's rows). --grow runs another plan's load first (W1pplain:20, say), so the
 * workload is measured on the database that load grew.
 * --heap prints the bytes per request that survived scavenges into V8's old generation, by allocation site
 * (the garbage that costs mark-compacts and the GC helper threads' CPU).
 */
import './lib/production-env.js';
import { readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { Redis } from 'ioredis';
import { startBackend } from './lib/backends.js';
import { startBenchReceiver, type BenchReceiver } from './lib/webhook-receiver.js';
import { cleanupOnSignals, runCleanups } from './lib/cleanup.js';
import { bearer, body, globalId, gql, Q } from './lib/gql.js';
import { httpLoad, stopLoadGenerator } from './lib/load.js';
import { storageCpu, threadCpu } from './lib/cpu.js';
import { ALL_BACKENDS, parseOptions, type BackendName } from './lib/options.js';
import { sampleWaits, tableWrites } from './lib/pg-diagnostics.js';
import { REDIS_URL } from './lib/services.js';
import type { BenchTarget } from './lib/backends.js';
import type { Db } from '../src/storage/orm/db.js';
import { statement } from '../src/storage/orm/statement.js';

type Plan = { bodies: string[]; auths: string[] };

const PLANS: Record<string, (t: BenchTarget) => Promise<Plan>> = {
  typename: async () => ({ bodies: [body(Q.typename)], auths: [await bearer('profile-user')] }),
  W1: async () => ({
    bodies: Array.from({ length: 1000 }, (_, i) => body(Q.addMessageFor, { input: { userIds: [`w1-user-${i}`], level: 'STORED_INFO', text: `Your export #${i} is ready.` } })),
    auths: [await bearer('profile-producer', { producer: true })],
  }),
  // W1p's sends (1,000 users), plain or with a group key per recipient's thread: every send supersedes.
  W1pplain: async () => ({ bodies: w1pBodies(() => ({})), auths: [await bearer('profile-producer', { producer: true })] }),
  W1pgroup: async () => ({ bodies: w1pBodies((i) => ({ groupKey: `thread-${i % 50}` })), auths: [await bearer('profile-producer', { producer: true })] }),
  W4: async (t) => {
    await t.seeder.crowd({ target: 'w4-reader', targetUnread: 1000, others: 100_000, otherUsers: 1000, othersPrefix: 'w4-other-' });
    return { bodies: [body(Q.page, { after: null })], auths: [await bearer('w4-reader')] };
  },
  // A page of 100 past a cursor (the 5th of the reader's 10), as W4's cursor-chained paging asks.
  W4after: async (t) => {
    await t.seeder.crowd({ target: 'w4-reader', targetUnread: 1000, others: 100_000, otherUsers: 1000, othersPrefix: 'w4-other-' });
    const auth = await bearer('w4-reader');
    let after: string | null = null;
    for (let p = 0; p < 4; p++) after = (await gql<{ unreadMessages: { pageInfo: { endCursor: string } } }>(t.url, auth, Q.page, { after })).unreadMessages.pageInfo.endCursor;
    return { bodies: [body(Q.page, { after })], auths: [auth] };
  },
  W6: (t) => markReadPlan(t, 'w6', 1000, 100),
  // W6b: 16 users with 10,000 unread each, a different id per request.
  W6b: (t) => markReadPlan(t, 'w6b', 16, 10_000),
  W7: async (t) => {
    await t.seeder.inboxes(['w7-user-10'], Number(process.env.W7_UNREAD ?? 10));
    return { bodies: [body(Q.unreadCount)], auths: [await bearer('w7-user-10')] };
  },
};

const w1pBodies = (extra: (i: number) => Record<string, unknown>) =>
  Array.from({ length: 1000 }, (_, i) => body(Q.addMessageFor, { input: { userIds: [`w1p-user-${i}`], level: 'STORED_INFO', text: `New comment #${i} on your post.`, ...extra(i) } }));

/** markRead of one message per request, going round the users, each marking its next unread. */
async function markReadPlan(t: BenchTarget, prefix: string, nUsers: number, perUser: number): Promise<Plan> {
  const users = Array.from({ length: nUsers }, (_, i) => `${prefix}-user-${i}`);
  const ids = await t.seeder.inboxes(users, perUser);
  const bodies: string[] = [];
  for (let j = 0; j < perUser; j++) for (let u = 0; u < users.length; u++) bodies.push(body(Q.markRead, { input: { ids: [globalId(ids[u][j])] } }));
  return { bodies, auths: await Promise.all(users.map((u) => bearer(u))) };
}

/** CPU time in ms of each of this process's threads (the server's, the load generator's, V8's and libuv's helpers), by "tid name". */
function threadsCpu(): Map<string, number> {
  const cpu = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
      cpu.set(`${tid} ${stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))}`, (Number(f[11]) + Number(f[12])) * 10);
    } catch {
      // the thread ended meanwhile
    }
  }
  return cpu;
}

async function main() {
  const [name, ...flags] = process.argv.slice(2);
  const make = PLANS[name];
  if (!make) throw new Error(`usage: tsx bench/profile.ts ${Object.keys(PLANS).join('|')} [--backend=postgres|embedded|redis] [--seconds=N] [--out=FILE] [--no-profile] [--waits] [--heap] [--connections=N]`);
  const flag = (f: string) => flags.find((a) => a.startsWith(`--${f}`))?.split('=')[1];
  const seconds = Number(flag('seconds') ?? 8);
  const out = flag('out') ?? `/tmp/${name}.cpuprofile`;
  const profile = !flags.includes('--no-profile');
  const heap = flags.includes('--heap');
  cleanupOnSignals();
  const backend = (flag('backend') ?? 'postgres') as BackendName;
  if (!ALL_BACKENDS.includes(backend)) throw new Error(`--backend must be one of ${ALL_BACKENDS.join(', ')}`);
  const webhooks = flag('webhooks');
  const receiver: BenchReceiver | null = webhooks ? await startBenchReceiver() : null;
  const DAY = 86_400_000;
  const t = await startBackend(backend, parseOptions([`--backends=${backend}`]), {
    env: receiver ? { WEBHOOK_URLS: receiver.url, WEBHOOK_SECRET: 'whsec_' + Buffer.alloc(32, 7).toString('base64') } : {},
    app: webhooks === 'paused' ? { webhookTimings: { pollMs: DAY, wakeDelayMs: DAY } } : {},
  });
  try {
    const connections = Number(flag('connections') ?? 16);
    const grow = flag('grow');
    if (grow) {
      // Another plan's load first, so the measured one runs on the state it leaves (a grown database).
      const [other, s] = grow.split(':');
      if (!PLANS[other]) throw new Error(`--grow=PLAN:SECONDS: no plan ${other}`);
      await httpLoad({ url: t.url, connections, durationSeconds: Number(s ?? 10), first: 0, ...(await PLANS[other](t)) });
    }
    const plan = await make(t);
    const load = (s: number, first = 0) => httpLoad({ url: t.url, connections, durationSeconds: s, first, ...plan });
    const warm = await load(3);

    const session = new Session();
    if (profile) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 200 });
      await session.post('Profiler.start');
    }
    if (heap) {
      // Objects that lived long enough to reach the old generation (and those still alive), not the ones scavenges free.
      if (!profile) session.connect();
      await session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: false });
    }
    const dbUrl = backend === 'postgres' ? (t.app.store as unknown as { orm: { config: { get(k: string): string } } }).orm.config.get('clientUrl') : null;
    const waits = flags.includes('--waits') && dbUrl ? sampleWaits(dbUrl) : null;
    const tables = flags.includes('--tables') && dbUrl ? await tableWrites(dbUrl) : null;
    const statements = new Map<string, number>();
    if (flags.includes('--statements') && backend !== 'redis') {
      // Each statement the store sends, by its first words (the statement's own name, as sql/*.ts writes it).
      (t.app.store as unknown as { db: Db }).db.onStatement = (text) => {
        const k = text.trim().replace(/\s+/g, ' ').slice(0, 60);
        statements.set(k, (statements.get(k) ?? 0) + 1);
      };
    }
    const redisStats = backend === 'redis' ? new Redis(REDIS_URL) : null;
    await redisStats?.config('RESETSTAT');
    const [u0, s0] = threadCpu();
    const st0 = storageCpu();
    const p0 = threadsCpu();
    const r0 = receiver?.cpuMs();
    // Where the warm-up stopped, so W6's markReads change unread messages rather than repeat the warm-up's.
    const r = await load(seconds, warm.next);
    const p1 = threadsCpu();
    const st1 = storageCpu();
    const r1 = receiver?.cpuMs();
    const [u1, s1] = threadCpu();
    const perRequest = (ms: number) => ((ms * 1000) / Math.max(1, r.ok)).toFixed(0);
    const bad = r.errors + r.non2xx + r.mismatches;
    console.log(
      `${name}: ${Math.round(r.rps)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, server thread CPU ${perRequest(u1 - u0 + s1 - s0)} µs/request (user ${perRequest(u1 - u0)}, system ${perRequest(s1 - s0)}), storage processes ${perRequest(st1 - st0)} µs/request` +
        (receiver ? `, webhook endpoint ${perRequest(r1! - r0!)} µs/request (${(await receiver.count()).count} received)` : '') +
        (bad ? `; ${bad} bad responses: ${r.sampleMismatch ?? ''}` : ''),
    );
    const others = [...p1]
      .filter(([k]) => k.split(' ')[0] !== String(process.pid))
      .map(([k, ms]) => [k, ms - (p0.get(k) ?? 0)] as const)
      .filter(([, ms]) => ms > 0)
      .sort((a, b) => b[1] - a[1]);
    console.log(`other threads of this process, µs/request: ${others.map(([k, ms]) => `${k.split(' ').slice(1).join(' ')} ${perRequest(ms)}`).join(', ')}`);
    if (redisStats) {
      // Redis's own time per command (commandstats), per request of the run: what the server spends inside Redis.
      const lines = (await redisStats.info('commandstats')).split('\n').flatMap((l) => {
        const m = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(l);
        return m ? [{ cmd: m[1], calls: Number(m[2]), usec: Number(m[3]) }] : [];
      });
      redisStats.disconnect();
      const per = (n: number) => (n / Math.max(1, r.ok)).toFixed(2);
      console.log(`Redis commandstats per request: ${lines.filter((c) => c.calls >= r.ok / 100).sort((a, b) => b.usec - a.usec).map((c) => `${c.cmd} ${per(c.calls)} calls ${per(c.usec)} µs`).join(', ')}`);
    }
    if (heap) {
      const { profile: hp } = await session.post('HeapProfiler.stopSampling');
      printHeapSites(hp.head as HeapNode, r.ok);
    }
    if (flags.includes('--plans') && backend !== 'redis') {
      // One pooled connection's prepared statements: how often each was planned anew (custom) or ran its generic plan.
      const PLANS_OF = statement<Record<never, never>, { name: string; generic: number; custom: number; text: string }>(
        `select name, generic_plans::int as generic, custom_plans::int as custom, left(regexp_replace(statement, '\\s+', ' ', 'g'), 70) as text from pg_prepared_statements order by custom_plans desc`,
      );
      const rows = await (t.app.store as unknown as { db: Db }).db.unprepared(PLANS_OF);
      console.log(`prepared statements of one connection (generic / custom plans):\n${rows.map((r) => `  ${r.generic} / ${r.custom}  ${r.text}`).join('\n')}`);
    }
    if (statements.size) {
      const per = (n: number) => (n / Math.max(1, r.ok)).toFixed(3);
      console.log(`statements per request:\n${[...statements].sort((a, b) => b[1] - a[1]).map(([k, n]) => `  ${per(n)}  ${k}`).join('\n')}`);
    }
    if (tables) console.log(`PostgreSQL rows written, index entries read and transactions, per request:\n  ${await tables.since(r.ok)}`);
    if (waits) console.log(`PostgreSQL wait events of the app's connections (samples): ${JSON.stringify(await waits.stop())}`);
    if (profile) {
      const { profile: p } = await session.post('Profiler.stop');
      await writeFile(out, JSON.stringify(p));
      console.log(`wrote ${out}: npx tsx bench/cpuprofile-top.ts ${out} 30`);
    }
  } finally {
    await stopLoadGenerator();
    await runCleanups();
  }
}

type HeapNode = { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: HeapNode[] };

/** The allocation sites of the sampled heap profile by bytes per request, with their two nearest callers. */
function printHeapSites(head: HeapNode, requests: number) {
  const sites = new Map<string, number>();
  const frame = (n: HeapNode) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(src|bench)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
  const walk = (n: HeapNode, path: HeapNode[]) => {
    if (n.selfSize) {
      const key = [n, ...path.slice(-2).reverse()].map(frame).join(' < ');
      sites.set(key, (sites.get(key) ?? 0) + n.selfSize);
    }
    for (const c of n.children) walk(c, [...path, n]);
  };
  walk(head, []);
  const perRequest = (bytes: number) => (bytes / Math.max(1, requests)).toFixed(0);
  const total = [...sites.values()].reduce((a, b) => a + b, 0);
  console.log(`heap that reached the old generation: ${perRequest(total)} bytes/request; top sites:`);
  for (const [k, b] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`  ${perRequest(b).padStart(6)} B  ${k}`);
}

main().catch(async (err) => {
  console.error(err);
  await runCleanups();
  process.exitCode = 1;
});

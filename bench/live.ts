/**
 * W8 of issue 5 (live delivery): `npx tsx bench/live.ts [--quick] [--in-process] [--cpu-prof]`
 * (--in-process: skip the Redis pub/sub runs; --cpu-prof: V8 profiles of the server processes).
 *
 * For each pub/sub mode (in-process, Redis) and each size (1,000 and 10,000; --quick: 1,000), starts a
 * server process on its own PostgreSQL database (bench/live-server.ts), opens that many WebSocket
 * connections with real graphql-ws clients, one `inboxEvents` subscription each for a distinct user
 * (and, at the largest size, once more with `messageAdded`, whose broadcasts need no storage look-up
 * per subscriber after the first), and measures:
 * - memory per subscription: the server's heap and RSS after a full GC, minus the same before connecting;
 * - a message to one user: from sending `addMessageFor` over HTTP until that user's subscriber has the
 *   event, while all subscriptions are open (p50/p99 of sequential samples; the mutation's own round
 *   trip is shown beside it);
 * - a broadcast: from sending `broadcastMessage` until every subscriber has its ARCHIVE_STORED event
 *   (the first broadcast also checks, per subscriber, that the broadcast is theirs; later ones do not).
 * Prints a markdown table. A benchmark, not a test: nothing is asserted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { signToken, SEND_SCOPE } from '../src/auth.js';
import { cleanupOnSignals, onCleanup, runCleanups } from './lib/cleanup.js';
import { BENCH_SECRET, benchRedisPrefix, createBenchDatabase, deleteRedisPrefix, REDIS_URL } from './lib/services.js';
import { fmt, sleep } from './lib/stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const quick = process.argv.includes('--quick');
// --cpu-prof: the server processes write V8 CPU profiles (open them in Chrome DevTools) to this directory.
const PROFILE_DIR = process.argv.includes('--cpu-prof') ? path.join(os.tmpdir(), 'stored-messages-live-prof') : null;
const SIZES = quick ? [1000] : [1000, 10_000];
const MODES = (process.argv.includes('--in-process') ? ['in-process'] : ['in-process', 'redis']) as readonly ('in-process' | 'redis')[];
const SAMPLES = quick ? 50 : 200;
const CONNECT_CONCURRENCY = 100;
const BROADCAST_LIMIT_MS = 300_000;

type Mode = (typeof MODES)[number];
type Kind = 'inboxEvents' | 'messageAdded';
const QUERIES: Record<Kind, string> = {
  inboxEvents: 'subscription { inboxEvents { signal message { id text } } }',
  messageAdded: 'subscription { messageAdded { id text } }',
};
type InboxEvent = { signal: string; message: { id: string; text: string } | null };
interface Measured {
  heapUsed: number;
  rss: number;
  stats: { feeds: number; live: number; users: number; queued: number };
}

const log = (m: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${m}`);
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

/** The server under test, in its own process, so its memory is its own. */
async function startServer(env: Record<string, string>) {
  const profile = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  const child: ChildProcess = spawn(process.execPath, ['--expose-gc', ...profile, '--import', 'tsx', 'bench/live-server.ts'], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'production', AUTH_JWT_SECRET: BENCH_SECRET, LOG_LEVEL: 'warn', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const stop = onCleanup('live bench server', async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(15_000)]);
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    child.on('message', (m: { type: string; port?: number }) => m.type === 'ready' && resolve(m.port!));
  });
  const ask = <T>(type: string, answer: string) =>
    new Promise<T>((resolve) => {
      const on = (m: T & { type: string }) => {
        if (m.type !== answer) return;
        child.off('message', on);
        resolve(m);
      };
      child.on('message', on);
      child.send({ type });
    });
  return {
    port,
    /** Memory after a full GC, and the counters. */
    measure: () => ask<Measured>('measure', 'measured'),
    /** The counters only (cheap). */
    stats: async () => (await ask<Pick<Measured, 'stats'>>('stats', 'stats')).stats,
    /** CPU time the server process has used so far (ms). */
    cpuMs: async () => (await ask<{ cpuMs: number }>('stats', 'stats')).cpuMs,
    stop,
  };
}

interface Subscriber {
  client: Client;
  /** Called with each event of this subscriber. */
  onEvent: ((e: InboxEvent) => void) | null;
}

async function connect(port: number, kind: Kind, userId: string, onAny: (e: InboxEvent) => void): Promise<Subscriber> {
  const token = await signToken(BENCH_SECRET, { sub: userId, expiresIn: '2h' });
  let connected!: () => void;
  let failed!: (e: unknown) => void;
  const ready = new Promise<void>((resolve, reject) => {
    connected = resolve;
    failed = reject;
  });
  const client = createClient({
    url: `ws://127.0.0.1:${port}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    lazy: true,
    retryAttempts: 0,
    on: { connected: () => connected(), closed: (e) => failed(e) },
  });
  const sub: Subscriber = { client, onEvent: null };
  client.subscribe<{ inboxEvents?: InboxEvent; messageAdded?: { id: string; text: string } }>(
    { query: QUERIES[kind] },
    {
      next: (r) => {
        // A new message is an ARCHIVE_STORED event for what the bench waits for.
        const m = r.data?.messageAdded;
        const e = r.data?.inboxEvents ?? (m ? { signal: 'ARCHIVE_STORED', message: m } : undefined);
        if (!e) return;
        sub.onEvent?.(e);
        onAny(e);
      },
      error: (e) => failed(e),
      complete: () => {},
    },
  );
  await ready;
  return sub;
}

async function gql(port: number, token: string, query: string, variables: Record<string, unknown>) {
  const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: any; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

interface Row {
  mode: Mode;
  kind: Kind;
  n: number;
  connectSeconds: number;
  heapPerSub: number;
  rssPerSub: number;
  p50: number;
  p99: number;
  mutationP50: number;
  broadcasts: { all: number; median: number; reached: number }[];
}

async function run(mode: Mode, kind: Kind, n: number): Promise<Row> {
  const db = await createBenchDatabase();
  const dropDb = onCleanup('live bench database', () => db.drop());
  const prefix = benchRedisPrefix();
  const dropKeys = onCleanup('live bench redis keys', () => deleteRedisPrefix(prefix));
  const server = await startServer({ DATABASE_URL: db.url, REDIS_PREFIX: prefix, ...(mode === 'redis' ? { REDIS_URL } : {}) });
  const subs: Subscriber[] = [];
  try {
    const producer = await signToken(BENCH_SECRET, { sub: 'bench-producer', scope: SEND_SCOPE, expiresIn: '2h' });
    const run = Math.random().toString(36).slice(2, 8);

    // Warm-up (code paths, pools), then the baseline.
    const warm = await Promise.all(Array.from({ length: 50 }, (_, i) => connect(server.port, kind, `warm-${run}-${i}`, () => {})));
    await gql(server.port, producer, 'mutation($u: [ID!]!) { addMessageFor(input: { userIds: $u, level: INFO, text: "warm" }) { recipientCount } }', { u: [`warm-${run}-0`] });
    await Promise.all(warm.map((s) => s.client.dispose()));
    for (let i = 0; (await server.measure()).stats.feeds > 0 && i < 500; i++) await sleep(20);
    const base = await server.measure();

    // Open n subscriptions.
    let broadcast: { text: string; signal: string; count: number; arrivals: number[]; t0: number; done: () => void } | null = null;
    const onAny = (e: InboxEvent) => {
      const b = broadcast;
      if (b && e.signal === b.signal && e.message?.text === b.text) {
        b.arrivals.push(performance.now() - b.t0);
        if (++b.count === n) b.done();
      }
    };
    // Batches of connections, each batch live on the server (its subscriptions started) before the next.
    const t0 = performance.now();
    for (let i = 0; i < n; i += CONNECT_CONCURRENCY) {
      const batch = await Promise.all(Array.from({ length: Math.min(CONNECT_CONCURRENCY, n - i) }, (_, j) => connect(server.port, kind, `u-${run}-${i + j}`, onAny)));
      subs.push(...batch);
      for (let k = 0; (await server.stats()).live < subs.length; k++) {
        if (k > 6000) throw new Error(`subscriptions did not start: ${JSON.stringify(await server.stats())}`);
        await sleep(20);
      }
    }
    const loaded = await server.measure();
    const connectSeconds = (performance.now() - t0) / 1000;
    log(`  ${n} subscriptions live in ${connectSeconds.toFixed(1)} s`);

    // A message to one user at a time, all subscriptions open.
    const latencies: number[] = [];
    const mutations: number[] = [];
    for (let s = 0; s < SAMPLES; s++) {
      const i = Math.floor(Math.random() * n);
      const text = `sample-${s}`;
      const start = performance.now();
      const arrived = new Promise<number>((resolve) => {
        subs[i].onEvent = (e) => {
          if (e.signal === 'ARCHIVE_STORED' && e.message?.text === text) resolve(performance.now() - start);
        };
      });
      await gql(server.port, producer, 'mutation($u: [ID!]!, $t: String!) { addMessageFor(input: { userIds: $u, level: INFO, text: $t }) { recipientCount } }', { u: [`u-${run}-${i}`], t: text });
      mutations.push(performance.now() - start);
      latencies.push(await arrived);
      subs[i].onEvent = null;
    }
    latencies.sort((a, b) => a - b);
    mutations.sort((a, b) => a - b);

    // Broadcasts: the first checks per subscriber that the broadcast is theirs; the second does not.
    const broadcasts: Row['broadcasts'] = [];
    for (let k = 0; k < 2; k++) {
      const text = `broadcast-${k}`;
      let done!: () => void;
      const all = new Promise<void>((resolve) => (done = resolve));
      const cpu0 = await server.cpuMs();
      broadcast = { text, signal: 'ARCHIVE_STORED', count: 0, arrivals: [], t0: performance.now(), done };
      await gql(server.port, producer, 'mutation($t: String!) { broadcastMessage(input: { level: INFO, text: $t }) { recipientCount } }', { t: text });
      await Promise.race([all, sleep(BROADCAST_LIMIT_MS)]);
      const b = broadcast;
      broadcast = null;
      const serverCpu = (await server.cpuMs()) - cpu0;
      const sorted = [...b.arrivals].sort((x, y) => x - y);
      broadcasts.push({ all: b.count === n ? sorted[sorted.length - 1] : Number.NaN, median: pct(sorted, 50), reached: b.count });
      log(`  broadcast ${k + 1}: ${b.count}/${n} subscribers, last after ${fmt(sorted[sorted.length - 1] ?? 0)} ms; server process CPU meanwhile ${fmt(serverCpu)} ms`);
      await sleep(500); // let the INBOX_STORED events drain
    }

    return {
      mode,
      kind,
      n,
      connectSeconds,
      heapPerSub: (loaded.heapUsed - base.heapUsed) / n,
      rssPerSub: (loaded.rss - base.rss) / n,
      p50: pct(latencies, 50),
      p99: pct(latencies, 99),
      mutationP50: pct(mutations, 50),
      broadcasts,
    };
  } finally {
    await Promise.all(subs.map((s) => s.client.dispose()));
    await server.stop();
    await dropKeys();
    await dropDb();
  }
}

async function main() {
  cleanupOnSignals();
  log(`W8 live subscriptions (${quick ? 'quick' : 'full'}): ${os.cpus().length} cores, Node ${process.version}; clients and server share this machine`);
  if (PROFILE_DIR) log(`CPU profiles of the server processes go to ${PROFILE_DIR}`);
  const rows: Row[] = [];
  const plan: [Mode, Kind, number][] = SIZES.flatMap((n) => MODES.map((mode) => [mode, 'inboxEvents', n] as [Mode, Kind, number]));
  plan.push(...MODES.slice(0, quick ? 1 : MODES.length).map((mode) => [mode, 'messageAdded', SIZES[SIZES.length - 1]] as [Mode, Kind, number]));
  for (const [mode, kind, n] of plan) {
    log(`${mode} pub/sub, ${n} ${kind} subscriptions`);
    rows.push(await run(mode, kind, n));
  }
  const kib = (b: number) => `${fmt(b / 1024)} KiB`;
  const ms = (x: number) => (Number.isNaN(x) ? 'not all' : `${fmt(x)} ms`);
  console.log('');
  console.log('| pub/sub | subscription | open | heap / subscription | RSS / subscription | one user: p50 | one user: p99 | (its mutation p50) | broadcast → all (1st) | broadcast → all (2nd) | broadcast → half (2nd) |');
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    const [b1, b2] = r.broadcasts;
    console.log(
      `| ${r.mode} | ${r.kind} | ${fmt(r.n)} | ${kib(r.heapPerSub)} | ${kib(r.rssPerSub)} | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.mutationP50)} | ${ms(b1.all)} | ${ms(b2.all)} | ${ms(b2.median)} |`,
    );
  }
  console.log('');
  console.log('Targets (issue 5, W8): at most 50 KiB per subscription; one user p99 at most 50 ms; a broadcast reaches all 10,000 within 2 s.');
  console.log('One subscription per WebSocket (memory includes the socket). An inboxEvents broadcast event carries the subscriber\'s own unread count, read from storage per subscriber; messageAdded needs storage only for the first broadcast (is it theirs?).');
}

main()
  .then(() => runCleanups())
  .then(() => process.exit(0))
  .catch(async (err) => {
    console.error(err);
    await runCleanups();
    process.exit(1);
  });

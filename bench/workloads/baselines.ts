/**
 * The floors every figure is read against, measured in the same run: the HTTP floor (Yoga answering
 * `{ __typename }`) and the storage floor (raw single-row insert transactions with `pg`, the same
 * on an in-process PGlite, and raw Redis round trips with ioredis).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import { useGraphQlJit } from '@envelop/graphql-jit';
import { createSchema, createYoga } from 'graphql-yoga';
import { Redis } from 'ioredis';
import pg from 'pg';
import { limitRequestBody } from '../../src/graphql/body-limit.js';
import type { BenchTarget } from '../lib/backends.js';
import { onCleanup } from '../lib/cleanup.js';
import type { BenchContext } from '../lib/context.js';
import { bearer, body, Q } from '../lib/gql.js';
import { measureHttp } from '../lib/measure.js';
import type { Row } from '../lib/report.js';
import { benchRedisPrefix, createBenchDatabase, deleteRedisPrefix, REDIS_URL } from '../lib/services.js';
import { summarize } from '../lib/stats.js';

const latency = (f: Awaited<ReturnType<typeof measureHttp>>) => [
  { label: 'p50', summary: f.p50, unit: 'ms' },
  { label: 'p99', summary: f.p99, unit: 'ms' },
];

/** `{ __typename }` on the app itself, with a verified JWT: the ceiling of any operation on it. */
export async function appTypename(ctx: BenchContext, t: BenchTarget): Promise<Row> {
  const auth = await bearer('bench-floor-user');
  const f = await measureHttp(ctx.opts, { url: t.url, bodies: [body(Q.typename)], auths: [auth] });
  ctx.floors.set(`typename:${t.name}`, f.rps);
  return {
    workload: 'floor',
    title: 'HTTP: { __typename } on the app (JWT verified), 16 connections',
    backend: t.name,
    measured: f.rps,
    unit: 'req/s',
    extra: latency(f),
    notes: f.problems,
  };
}

/**
 * Bare Yoga with a one-field schema and no plugins but the app's request body limit: the HTTP stack's
 * own ceiling. (Yoga's built-in limit streams every body through a counter, which more than halved
 * this floor; the app replaces it with limitRequestBody, so the floor does too.)
 */
export async function bareYoga(ctx: BenchContext): Promise<Row> {
  const f = await loadBareYoga(ctx, createSchema({ typeDefs: 'type Query { ok: Boolean }' }), body(Q.typename));
  ctx.floors.set('yoga', f.rps);
  return { workload: 'floor', title: 'HTTP: bare Yoga { __typename } (no auth, no app), 16 connections', backend: '-', measured: f.rps, unit: 'req/s', extra: latency(f), notes: f.problems };
}

/** HTTP load on a bare Yoga serving `schema` with no plugins but the app's body limit (and `jit`), on its own server. */
async function loadBareYoga(ctx: BenchContext, schema: ReturnType<typeof createSchema>, requestBody: string, o: { jit?: boolean } = {}) {
  const plugins = [limitRequestBody(), ...(o.jit ? [useGraphQlJit()] : [])];
  const yoga = createYoga({ schema, logging: false, graphiql: false, landingPage: false, maxRequestBodySize: false, plugins });
  const server = createServer(yoga);
  const close = onCleanup('bare yoga', () => new Promise((resolve) => server.close(resolve)));
  try {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
    return await measureHttp(ctx.opts, { url, bodies: [requestBody], auths: ['Bearer none'] });
  } finally {
    await close();
  }
}

/**
 * Bare Yoga answering the W4 page query (100 messages, the same fields and text, ~33 KB) from memory, compiled
 * by graphql-jit as the app's operations are, with default resolvers over plain objects: what a Yoga
 * server pays at least to resolve, serialise and send that page on this machine, without storage, auth
 * or the app. W4's paging row reads against it.
 */
export async function bareYogaPage(ctx: BenchContext): Promise<Row> {
  const message = (i: number) => ({
    id: Buffer.from(`Message:${1_000_000 + i}`).toString('base64url'),
    text: `Your export #${i} is ready: download it from the Reports page before it expires.`,
    level: 'STORED_INFO',
    levelTag: 'info',
    extraTags: '',
    tags: 'info',
    url: null,
    createdAt: new Date(Date.now() - i * 1000).toISOString(),
    readAt: null,
    read: false,
    expiresAt: new Date(Date.now() + 86_400_000 - i * 1000).toISOString(),
  });
  // Built afresh for each request, as a page read from storage is: the same object every time
  // (its strings already flat and hot) would cost Yoga about half as much and flatter the floor.
  const page = () => ({
    totalCount: 1000,
    edges: Array.from({ length: 100 }, (_, i) => ({ cursor: Buffer.from(`c:${1_000_000 - i}`).toString('base64url'), node: message(i) })),
    pageInfo: { hasNextPage: true, endCursor: Buffer.from(`c:${1_000_000 - 99}`).toString('base64url') },
  });
  const schema = createSchema({
    typeDefs: `
      type Query { unreadMessages(first: Int, after: String): MessageConnection! }
      type MessageConnection { totalCount: Int! edges: [MessageEdge!]! pageInfo: PageInfo! }
      type MessageEdge { cursor: String! node: Message! }
      type PageInfo { hasNextPage: Boolean! endCursor: String }
      type Message { id: ID! text: String! level: String! levelTag: String! extraTags: String! tags: String! url: String createdAt: String! readAt: String read: Boolean! expiresAt: String }`,
    resolvers: { Query: { unreadMessages: page } },
  });
  const f = await loadBareYoga(ctx, schema, body(Q.page, { after: null }), { jit: true });
  ctx.floors.set('yogaPage', f.rps);
  return {
    workload: 'floor',
    title: 'HTTP: bare Yoga + graphql-jit answering the W4 page of 100 messages, built in memory per request (no storage, no auth, no app), 16 connections',
    backend: '-',
    measured: summarize(f.rps.samples.map((r) => r * 100)),
    unit: 'msg/s',
    extra: [{ label: 'i.e.', summary: f.rps, unit: 'pages/s' }, ...latency(f)],
    notes: f.problems,
  };
}

/** Runs `loop` for the configured duration `repeats` times (after a warm-up) and returns ops/s. */
async function repeatRate(ctx: BenchContext, loop: (stopAt: number) => Promise<number>) {
  await loop(performance.now() + ctx.opts.warmupSeconds * 1000);
  const rates: number[] = [];
  for (let i = 0; i < ctx.opts.repeats; i++) {
    const t0 = performance.now();
    const n = await loop(t0 + ctx.opts.durationSeconds * 1000);
    rates.push(n / ((performance.now() - t0) / 1000));
  }
  return summarize(rates);
}

/** Raw `begin; insert one row; commit` with the pg driver, 16 connections: PostgreSQL's write floor. */
export async function pgInsertFloor(ctx: BenchContext): Promise<Row> {
  const db = await createBenchDatabase();
  const dropDb = onCleanup('pg floor database', db.drop);
  const pool = new pg.Pool({ connectionString: db.url, max: ctx.opts.connections });
  pool.on('error', (err) => ctx.log(`  pg floor pool: ${err.message}`)); // an idle client dropped: not fatal
  const endPool = onCleanup('pg floor pool', () => pool.end());
  try {
    await pool.query('create table bench_floor (id bigserial primary key, user_id text not null, body text not null, created_at timestamptz not null default now())');
    const rate = await repeatRate(ctx, async (stopAt) => {
      let n = 0;
      await Promise.all(
        Array.from({ length: ctx.opts.connections }, async (_, w) => {
          const client = await pool.connect();
          try {
            while (performance.now() < stopAt) {
              await client.query('begin');
              await client.query('insert into bench_floor (user_id, body) values ($1, $2)', [`u${w}`, 'Your export is ready.']);
              await client.query('commit');
              n++;
            }
          } finally {
            client.release();
          }
        }),
      );
      return n;
    });
    ctx.floors.set('storage:postgres', rate);
    return { workload: 'floor', title: 'storage: raw single-row insert transactions (pg driver), 16 connections', backend: 'postgres', measured: rate, unit: 'tx/s' };
  } finally {
    await endPool();
    await dropDb();
  }
}

/** The same loop on an in-process, in-memory PGlite (one session): the embedded backend's write floor. */
export async function pgliteInsertFloor(ctx: BenchContext): Promise<Row> {
  const db = await PGlite.create();
  const close = onCleanup('pglite floor', () => db.close());
  try {
    await db.exec('create table bench_floor (id bigserial primary key, user_id text not null, body text not null, created_at timestamptz not null default now())');
    const rate = await repeatRate(ctx, async (stopAt) => {
      let n = 0;
      while (performance.now() < stopAt) {
        await db.transaction(async (tx) => {
          await tx.query('insert into bench_floor (user_id, body) values ($1, $2)', ['u0', 'Your export is ready.']);
        });
        n++;
      }
      return n;
    });
    ctx.floors.set('storage:embedded', rate);
    return { workload: 'floor', title: 'storage: raw single-row insert transactions, in-process PGlite (one session)', backend: 'embedded', measured: rate, unit: 'tx/s' };
  } finally {
    await close();
  }
}

/** Raw Redis round trips, no pipelining: 16 connections, each a sequential `SET` then `INCR`. */
export async function redisFloor(ctx: BenchContext): Promise<Row> {
  const prefix = benchRedisPrefix();
  const clients = Array.from({ length: ctx.opts.connections }, () => new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, enableAutoPipelining: false }));
  const close = onCleanup('redis floor', async () => {
    for (const c of clients) c.disconnect();
    await deleteRedisPrefix(prefix);
  });
  try {
    await Promise.all(clients.map((c) => c.connect()));
    const rate = await repeatRate(ctx, async (stopAt) => {
      let n = 0;
      await Promise.all(
        clients.map(async (c, w) => {
          for (let i = 0; performance.now() < stopAt; i++) {
            await c.set(`${prefix}m:${w}:${i % 1000}`, 'Your export is ready.');
            await c.incr(`${prefix}count:${w}`);
            n++;
          }
        }),
      );
      return n;
    });
    ctx.floors.set('storage:redis', rate);
    return { workload: 'floor', title: 'storage: raw Redis SET + INCR round trips (ioredis, no pipeline), 16 connections', backend: 'redis', measured: rate, unit: 'pairs/s' };
  } finally {
    await close();
  }
}

import type { AddressInfo } from 'node:net';
import { createApp, type App, type AppOptions } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { onCleanup } from './cleanup.js';
import type { BackendName, BenchOptions } from './options.js';
import { ApiSeeder, SqlSeeder, type Seeder } from './seed.js';
import { BENCH_SECRET, benchRedisPrefix, createBenchDatabase, deleteRedisPrefix, REDIS_URL } from './services.js';
import { pgConnection, storeConnection, type SqlConnection } from './sql.js';

/** The real app on one backend, listening on a loopback port, with a way to seed it. */
export interface BenchTarget {
  name: BackendName;
  app: App;
  /** http://127.0.0.1:PORT/graphql */
  url: string;
  seeder: Seeder;
  /** SQL access to the backend's database (PostgreSQL and PGlite), for EXPLAIN and checks. */
  db: SqlConnection | null;
  /** Closes the app and removes what the run created (database, Redis keys). Idempotent. */
  close(): Promise<void>;
}

/** Starts the app on `name` (a fresh database or Redis prefix of its own), with `extra` settings; `close()` removes them. */
export async function startBackend(name: BackendName, opts: BenchOptions, extra: { env?: Record<string, string>; app?: AppOptions } = {}): Promise<BenchTarget> {
  const releases: (() => Promise<unknown>)[] = [];
  const release = onCleanup(`backend ${name}`, async () => {
    for (const r of releases.splice(0).reverse()) await r().catch((err) => console.error(`cleanup (${name}): ${(err as Error).message}`));
  });
  try {
    const env: Record<string, string> = {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: '0',
      AUTH_JWT_SECRET: BENCH_SECRET,
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'silent',
      ...extra.env,
    };
    let db: SqlConnection | null = null;
    if (name === 'postgres') {
      const database = await createBenchDatabase();
      releases.push(database.drop);
      env.DATABASE_URL = database.url;
    } else if (name === 'redis') {
      const prefix = benchRedisPrefix();
      releases.push(() => deleteRedisPrefix(prefix));
      Object.assign(env, { STORAGE_BACKEND: 'redis', REDIS_URL, REDIS_PREFIX: prefix });
    }

    const app: App = await createApp(loadConfig(env), { ...extra.app, embeddedInMemory: true });
    releases.push(() => app.close());
    await new Promise<void>((resolve, reject) => {
      app.server.once('error', reject);
      app.server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = app.server.address() as AddressInfo;

    if (env.DATABASE_URL) {
      db = pgConnection(env.DATABASE_URL);
      const conn = db;
      releases.splice(releases.length - 1, 0, () => conn.close()); // close our pool before the database is dropped
    } else if (name === 'embedded') {
      db = storeConnection(app.store);
    }
    const seeder: Seeder = db && opts.seed === 'auto' ? new SqlSeeder(db) : new ApiSeeder(app.store);

    return { name, app, url: `http://127.0.0.1:${port}/graphql`, seeder, db, close: release };
  } catch (err) {
    await release();
    throw err;
  }
}

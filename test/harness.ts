import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createApp, type App, type AppOptions } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { PG_ADMIN_URL, REDIS_URL, TEST_SECRET } from './env.js';
import { producerToken, userToken } from './support.js';

/** The storage backends a test can run against. Every suite that touches storage runs on each. */
export type Backend = 'postgres' | 'embedded' | 'redis';
export const BACKENDS: Backend[] = ['postgres', 'embedded', 'redis'];

export interface GqlResult<T = any> {
  data?: T;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string; field?: string; [k: string]: unknown } }[];
}

export interface TestApp {
  app: App;
  /** http://127.0.0.1:PORT */
  baseUrl: string;
  backend: Backend;
  /** Runs one GraphQL operation over real HTTP. `token: null` sends no Authorization header. */
  gql<T = any>(token: string | null, query: string, variables?: Record<string, unknown>): Promise<GqlResult<T>>;
  /** A token for a user (a unique sub unless given): support.ts' userToken, at hand. */
  userToken: typeof userToken;
  /** A producer token (scope messages:send): support.ts' producerToken, at hand. */
  producerToken: typeof producerToken;
  close(): Promise<void>;
}

/** A throwaway PostgreSQL database, dropped by the returned function. */
export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  // The creation time in the name lets global-setup.ts tell a killed run's leftovers from a database just made.
  const name = `sm_test_${Math.floor(Date.now() / 1000)}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`drop database if exists "${name}" with (force)`);
      await c.end();
    },
  };
}

/**
 * Deletes the keys under `prefix` (and only those) on the test Redis, with SCAN MATCH: test
 * cleanup never flushes a database. Answers how many keys went.
 */
export async function deleteRedisKeys(prefix: string, url = REDIS_URL): Promise<number> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    redis.disconnect();
  }
}

/**
 * A real app on a real backend, listening on a free loopback port. Each call gets its own database
 * (PostgreSQL), in-memory PGlite (embedded) or key prefix (Redis), so test files never collide.
 */
export async function startTestApp(backend: Backend, env: Record<string, string> = {}, options: Omit<AppOptions, 'embeddedInMemory'> = {}): Promise<TestApp> {
  const db = backend === 'postgres' ? await createTestDatabase() : null;
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    AUTH_JWT_SECRET: TEST_SECRET,
    LOG_LEVEL: 'silent',
    ...(db ? { DATABASE_URL: db.url } : {}),
    ...(backend === 'redis' ? { STORAGE_BACKEND: 'redis', REDIS_URL } : {}),
    REDIS_PREFIX: `smtest:${randomBytes(4).toString('hex')}:`,
    ...env,
  });
  // The Redis backend keeps this app's messages under its own prefix on the test Redis: removed on close.
  const dropKeys = async () => {
    if (backend === 'redis' && config.redisUrl === REDIS_URL) await deleteRedisKeys(config.redisPrefix);
  };
  let app: App;
  try {
    app = await createApp(config, { ...options, embeddedInMemory: true });
  } catch (err) {
    await db?.drop();
    await dropKeys();
    throw err;
  }
  await new Promise<void>((resolve) => app.server.listen(0, '127.0.0.1', resolve));
  const { port } = app.server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    app,
    baseUrl,
    backend,
    async gql(token, query, variables) {
      const res = await fetch(`${baseUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      return (await res.json()) as GqlResult;
    },
    userToken,
    producerToken,
    async close() {
      await app.close();
      await db?.drop();
      await dropKeys();
    },
  };
}

/** Fails the test with the errors when a GraphQL result has any; returns its data. */
export function dataOf<T = any>(result: GqlResult<T>): T {
  if (result.errors?.length) throw new Error(`unexpected GraphQL errors: ${JSON.stringify(result.errors)}`);
  if (!result.data) throw new Error('no data');
  return result.data;
}

/** The error code of the first error, asserting there is one. */
export function errorCode(result: GqlResult): string | undefined {
  if (!result.errors?.length) throw new Error(`expected an error, got ${JSON.stringify(result.data)}`);
  return result.errors[0].extensions?.code;
}

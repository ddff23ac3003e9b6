/** Where the bench finds its services (loopback only); override with BENCH_PG_URL / BENCH_REDIS_URL. */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';

export const PG_ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const BENCH_SECRET = 'bench-secret-that-is-long-enough-0123456789';

for (const u of [PG_ADMIN_URL, REDIS_URL]) {
  const host = new URL(u).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]') throw new Error(`the bench only targets loopback services, not ${host}`);
}

/** A throwaway PostgreSQL database, named sm_bench_*, dropped (with force) by `drop`. */
export async function createBenchDatabase(): Promise<{ name: string; url: string; drop: () => Promise<void> }> {
  const name = `sm_bench_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      if (dropped) return;
      dropped = true;
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      try {
        await c.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** A key prefix of this run; everything the bench writes to Redis starts with it. */
export const benchRedisPrefix = () => `smbench:${process.pid}-${randomBytes(4).toString('hex')}:`;

/** Deletes the keys under `prefix` (SCAN + UNLINK, never FLUSH*); returns how many went. */
export async function deleteRedisPrefix(prefix: string): Promise<number> {
  if (!/^smbench:[0-9]+-[0-9a-f]{8}:$/.test(prefix)) throw new Error(`refusing to delete keys under an unexpected prefix ${prefix}`);
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  let n = 0;
  try {
    let cursor = '0';
    for (let rounds = 0; rounds < 1_000_000; rounds++) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length) n += await redis.unlink(...keys);
      cursor = next;
      if (cursor === '0') break;
    }
  } finally {
    redis.disconnect();
  }
  return n;
}

export async function redisReachable(): Promise<string | null> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await redis.connect();
    await redis.ping();
    return null;
  } catch (err) {
    return (err as Error).message;
  } finally {
    redis.disconnect();
  }
}

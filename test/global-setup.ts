import pg from 'pg';
import { Redis } from 'ioredis';
import { buildInbox } from '../scripts/build-inbox.js';
import { PG_ADMIN_URL, REDIS_URL } from './env.js';

/**
 * Tests need the real PostgreSQL and Redis: when either is missing the run fails here, loudly,
 * instead of skipping anything. Also removes databases left behind by killed runs of this suite (an hour old or more),
 * and builds the web inbox module (GET /inbox.js, test/web) here, once, when it is missing or stale.
 */
export default async function setup() {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`PostgreSQL is not reachable at ${PG_ADMIN_URL} (start it: see .ci/run): ${(err as Error).message}`);
  }
  const stale = await client.query<{ datname: string }>(
    "select datname from pg_database where datname like 'sm_test_%' and (select count(*) from pg_stat_activity a where a.datname = pg_database.datname) = 0",
  );
  // Only an hour old or more: another run on this machine may have made one a moment ago and not connected yet.
  const createdAt = (name: string) => Number(/^sm_test_(\d{10})_/.exec(name)?.[1] ?? 0) * 1000;
  for (const { datname } of stale.rows) {
    if (Date.now() - createdAt(datname) > 3_600_000) await client.query(`drop database if exists "${datname}"`);
  }
  await client.end();

  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(`Redis is not reachable at ${REDIS_URL} (start it: see .ci/run): ${(err as Error).message}`);
  } finally {
    redis.disconnect();
  }
  await buildInbox({ ifStale: true });
}

import pg from 'pg';
import { Redis } from 'ioredis';
import { PG_ADMIN_URL, REDIS_URL } from './env.js';

/**
 * Tests need the real PostgreSQL and Redis: when either is missing the run fails here, loudly,
 * instead of skipping anything. Also removes databases left behind by killed runs of this suite.
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
  for (const { datname } of stale.rows) await client.query(`drop database if exists "${datname}"`);
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
}

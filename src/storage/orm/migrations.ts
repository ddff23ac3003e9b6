import type { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';

/** The advisory lock key this application's migrations hold (any constant: it only has to be the same in every instance). */
const MIGRATION_LOCK_KEY = 5_137_021_001;

/**
 * Applies pending migrations and answers their names. On a PostgreSQL server they run while this
 * process holds a session advisory lock, taken on a connection of its own: replicas starting together
 * wait for each other instead of creating the same tables at once, and the later ones find nothing
 * pending. The lock goes with that connection, so a process killed mid-migration frees it. The
 * embedded database belongs to one process: no lock.
 */
export async function applyMigrations(orm: MikroORM, databaseUrl: string | null): Promise<string[]> {
  const up = async () => (await orm.getMigrator().up()).map((m) => m.name);
  if (!databaseUrl) return up();
  const lock = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000 });
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    return await up();
  } finally {
    await lock.end();
  }
}

import { defineConfig } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { fileURLToPath } from 'node:url';
import { entities } from './entities.js';
import { migrationsList } from '../../migrations/index.js';
import type { EmbeddedDatabase } from '../embedded.js';

const migrationsPath = fileURLToPath(new URL('../../migrations', import.meta.url));

/**
 * MikroORM options for a PostgreSQL server's URL, or for the embedded PGlite (reached through its
 * in-process stream, see embedded.ts). Migrations are listed explicitly (`migrationsList`) so the
 * compiled build and tsx both find them.
 */
export function ormOptions(database: string | EmbeddedDatabase, opts: { poolMax?: number; debug?: boolean } = {}) {
  const clientUrl = typeof database === 'string' ? database : database.url;
  return defineConfig({
    clientUrl,
    entities,
    extensions: [Migrator],
    discovery: { warnWhenNoEntities: false },
    pool: { min: opts.poolMax === 1 ? 1 : 0, max: opts.poolMax ?? 10 },
    driverOptions: { connection: connectionSettings(database) },
    debug: opts.debug ?? false,
    allowGlobalContext: false,
    migrations: {
      tableName: 'sm_migrations',
      path: migrationsPath,
      pathTs: migrationsPath,
      migrationsList,
      snapshot: false,
      silent: true,
      transactional: true,
      allOrNothing: true,
      emit: 'ts',
      fileName: (timestamp: string, name?: string) => `Migration${timestamp}${name ? `_${name}` : ''}`,
    },
  });
}

/**
 * No JIT compilation in the app's sessions. Its statements are short, and PostgreSQL decides to compile
 * from a plan's estimated cost: the generic plan of a send to one user (estimated for 100 recipients)
 * crossed jit_above_cost, and each send then spent ~27 ms compiling before running for 0.2 ms.
 */
const NO_JIT = '-c jit=off';
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * node-postgres settings beyond what MikroORM takes from the URL (host, port, user, password, database):
 * it drops the URL's parameters, so `sslmode`, `application_name` or `options` there did nothing.
 * node-postgres reads them from the URL itself; the URL's `options` get NO_JIT added (its own would
 * replace ours). The embedded database is reached through its in-process stream instead.
 */
function connectionSettings(database: string | EmbeddedDatabase) {
  if (typeof database !== 'string') return { options: NO_JIT, stream: database.stream };
  const url = new URL(database);
  const own = url.searchParams.get('options');
  url.searchParams.delete('options');
  // A host that accepts the connection and never answers fails in 10 s, not at the pool's 30 s acquire timeout.
  const connectionTimeoutMillis = url.searchParams.has('connect_timeout') ? undefined : CONNECT_TIMEOUT_MS;
  return { connectionString: url.toString(), options: own ? `${own} ${NO_JIT}` : NO_JIT, connectionTimeoutMillis };
}

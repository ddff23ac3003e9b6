import { defineConfig } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { fileURLToPath } from 'node:url';
import { entities } from './entities.js';
import { migrationsList } from '../../migrations/index.js';
import type { EmbeddedDatabase } from '../embedded.js';
import { connectionSettings } from './connection.js';

const migrationsPath = fileURLToPath(new URL('../../migrations', import.meta.url));

/**
 * MikroORM options for a PostgreSQL server's URL, or for the embedded PGlite (reached through its
 * in-process stream, see embedded.ts). MikroORM owns the entities, the migrations and the schema check;
 * the store's statements run on a pool of their own (db.ts). Migrations are listed explicitly
 * (`migrationsList`) so the compiled build and tsx both find them. `poolMax` defaults to 10; idle
 * connections close, so a pool used only at start holds none afterwards.
 */
export function ormOptions(database: string | EmbeddedDatabase, opts: { poolMax?: number; debug?: boolean } = {}) {
  const clientUrl = typeof database === 'string' ? database : database.url;
  return defineConfig({
    clientUrl,
    entities,
    extensions: [Migrator],
    discovery: { warnWhenNoEntities: false },
    pool: { min: 0, max: opts.poolMax ?? 10 },
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

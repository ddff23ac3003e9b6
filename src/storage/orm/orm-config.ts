import { defineConfig } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { entities } from './entities.js';
import { migrationsList } from '../../migrations/index.js';

const migrationsPath = fileURLToPath(new URL('../../migrations', import.meta.url));

/**
 * MikroORM options for a PostgreSQL URL (a real server), or for the embedded PGlite (its URL and its
 * in-process `stream`, see embedded.ts). Migrations are listed explicitly (`migrationsList`) so the
 * compiled build and tsx both find them.
 */
export function ormOptions(clientUrl: string, opts: { poolMax?: number; debug?: boolean; stream?: () => Duplex } = {}) {
  return defineConfig({
    clientUrl,
    entities,
    extensions: [Migrator],
    discovery: { warnWhenNoEntities: false },
    pool: { min: opts.poolMax === 1 ? 1 : 0, max: opts.poolMax ?? 10 },
    // No JIT compilation in the app's sessions. Its statements are short, and PostgreSQL decides to compile
    // from a plan's estimated cost: the generic plan of a send to one user (estimated for 100 recipients)
    // crossed jit_above_cost, and each send then spent ~27 ms compiling before running for 0.2 ms.
    driverOptions: { connection: { options: '-c jit=off', ...(opts.stream ? { stream: opts.stream } : {}) } },
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

import { MikroORM } from '@mikro-orm/postgresql';
import { loadConfig, type Config } from '../config.js';
import { startEmbeddedDatabase } from '../storage/embedded.js';
import { applyMigrations } from '../storage/orm/migrations.js';
import { ormOptions } from '../storage/orm/orm-config.js';
import { reportStartupFailure } from '../startup-errors.js';

/**
 * `npm run migrate` / `stored-messages migrate`: applies pending migrations (PostgreSQL, or the
 * embedded database under DATA_DIR) and prints what it applied. Resolves with the exit code: 0, or
 * 1 with the reason in a line or two naming the setting (see startup-errors.ts).
 */
export async function migrate(env: Record<string, string | undefined>): Promise<number> {
  let config: Config | null = null;
  try {
    config = loadConfig(env, { needsAuth: false });
    const embedded = config.databaseUrl ? null : await startEmbeddedDatabase(config.dataDir);
    try {
      const orm = await MikroORM.init(ormOptions(embedded ?? config.databaseUrl!, { poolMax: 1 }));
      try {
        const applied = await applyMigrations(orm, config.databaseUrl);
        console.log(applied.length ? `applied ${applied.join(', ')}` : 'no pending migrations');
      } finally {
        await orm.close(true);
      }
    } finally {
      await embedded?.close();
    }
    return 0;
  } catch (err) {
    reportStartupFailure(err, config);
    return 1;
  }
}

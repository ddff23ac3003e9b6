import { MikroORM } from '@mikro-orm/postgresql';
import { ConfigError, loadConfig } from './config.js';
import { startEmbeddedDatabase } from './storage/embedded.js';
import { ormOptions } from './storage/orm/orm-config.js';

/** `npm run migrate`: applies pending migrations (PostgreSQL, or the embedded database under DATA_DIR) and exits. */
async function migrate() {
  const config = loadConfig(process.env);
  const embedded = config.databaseUrl ? null : await startEmbeddedDatabase(config.dataDir);
  const orm = await MikroORM.init(ormOptions(embedded ?? config.databaseUrl!, { poolMax: 1 }));
  try {
    const applied = await orm.getMigrator().up();
    console.log(applied.length ? `applied ${applied.map((m) => m.name).join(', ')}` : 'no pending migrations');
  } finally {
    await orm.close(true);
    await embedded?.close();
  }
}

migrate().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});

import pino from 'pino';
import { loadConfig } from '../../src/config.js';
import { openStorage } from '../../src/storage/index.js';
import { createTestDatabase } from '../harness.js';
import { runStoreContract } from './contract.js';

const logger = pino({ level: 'silent' });

// The storage contract on the MikroORM store: a real PostgreSQL database of its own, and the embedded PGlite.
runStoreContract('PostgreSQL (MikroORM)', async () => {
  const db = await createTestDatabase();
  try {
    const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: db.url, LOG_LEVEL: 'silent' });
    const store = await openStorage(config, { logger });
    // A second instance on the same database, as a second process would open it.
    const twin = await openStorage(config, { logger });
    return {
      store,
      twin,
      close: async () => {
        await twin.close();
        await store.close();
        await db.drop();
      },
    };
  } catch (err) {
    await db.drop();
    throw err;
  }
});

runStoreContract('embedded PGlite (MikroORM)', async () => {
  const store = await openStorage(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' }), { logger, embeddedInMemory: true });
  return { store, close: () => store.close() };
});

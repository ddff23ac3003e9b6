import pino from 'pino';
import { loadConfig } from '../../src/config.js';
import { openStorage } from '../../src/storage/index.js';
import { createTestDatabase } from '../harness.js';
import { runStoreContract } from './contract.js';
import { ALL_SIGNALS } from './contract/outbox-support.js';

const logger = pino({ level: 'silent' });

// The storage contract on the MikroORM store over a real PostgreSQL database of its own (the embedded PGlite: orm-embedded.test.ts).
runStoreContract('PostgreSQL (MikroORM)', async () => {
  const db = await createTestDatabase();
  try {
    const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: db.url, LOG_LEVEL: 'silent' });
    const store = await openStorage(config, { logger, webhookSignals: ALL_SIGNALS });
    // A second instance on the same database, as a second process would open it.
    const twin = await openStorage(config, { logger, webhookSignals: ALL_SIGNALS });
    return {
      store,
      twin,
      outbox: store.webhooks,
      twinOutbox: twin.webhooks,
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

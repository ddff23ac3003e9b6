import pino from 'pino';
import { loadConfig } from '../../src/config.js';
import { openStorage } from '../../src/storage/index.js';
import { runStoreContract } from './contract.js';
import { ALL_SIGNALS } from './contract/outbox-support.js';

const logger = pino({ level: 'silent' });

// The storage contract on the MikroORM store over the embedded PGlite, in memory (PostgreSQL: orm.test.ts).
runStoreContract('embedded PGlite (MikroORM)', async () => {
  const store = await openStorage(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' }), { logger, embeddedInMemory: true, webhookSignals: ALL_SIGNALS });
  return { store, outbox: store.webhooks, close: () => store.close() };
});

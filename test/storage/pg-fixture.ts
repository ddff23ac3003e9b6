import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { MessageStore } from '../../src/domain/message-store.js';
import { openStorage } from '../../src/storage/index.js';
import { createTestDatabase } from '../harness.js';

/**
 * For the describe block it is called in: the PostgreSQL store on a throwaway database, and a second
 * connection of its own to that database (to hold locks and transactions open while the store works).
 */
export function pgStoreWithConnection(): { readonly store: MessageStore; readonly other: pg.Client } {
  let db: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  let store: MessageStore | undefined;
  let other: pg.Client | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
    store = await openStorage(loadConfig({ NODE_ENV: 'test', DATABASE_URL: db.url, LOG_LEVEL: 'silent' }), { logger: pino({ level: 'silent' }) });
    other = new pg.Client({ connectionString: db.url });
    await other.connect();
  });
  afterAll(async () => {
    await other?.end();
    await store?.close();
    await db?.drop();
  });
  const opened = <T>(x: T | undefined): T => {
    if (x === undefined) throw new Error('the store is not open (beforeAll failed)');
    return x;
  };
  return {
    get store() {
      return opened(store);
    },
    get other() {
      return opened(other);
    },
  };
}

import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openStorage, type Storage } from '../../src/storage/index.js';
import type { Db } from '../../src/storage/orm/db.js';
import { AUTOVACUUM } from '../../src/storage/orm/sql/maintenance.js';
import { statement } from '../../src/storage/orm/statement.js';
import { createTestDatabase } from '../harness.js';
import { inMs, uid, waitUntilPast } from '../support.js';
import { msg } from './contract.js';
import { drain, ALL_SIGNALS } from './contract/outbox-support.js';

/**
 * Where nothing else vacuums (the embedded PGlite, which has no autovacuum; a PostgreSQL server with
 * autovacuum off), the store's cleanup runs do: the space of rows deleted or updated is used again
 * instead of the database's files growing for ever. Read through each table's size on disk.
 */
const logger = pino({ level: 'silent' });
const SIZE = statement<{ table: string }, { bytes: number }>(`select pg_relation_size(:table::regclass)::float8 as bytes`);

const backends: [string, () => Promise<{ store: Storage; vacuums: boolean; close(): Promise<void> }>][] = [
  [
    'embedded PGlite',
    async () => {
      const store = await openStorage(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' }), { logger, embeddedInMemory: true, webhookSignals: ALL_SIGNALS });
      return { store, vacuums: true, close: () => store.close() };
    },
  ],
  [
    'PostgreSQL',
    async () => {
      const db = await createTestDatabase();
      const store = await openStorage(loadConfig({ NODE_ENV: 'test', DATABASE_URL: db.url, LOG_LEVEL: 'silent' }), { logger, webhookSignals: ALL_SIGNALS });
      const [{ autovacuum }] = await (store as unknown as { db: Db }).db.sql(AUTOVACUUM);
      return { store, vacuums: autovacuum !== 'on', close: async () => (await store.close(), await db.drop()) };
    },
  ],
];

describe.each(backends)('%s: cleanup runs vacuum where autovacuum does not', (_name, open) => {
  let opened: Awaited<ReturnType<typeof open>>;
  const size = async (table: string) => (await (opened.store as unknown as { db: Db }).db.sql(SIZE, { table }))[0].bytes;
  beforeAll(async () => {
    opened = await open();
  }, 90_000); // PGlite starts slowly on a busy machine
  afterAll(() => opened?.close());

  it('vacuums only where nothing else does', () => {
    expect((opened.store as unknown as { opts: { vacuum?: boolean } }).opts.vacuum).toBe(opened.vacuums);
  });

  // This project's PostgreSQL runs with autovacuum off (as CI's does); a server with it on vacuums on its own schedule.
  it('the webhook outbox, emptied by deliveries, is the same size after four rounds as after one', async () => {
    if (!opened.vacuums) return;
    const users = Array.from({ length: 20 }, () => uid());
    const sizes: number[] = [];
    for (let round = 0; round < 4; round++) {
      // 400 events (each recipient's ARCHIVE_STORED and INBOX_STORED), delivered, then a cleanup run.
      for (let i = 0; i < 10; i++) await opened.store.send(msg({ text: `round ${round}, send ${i}` }), { userIds: users });
      sizes.push(await size('sm_webhook'));
      await drain(opened.store.webhooks);
      await opened.store.cleanupExpired(1000);
    }
    expect(sizes[0]).toBeGreaterThan(8192);
    // Without the vacuum each round appends its rows after the last one's dead ones: four times the size.
    expect(Math.max(...sizes)).toBe(sizes[0]);
  });

  it("every 10th cleanup run vacuums every table: expired messages' space is used again", async () => {
    if (!opened.vacuums) return;
    const users = Array.from({ length: 20 }, () => uid());
    const sizes: { delivery: number; message: number }[] = [];
    for (let round = 0; round < 2; round++) {
      const expiresAt = inMs(1_000);
      for (let i = 0; i < 10; i++) await opened.store.send(msg({ text: `expiring ${round}.${i}`, expiresAt }), { userIds: users });
      await drain(opened.store.webhooks);
      sizes.push({ delivery: await size('sm_delivery'), message: await size('sm_message') });
      await waitUntilPast(expiresAt);
      // The first run deletes them; one of the ten is a 10th, which vacuums every table.
      expect(await opened.store.cleanupExpired(1000)).toBeGreaterThanOrEqual(210);
      for (let run = 1; run < 10; run++) await opened.store.cleanupExpired(1000);
    }
    expect(sizes[1].delivery).toBeLessThanOrEqual(sizes[0].delivery);
    expect(sizes[1].message).toBeLessThanOrEqual(sizes[0].message);
  });
});

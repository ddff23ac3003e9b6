import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { MessageStore } from '../../src/domain/message-store.js';
import { openStorage } from '../../src/storage/index.js';
import { ALL_NEWEST_FIRST, fromStart, INBOX_NEWEST_FIRST, INBOX_OLDEST_FIRST } from '../../src/storage/orm/sql/pages.js';
import { bind, type Statement } from '../../src/storage/orm/statement.js';
import { createTestDatabase } from '../harness.js';

/**
 * What a page costs PostgreSQL beyond its rows, with the shape of W4: a reader with 1,000 unread among
 * 100,000 deliveries of 1,000 other users, statistics fresh. PostgreSQL plans a prepared statement for its
 * inputs five times, then keeps its generic plan only if it estimates it no costlier than planning anew;
 * otherwise every run is planned again, which for a page costs about as much as running it (read from
 * pg_prepared_statements). And a delivery without a category needs no lookup of a category's watermark.
 */
const READER = 'cache-reader';
const CROWD = `
with m as (
  insert into sm_message (level, text, created_at, delivered_at, expires_at)
  select 21, 'Your export #' || g || ' is ready.', now() - interval '1 hour', now() - interval '1 hour', now() + interval '120 days'
  from generate_series(1, 101000) g
  returning id
)
insert into sm_delivery (user_id, message_id, level, created_at, delivered_at, expires_at, read_at)
select case when m.id % 101 = 0 then '${READER}' else 'cache-other-' || (m.id % 1000) end, m.id, 21,
  now() - interval '1 hour', now() - interval '1 hour', now() + interval '120 days',
  case when m.id % 101 <> 0 and m.id % 2 = 0 then now() - interval '30 minutes' end
from m`;

describe('PostgreSQL pages: planned once, and no lookup for each row', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let store: MessageStore;
  let c: pg.Client;
  let cursor: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    store = await openStorage(loadConfig({ NODE_ENV: 'test', DATABASE_URL: db.url, LOG_LEVEL: 'silent' }), { logger: pino({ level: 'silent' }) });
    c = new pg.Client({ connectionString: db.url });
    await c.connect();
    await c.query(CROWD);
    await c.query(`insert into sm_user (id, bcast_id) select distinct user_id, 0 from sm_delivery`);
    await c.query('vacuum analyze');
    cursor = (await c.query<{ id: string }>(`select message_id::text as id from sm_delivery where user_id = $1 order by message_id desc offset 500 limit 1`, [READER])).rows[0].id;
  }, 60_000);
  afterAll(async () => {
    await c?.end();
    await store?.close();
    await db?.drop();
  });

  let prepared = 0;
  /** Runs `page` ten times as a named prepared statement, as the store does: how often it was planned anew, and how often it ran its generic plan. */
  async function plans(page: Statement<object, unknown>, inputs: object) {
    const name = `cache_probe_${++prepared}`;
    const values = bind(page, { userId: READER, levels: null, categories: null, since: null, until: null, limit: 21, seen: null, archived: null, read: null, ...inputs });
    for (let i = 0; i < 10; i++) await c.query({ name, text: page.text, values });
    return (await c.query<{ custom: number; generic: number }>(`select custom_plans::int as custom, generic_plans::int as generic from pg_prepared_statements where name = $1`, [name])).rows[0];
  }

  it.each([
    ['the inbox, newest first', INBOX_NEWEST_FIRST],
    ['the inbox, oldest first', INBOX_OLDEST_FIRST],
    ['everything, newest first', ALL_NEWEST_FIRST],
  ])('a first page of %s runs its generic plan after five runs', async (_, page) => {
    expect(await plans(fromStart(page as Statement<object, unknown>), { cursor: null })).toEqual({ custom: 5, generic: 5 });
  });

  it('a page past a cursor too', async () => {
    expect(await plans(INBOX_NEWEST_FIRST as Statement<object, unknown>, { cursor })).toEqual({ custom: 5, generic: 5 });
  });

  it('a page of 100 deliveries without a category looks up no category watermark', async () => {
    const SCANS = `select coalesce(sum(seq_scan + idx_scan), 0)::int as n from pg_stat_xact_user_tables where relname = 'sm_category'`;
    const values = bind(INBOX_NEWEST_FIRST as Statement<object, unknown>, { userId: READER, cursor, levels: null, categories: null, since: null, until: null, limit: 101, seen: null, archived: null });
    await c.query('begin');
    try {
      const before = (await c.query<{ n: number }>(SCANS)).rows[0].n;
      const { rows } = await c.query({ text: INBOX_NEWEST_FIRST.text, values });
      expect(rows).toHaveLength(102); // the state's row and 101 messages
      // sm_cat_upto is inlined, and looks a category up only for a delivery that has one.
      expect((await c.query<{ n: number }>(SCANS)).rows[0].n - before).toBe(0);
    } finally {
      await c.query('rollback');
    }
  });
});


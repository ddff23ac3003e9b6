import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openStorage } from '../../src/storage/index.js';
import type { Db } from '../../src/storage/orm/db.js';
import { CATEGORY_COUNTS } from '../../src/storage/orm/sql/categories.js';
import { DELETE_ONE } from '../../src/storage/orm/sql/delete.js';
import { ALL_NEWEST_FIRST, fromStart, INBOX_NEWEST_FIRST } from '../../src/storage/orm/sql/pages.js';
import { SNOOZED_NEWEST_FIRST } from '../../src/storage/orm/sql/pages-snoozed.js';
import { DUE } from '../../src/storage/orm/sql/states.js';
import { SET_READ_ONE } from '../../src/storage/orm/sql/mark-read.js';
import { SEND } from '../../src/storage/orm/sql/send.js';
import { UNREAD_OF } from '../../src/storage/orm/sql/users.js';
import { bind, statement, type Statement } from '../../src/storage/orm/statement.js';
import type { MessageStore } from '../../src/domain/message-store.js';
import { createTestDatabase } from '../harness.js';
import { pgStoreWithConnection } from './pg-fixture.js';
import { sleep, waitUntilPast } from '../support.js';
import { countsInIdOrder, expiresSoon, idsOf, msg } from './contract.js';

/**
 * What the contract suite cannot reach on the PostgreSQL store. First, the read watermark where timing matters: a broadcast that takes its id before a user's
 * mark-all-read but commits after it. Held open here with a real second connection, so the
 * interleaving is exact rather than hoped for.
 */
describe('PostgreSQL read watermark', () => {
  const f = pgStoreWithConnection();

  it.each([null, 'billing'])('delivers unread a broadcast that took its id before a mark-all-read (category %s) and committed after it', async (category) => {
    const { store, other } = f;
    const a = `late-${Date.now()}`;
    await store.ensureUser(a);
    const before = (await store.send(msg({ text: 'before', category }), { userIds: [a] })).message.id;

    // A broadcast takes its id and stays uncommitted...
    await other.query('begin');
    const { rows } = await other.query<{ id: string }>(
      `insert into sm_message (level, text, created_at, expires_at, broadcast, category) values (25, 'late broadcast', now(), now() + interval '1 day', true, $1) returning id::text`,
      [category],
    );
    const late = rows[0].id;
    // ...while a direct message with a higher id arrives and the user marks everything (of the category) read.
    const direct = (await store.send(msg({ text: 'direct', category }), { userIds: [a] })).message.id;
    expect(BigInt(direct)).toBeGreaterThan(BigInt(late));
    expect(await store.markAllRead(a, new Date(Date.now() + 1000), category)).toMatchObject({ count: 2, unreadCount: 0 });
    const readAt = (await store.get(a, direct))?.readAt;
    expect(readAt).toBeInstanceOf(Date);
    await other.query('commit');

    // The broadcast was not there when the user marked all read: it arrives unread, the rest stay read.
    expect(await store.unreadCount(a)).toBe(1);
    expect((await store.get(a, late))?.readAt).toBeNull();
    expect((await store.get(a, direct))?.readAt).toEqual(readAt);
    expect((await store.get(a, before))?.readAt).toEqual(readAt);
    const inbox = await store.list(a, { unreadOnly: true, filter: {}, direction: 'forward', limit: 20, cursor: null });
    expect(inbox.items.map((i) => i.message.id)).toEqual([late]);
    expect(inbox.totalCount).toBe(1);
    expect(await idsOf(store, a)).toEqual([direct, late, before]);
    if (category) expect(await store.counts(a, category)).toEqual({ total: 3, unread: 1, unseen: 1, archived: 0, snoozed: 0 });
    expect(await store.markAllRead(a, new Date(Date.now() + 1000))).toMatchObject({ count: 1, unreadCount: 0 });
  });

  it('drops the read marks whose messages are all gone, and keeps those still covering one (the user\'s and a category\'s)', async () => {
    const { store, other } = f;
    const [a, b] = [`marks-${Date.now()}`, `category-marks-${Date.now()}`];
    const marks = async () => (await other.query<{ n: number }>('select count(*)::int as n from sm_mark where user_id = $1 and kind = $2', [a, 'read'])).rows[0].n;
    const categoryMarks = async () =>
      (await other.query<{ n: number }>('select count(*)::int as n from sm_category_mark where user_id = $1 and kind = $2', [b, 'read'])).rows[0].n;
    const expiresAt = expiresSoon();
    const kept: string[] = [];
    for (const [user, category] of [[a, null], [b, 'billing']] as const) {
      await store.send(msg({ text: 'goes', expiresAt, category }), { userIds: [user] });
      await store.markAllRead(user, new Date(Date.now() + 1000), category);
      kept.push((await store.send(msg({ text: 'stays', expiresAt: null, category }), { userIds: [user] })).message.id);
      await store.send(msg({ text: 'goes too', expiresAt, category }), { userIds: [user] });
      await store.markAllRead(user, new Date(Date.now() + 1000), category);
    }
    const readAt = [(await store.get(a, kept[0]))?.readAt, (await store.get(b, kept[1]))?.readAt];
    expect([await marks(), await categoryMarks()]).toEqual([2, 2]);
    await waitUntilPast(expiresAt);
    expect(await store.cleanupExpired(1000)).toBeGreaterThan(0);
    // The first mark covered only the expired message; the second still covers `kept`.
    expect([await marks(), await categoryMarks()]).toEqual([1, 1]);
    expect([(await store.get(a, kept[0]))?.readAt, (await store.get(b, kept[1]))?.readAt]).toEqual(readAt);
    expect([await store.unreadCount(a), await store.unreadCount(b)]).toEqual([0, 0]);
    expect(await store.counts(b, 'billing')).toEqual({ total: 1, unread: 0, unseen: 0, archived: 0, snoozed: 0 });
  });

  it('counts a message read once when markRead and markAllRead (of the inbox or its category) race on it, every time', async () => {
    const { store } = f;
    const a = `race-${Date.now()}`;
    for (let round = 0; round < 25; round++) {
      const category = round % 2 ? 'billing' : null;
      const m = (await store.send(msg({ text: `race ${round}`, category }), { userIds: [a] })).message.id;
      const [r, all] = await Promise.all([store.setRead(a, [m], true), store.markAllRead(a, new Date(Date.now() + 1000), category)]);
      // Exactly one of the two read it.
      expect(r.changed.length + all.count).toBe(1);
      expect(await store.unreadCount(a)).toBe(0);
    }
    expect((await store.counts(a, 'billing')).unread).toBe(0);
  });
});

describe('embedded PGlite statistics', () => {
  it('are refreshed by every 10th cleanup (PGlite has no autovacuum)', async () => {
    const store = await openStorage(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' }), { logger: pino({ level: 'silent' }), embeddedInMemory: true });
    const sql = (store as unknown as { db: Db }).db.sql;
    const tuples = async () => (await sql(statement<Record<never, never>, { n: number }>(`select reltuples::int as n from pg_class where relname = 'sm_delivery'`)))[0].n;
    try {
      for (let i = 0; i < 30; i++) await store.send(msg({ text: `stats ${i}` }), { userIds: ['stats-a', 'stats-b'] });
      expect(await tuples()).toBeLessThanOrEqual(0); // never analysed
      for (let i = 0; i < 9; i++) await store.cleanupExpired(100);
      expect(await tuples()).toBeLessThanOrEqual(0); // not at start, when the tables may be empty
      await store.cleanupExpired(100);
      expect(await tuples()).toBe(60);
    } finally {
      await store.close();
    }
  }, 90_000); // PGlite starts slowly on a busy machine
});

describe('PostgreSQL statistics', () => {
  it('are refreshed by every 10th cleanup when the server has autovacuum off, and left to autovacuum otherwise', async () => {
    const db = await createTestDatabase();
    const store = await openStorage(loadConfig({ NODE_ENV: 'test', DATABASE_URL: db.url, LOG_LEVEL: 'silent' }), { logger: pino({ level: 'silent' }) });
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      const autovacuum = (await c.query<{ autovacuum: string }>('show autovacuum')).rows[0].autovacuum;
      expect((store as unknown as { opts: { analyzeEveryCleanups?: number } }).opts.analyzeEveryCleanups).toBe(autovacuum === 'on' ? undefined : 10);
      if (autovacuum !== 'on') {
        const tuples = async () => (await c.query<{ n: number }>(`select reltuples::int as n from pg_class where relname = 'sm_delivery'`)).rows[0].n;
        for (let i = 0; i < 30; i++) await store.send(msg({ text: `stats ${i}` }), { userIds: ['stats-a', 'stats-b'] });
        expect(await tuples()).toBeLessThanOrEqual(0);
        for (let i = 0; i < 10; i++) await store.cleanupExpired(100);
        expect(await tuples()).toBe(60);
      }
    } finally {
      await c.end();
      await store.close();
      await db.drop();
    }
  });
});

describe('PostgreSQL connection settings', () => {
  it("takes DATABASE_URL's parameters (application_name, options) to the server, with JIT still off", async () => {
    const db = await createTestDatabase();
    const url = `${db.url}${db.url.includes('?') ? '&' : '?'}application_name=sm-url-test&options=${encodeURIComponent('-c statement_timeout=12345')}`;
    const store = await openStorage(loadConfig({ NODE_ENV: 'test', DATABASE_URL: url, LOG_LEVEL: 'silent' }), { logger: pino({ level: 'silent' }) });
    try {
      const sql = (store as unknown as { db: Db }).db.sql;
      expect(await sql(statement(`select current_setting('application_name') as app, current_setting('statement_timeout') as timeout, current_setting('jit') as jit`))).toEqual([
        { app: 'sm-url-test', timeout: '12345ms', jit: 'off' },
      ]);
    } finally {
      await store.close();
      await db.drop();
    }
  });
});

describe('PostgreSQL connection pool', () => {
  it("opens at most DATABASE_POOL_MAX connections for the store's statements, however many reads wait", async () => {
    const db = await createTestDatabase();
    // `locker` holds the deliveries table so that every read waits (the pool then opens all it may);
    // `counter` counts the connections meanwhile (outside locker's transaction, whose view would be frozen).
    const [locker, counter] = [new pg.Client({ connectionString: db.url }), new pg.Client({ connectionString: db.url })];
    await Promise.all([locker.connect(), counter.connect()]);
    // The store's connections are those waiting for the lock (MikroORM's pool, which ran the migrations, waits for nothing).
    const others = async () =>
      (
        await counter.query<{ n: number }>(
          `select count(*)::int as n from pg_stat_activity
           where datname = current_database() and pid <> all(array[$1::int, $2::int]) and backend_type = 'client backend' and wait_event_type = 'Lock'`,
          [(locker as unknown as { processID: number }).processID, (counter as unknown as { processID: number }).processID],
        )
      ).rows[0].n;
    try {
      for (const max of [2, 6]) {
        const store = await openStorage(loadConfig({ NODE_ENV: 'test', DATABASE_URL: db.url, DATABASE_POOL_MAX: String(max), LOG_LEVEL: 'silent' }), {
          logger: pino({ level: 'silent' }),
        });
        try {
          await store.send(msg({ text: 'pool' }), { userIds: [`pool-${max}`] });
          await locker.query('begin');
          await locker.query('lock table sm_delivery in access exclusive mode');
          // 60 reads at once, all waiting for the lock (sends would go in a few batched statements).
          const reads = Promise.all(
            Array.from({ length: 60 }, () => store.list(`pool-${max}`, { unreadOnly: false, filter: {}, direction: 'forward', limit: 10, cursor: null })),
          );
          let open = 0;
          for (let i = 0; i < 150 && open < max; i++) {
            await sleep(20);
            open = await others();
          }
          await sleep(200); // time to open more, were it allowed to
          expect(await others()).toBe(max);
          await locker.query('commit');
          const pages = await reads;
          expect(pages.every((p) => p.totalCount === 1)).toBe(true);
        } finally {
          await locker.query('rollback').catch(() => {});
          await store.close();
        }
      }
    } finally {
      await Promise.all([locker.end(), counter.end()]);
      await db.drop();
    }
  });
});

describe('PostgreSQL batched sends', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let store: MessageStore;
  /** The number of sends in each SEND statement the store ran. */
  let batches: number[];

  beforeAll(async () => {
    db = await createTestDatabase();
    store = await openStorage(loadConfig({ NODE_ENV: 'test', DATABASE_URL: db.url, LOG_LEVEL: 'silent' }), { logger: pino({ level: 'silent' }) });
    (store as unknown as { db: Db }).db.onStatement = (text, bindings) => {
      if (text === SEND.text) batches.push((JSON.parse(bindings[0] as string) as unknown[]).length);
    };
  });
  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  it('sends concurrent sends in fewer statements, each with its own result and counts in id order', async () => {
    batches = [];
    const [a, b] = ['batch-a', 'batch-b'];
    const results = await Promise.all(Array.from({ length: 50 }, (_, k) => store.send(msg({ text: `b${k}` }), { userIds: k % 2 ? [a, b] : [a] })));
    expect(batches.reduce((n, k) => n + k, 0)).toBe(50);
    expect(Math.max(...batches)).toBeGreaterThan(1);
    expect(batches.length).toBeLessThan(50);
    // For each user, a later message (larger id) reports a larger count: 1, 2, 3 ... in id order.
    for (const user of [a, b]) {
      const counts = countsInIdOrder(results, user);
      expect(counts).toEqual(counts.map((_, i) => i + 1));
    }
    expect(results.map((r) => r.message.text)).toEqual(results.map((_, k) => `b${k}`));
    expect(await store.unreadCount(a)).toBe(50);
    expect(await store.unreadCount(b)).toBe(25);
  });

  it('fails only the send PostgreSQL refuses; the others of its batch are stored', async () => {
    batches = [];
    const user = 'batch-refused';
    const tooLong = `https://example.com/${'x'.repeat(2100)}`; // sm_message.url is varchar(2048): the domain checks it before the store
    const settled = await Promise.allSettled(
      Array.from({ length: 30 }, (_, k) => store.send(msg({ text: `r${k}`, url: k === 17 ? tooLong : null }), { userIds: [user] })),
    );
    expect(Math.max(...batches)).toBeGreaterThan(1);
    expect(settled.map((s) => s.status)).toEqual(settled.map((_, k) => (k === 17 ? 'rejected' : 'fulfilled')));
    expect(((settled[17] as PromiseRejectedResult).reason as { code?: string }).code).toBe('22001');
    expect(await store.unreadCount(user)).toBe(29);
    const texts = (await store.list(user, { unreadOnly: false, filter: {}, direction: 'forward', limit: 100, cursor: null })).items.map((i) => i.message.text);
    expect(texts.sort()).toEqual(Array.from({ length: 30 }, (_, k) => `r${k}`).filter((t) => t !== 'r17').sort());
  });
});

describe('PostgreSQL plans that do not depend on statistics', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let store: MessageStore;
  let c: pg.Client;
  const reader = 'plan-reader';
  const UNREAD = 20_000;
  const CROWD = 5_000;
  let toMany: string;

  type PlanNode = { 'Relation Name'?: string; 'Actual Rows'?: number; 'Actual Loops'?: number; 'Rows Removed by Filter'?: number; Plans?: PlanNode[] };
  const nodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodes)];
  /**
   * Rows of sm_delivery a statement reads (EXPLAIN ANALYZE, rolled back), as a prepared statement's
   * generic plan when `generic`: the plan the store runs once a statement has run five times. `nested`:
   * the rows it fetched, those of the functions it calls included (which EXPLAIN does not show).
   */
  let probes = 0;
  const FETCHED = `select coalesce(sum(seq_tup_read + idx_tup_fetch), 0)::int as n from pg_stat_xact_user_tables where relname = 'sm_delivery'`;
  async function deliveryRowsRead<P>(statement: Statement<P, unknown>, inputs: P, generic: boolean, nested = false): Promise<number> {
    const name = `probe_${++probes}`;
    const params = bind(statement, inputs);
    await c.query('begin');
    try {
      let plan: PlanNode;
      const fetched = async () => (await c.query<{ n: number }>(FETCHED)).rows[0].n;
      let before = 0;
      if (generic) {
        await c.query(`set local plan_cache_mode = force_generic_plan`);
        await c.query({ name, text: statement.text, values: params }); // prepares it (and runs it, rolled back)
        const literals = params.map((p) => (p === null ? 'null' : c.escapeLiteral(String(p)))).join(', '); // EXPLAIN EXECUTE takes no bound parameters
        before = await fetched();
        const { rows } = await c.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`explain (analyze, format json) execute ${name}(${literals})`);
        plan = rows[0]['QUERY PLAN'][0].Plan;
      } else {
        before = await fetched();
        const { rows } = await c.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`explain (analyze, format json) ${statement.text}`, params);
        plan = rows[0]['QUERY PLAN'][0].Plan;
      }
      if (nested) return (await fetched()) - before;
      return nodes(plan)
        .filter((n) => n['Relation Name'] === 'sm_delivery')
        .reduce((sum, n) => sum + ((n['Actual Rows'] ?? 0) + (n['Rows Removed by Filter'] ?? 0)) * (n['Actual Loops'] ?? 1), 0);
    } finally {
      await c.query('rollback');
    }
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    store = await openStorage(loadConfig({ NODE_ENV: 'test', DATABASE_URL: db.url, LOG_LEVEL: 'silent' }), { logger: pino({ level: 'silent' }) });
    await store.ensureUser(reader);
    c = new pg.Client({ connectionString: db.url });
    await c.connect();
    // 20,000 unread deliveries that expire next year and one that expired an hour ago (the cleanup has
    // not reclaimed it), written directly and never analysed: a young table, or autovacuum off.
    await c.query(`
      with m as (
        insert into sm_message (level, text, created_at, expires_at)
        select 20, 'm' || g, now(), case when g = 1 then now() - interval '1 hour' else now() + interval '1 year' end from generate_series(1, ${UNREAD + 1}) g
        returning id, level, created_at, delivered_at, expires_at
      )
      insert into sm_delivery (user_id, message_id, level, created_at, delivered_at, expires_at)
      select '${reader}', id, level, created_at, delivered_at, expires_at from m`);
    await c.query(`update sm_user set unread_count = ${UNREAD + 1}, total_count = ${UNREAD + 1} where id = '${reader}'`);
    // And one message sent to 5,000 other users, each with nothing else.
    await c.query(`insert into sm_user (id, bcast_id, unread_count, total_count) select 'plan-crowd-' || g, 0, 1, 1 from generate_series(1, ${CROWD}) g`);
    const { rows } = await c.query<{ id: string }>(`
      with m as (
        insert into sm_message (level, text, created_at, expires_at) values (20, 'to many', now(), now() + interval '1 year')
        returning id, level, created_at, delivered_at, expires_at
      ), d as (
        insert into sm_delivery (user_id, message_id, level, created_at, delivered_at, expires_at)
        select 'plan-crowd-' || g, id, level, created_at, delivered_at, expires_at from m, generate_series(1, ${CROWD}) g
      )
      select id::text as id from m`);
    toMany = rows[0].id;
  });
  afterAll(async () => {
    await c?.end();
    await store?.close();
    await db?.drop();
  });

  const sql = () => (store as unknown as { db: Db }).db.sql;

  it('runs without JIT compilation, which PostgreSQL would start from estimated costs alone', async () => {
    expect(await sql()(statement(`select current_setting('jit') as jit`))).toEqual([{ jit: 'off' }]);
  });

  it('counts the expired unread deliveries of a user with many unread through the expiry index, not their unread range', async () => {
    type PlanNode = { 'Relation Name'?: string; 'Index Name'?: string; Plans?: PlanNode[] };
    const nodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodes)];
    const { text } = UNREAD_OF;
    const { rows } = await c.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`explain (format json) ${text}`, [JSON.stringify([reader])]);
    const scans = nodes(rows[0]['QUERY PLAN'][0].Plan).filter((n) => n['Index Name']?.startsWith('sm_delivery'));
    expect(scans.map((n) => n['Index Name'])).toEqual(['sm_delivery_user_expires_idx']);
    // And the count is right: the expired one is not unread any more.
    expect(await store.unreadCount(reader)).toBe(UNREAD);
    const [r] = (await c.query<{ unread: number }>(text, [JSON.stringify([reader])])).rows;
    expect(r.unread).toBe(UNREAD);
  });

  it('finds no wake-up due without reading a delivery, among 25,000 that are not snoozed', async () => {
    // Dates reach the generic plan as text, as the store's driver sends them.
    const inputs = { now: new Date().toISOString() as unknown as Date, limit: 100 };
    expect(await deliveryRowsRead(DUE, inputs, false)).toBe(0);
    expect(await deliveryRowsRead(DUE, inputs, true)).toBe(0);
  });

  it.each([
    ['the inbox, unseen ones', fromStart(INBOX_NEWEST_FIRST) as Statement<object, unknown>, { seen: false, archived: null }],
    ['unarchived ones', fromStart(ALL_NEWEST_FIRST) as Statement<object, unknown>, { read: null, seen: null, archived: false }],
    ['snoozed ones (none)', fromStart(SNOOZED_NEWEST_FIRST) as Statement<object, unknown>, { read: null, seen: null, archived: null }],
  ])('a first page of %s reads about a page of deliveries, not the inbox of a user with many', async (_, statement, filter) => {
    const inputs = { userId: reader, cursor: null, levels: null, categories: null, since: null, until: null, limit: 21, ...filter };
    // The page, the counters' expired correction (one row) and nothing more, as a custom and as a generic plan.
    expect(await deliveryRowsRead(statement, inputs, false)).toBeLessThanOrEqual(30);
    expect(await deliveryRowsRead(statement, inputs, true)).toBeLessThanOrEqual(30);
  });

  it.each([
    // markRead and markUnread run in a function (sm_set_read_one): its rows are counted from the table's statistics.
    ['markRead', SET_READ_ONE as Statement<{ userId: string; ids: string }, unknown>, { read: true }, true],
    ['markUnread', SET_READ_ONE as Statement<{ userId: string; ids: string }, unknown>, { read: false }, true],
    ['delete', DELETE_ONE, {}, false],
  ])('%s of one message looks its delivery up: not the inbox of a user with many, nor all recipients of a message to many', async (_, statement, more, nested) => {
    const [{ id }] = (await c.query<{ id: string }>(`select max(message_id)::text as id from sm_delivery where user_id = $1`, [reader])).rows;
    // The requested delivery is read a few times over (to change it, count it, return it). Walking the
    // reader's range of an index would read 20,000 rows; the message's recipients, 5,000.
    expect(await deliveryRowsRead(statement, { userId: reader, ids: JSON.stringify([id]), ...more }, false, nested)).toBeLessThanOrEqual(10);
    await c.query('analyze sm_delivery'); // statistics: a message has about one delivery
    expect(await deliveryRowsRead(statement, { userId: reader, ids: JSON.stringify([id]), ...more }, true, nested)).toBeLessThanOrEqual(10);
    expect(await deliveryRowsRead(statement, { userId: 'plan-crowd-7', ids: JSON.stringify([toMany]), ...more }, true, nested)).toBeLessThanOrEqual(10);
  });

  it('counts a category, and a grouped send finds the unread message of its group, without walking the many deliveries in them', async () => {
    // Last: it gives the reader's 20,000 unread deliveries one category and one group key, but the oldest live one another.
    await c.query(`update sm_delivery set category = 'bulk', group_key = 'bulk' where user_id = $1`, [reader]);
    await c.query(`update sm_delivery set group_key = 'rare' where user_id = $1 and message_id = (select min(message_id) + 1 from sm_delivery where user_id = $1)`, [reader]);
    await c.query(`insert into sm_category (user_id, category, total_count, unread_count, unseen_count) values ($1, 'bulk', $2, $2, $2)`, [reader, UNREAD + 1]);
    for (const generic of [false, true]) expect(await deliveryRowsRead(CATEGORY_COUNTS, { userId: reader, category: 'bulk' }, generic)).toBeLessThanOrEqual(2);
    const send = (g: string | null) => ({ sends: JSON.stringify([{ u: [reader], l: 20, t: 'x', x: '', r: null, d: null, c: new Date(), e: null, k: 'bulk', g, p: false }]) });
    // The expired correction and the new delivery, as a custom and as a generic plan; and, in the function
    // SEND calls, the group's newest unread delivery, found and marked read by its key: not the reader's
    // inbox walked newest first to the group's one delivery, nor the table scanned for the update.
    for (const generic of [false, true]) expect(await deliveryRowsRead(SEND, send('bulk'), generic)).toBeLessThanOrEqual(4);
    for (const generic of [false, true]) expect(await deliveryRowsRead(SEND, send(null), generic)).toBeLessThanOrEqual(3);
    for (const generic of [false, true]) for (const g of ['rare', 'bulk', 'none']) expect(await deliveryRowsRead(SEND, send(g), generic, true)).toBeLessThanOrEqual(6);
    const [r] = await sql()(CATEGORY_COUNTS, { userId: reader, category: 'bulk' });
    expect(r).toEqual({ total: UNREAD, unread: UNREAD, unseen: UNREAD, archived: 0, snoozed: 0 });
  });
});

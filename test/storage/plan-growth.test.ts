import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openStorage } from '../../src/storage/index.js';
import type { Db, Sql } from '../../src/storage/orm/db.js';
import { CATEGORY_MARK_ALL_BOUNDS, RAISE_CATEGORY_UPTO } from '../../src/storage/orm/sql/categories.js';
import { LOCK_FOR_MARK_ALL, RAISE_UPTO } from '../../src/storage/orm/sql/mark-all.js';
import { lowestRaised } from '../../src/storage/orm/states.js';
import { LOWEST_COVERED } from '../../src/storage/orm/sql/broadcasts.js';
import { WAKE } from '../../src/storage/orm/sql/states.js';
import { SEND } from '../../src/storage/orm/sql/send.js';
import { statement } from '../../src/storage/orm/statement.js';
import type { MessageStore } from '../../src/domain/message-store.js';
import { createTestDatabase } from '../harness.js';
import { msg } from './contract.js';

const DELIVERY_TUPLES = statement<Record<never, never>, { n: number }>(`select reltuples::int as n from pg_class where relname = 'sm_delivery'`);
const PREPARED_NAME = statement<{ text: string }, { name: string }>(`select name from pg_prepared_statements where statement = :text`);
const GENERIC_PLANS = statement(`set local plan_cache_mode = force_generic_plan`);
/** Rows of sm_delivery the transaction fetched so far, those of the functions its statements call included (EXPLAIN shows none of them). */
const DELIVERY_FETCHES = statement<Record<never, never>, { n: number }>(
  `select coalesce(sum(seq_tup_read + idx_tup_fetch), 0)::int as n from pg_stat_xact_user_tables where relname = 'sm_delivery'`,
);

type PlanNode = { 'Relation Name'?: string; 'Actual Rows'?: number; 'Actual Loops'?: number; 'Rows Removed by Filter'?: number; Plans?: PlanNode[] };
const nodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodes)];
/** Rows of sm_delivery a plan (EXPLAIN ANALYZE) read, filtered out ones included. */
const deliveryRows = (plan: PlanNode) =>
  nodes(plan)
    .filter((n) => n['Relation Name'] === 'sm_delivery')
    .reduce((sum, n) => sum + ((n['Actual Rows'] ?? 0) + (n['Rows Removed by Filter'] ?? 0)) * (n['Actual Loops'] ?? 1), 0);
/** What `work` answers, run in a transaction rolled back. */
async function rolledBack<T>(db: Db, work: (sql: Sql) => Promise<T>): Promise<T> {
  let result: T | undefined;
  const rollback = new Error('rollback');
  await db
    .tx(async (sql) => {
      result = await work(sql);
      throw rollback;
    })
    .catch((err: unknown) => {
      if (err !== rollback) throw err;
    });
  return result!;
}
/** Rows of sm_delivery read by the plan `explain` answers (EXPLAIN ANALYZE), in a transaction rolled back. */
const deliveryRowsRolledBack = async (db: Db, explain: (sql: Sql) => Promise<PlanNode>) => deliveryRows(await rolledBack(db, explain));
const EXPLAIN_RAISE_CATEGORY = statement<
  { userId: string; category: string; upto: string; lo: string; seen: boolean; read: boolean; archived: boolean; onlyRead: boolean },
  { 'QUERY PLAN': [{ Plan: PlanNode }] }
>(`explain (analyze, format json) ${RAISE_CATEGORY_UPTO.source}`);
const EXPLAIN_WAKE = statement<{ users: string; due: Date }, { 'QUERY PLAN': [{ Plan: PlanNode }] }>(`explain (analyze, format json) ${WAKE.source}`);
const EXPLAIN_LOWEST_COVERED = statement<{ users: string; kind: string; snoozedOnly: boolean }, { 'QUERY PLAN': [{ Plan: PlanNode }] }>(
  `explain (analyze, format json) ${LOWEST_COVERED.source}`,
);
const EXPLAIN_RAISE = statement<{ userId: string; upto: string | null; lo: string; seen: boolean; read: boolean; archived: boolean; onlyRead: boolean }, { 'QUERY PLAN': [{ Plan: PlanNode }] }>(`explain (analyze, format json) ${RAISE_UPTO.source}`);

/**
 * Sends to one user on a fresh database that nobody else analyses (this machine's PostgreSQL runs with
 * autovacuum off; PGlite has none): the send statement the store prepared while the table was nearly
 * empty must not come to read the user's whole inbox (STACK.md trap 9).
 */
describe.each(['postgres', 'embedded'] as const)('sends to one growing inbox (%s)', (backend) => {
  const user = 'growing-inbox';
  const opened: { store: MessageStore; drop?: () => Promise<void> }[] = [];
  afterAll(async () => {
    for (const o of opened) {
      await o.store.close();
      await o.drop?.();
    }
  });

  /** A store on a fresh database with one connection (the plan examined is the one its sends ran with), after `sends` sends to `user`. */
  async function grown(sends: number): Promise<MessageStore> {
    const db = backend === 'postgres' ? await createTestDatabase() : null;
    const env = db ? { DATABASE_URL: db.url, DATABASE_POOL_MAX: '1' } : {};
    const store = await openStorage(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', ...env }), { logger: pino({ level: 'silent' }), embeddedInMemory: true });
    opened.push({ store, drop: db?.drop });
    for (let k = 0; k < sends; k += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => store.send(msg({ text: `grow ${k + j}` }), { userIds: [user] })));
    return store;
  }
  const dbOf = (store: MessageStore) => (store as unknown as { db: Db }).db;
  const deliveryTuples = async (store: MessageStore) =>
    (await dbOf(store).sql(DELIVERY_TUPLES))[0].n;

  /** Rows of sm_delivery one more send reads under the store's own cached generic plan of SEND (EXPLAIN ANALYZE, rolled back). */
  async function deliveryRowsPerSend(store: MessageStore): Promise<number> {
    const [prepared] = await dbOf(store).sql(PREPARED_NAME, { text: SEND.text });
    expect(prepared?.name).toBeTruthy();
    const param = JSON.stringify([{ u: [user], l: 21, t: 'probe', x: '', r: null, d: null, c: new Date().toISOString(), e: new Date(Date.now() + 86_400_000).toISOString() }]);
    return deliveryRowsRolledBack(dbOf(store), async (sql) => {
      // The generic plan: what the store runs once a statement has run five times.
      await sql(GENERIC_PLANS);
      const [row] = await sql(statement<Record<never, never>, { 'QUERY PLAN': [{ Plan: PlanNode }] }>(`explain (analyze, format json) execute ${prepared.name}('${param}')`));
      return row['QUERY PLAN'][0].Plan;
    });
  }

  /** Rows of sm_delivery one more send with a group key fetches under the store's generic plans (rolled back). */
  async function deliveryFetchesPerGroupedSend(store: MessageStore): Promise<number> {
    const [prepared] = await dbOf(store).sql(PREPARED_NAME, { text: SEND.text });
    const param = JSON.stringify([{ u: [user], l: 21, t: 'probe', x: '', r: null, d: null, c: new Date().toISOString(), e: null, g: 'probe' }]);
    return rolledBack(dbOf(store), async (sql) => {
      await sql(GENERIC_PLANS);
      const [before] = await sql(DELIVERY_FETCHES);
      await sql(statement(`execute ${prepared.name}('${param}')`));
      return (await sql(DELIVERY_FETCHES))[0].n - before.n;
    });
  }

  it('reads a bounded number of deliveries per send under a plan made while the table was empty, with no ANALYZE at all', async () => {
    const store = await grown(900); // below the store's first ANALYZE on growth
    expect(await deliveryTuples(store)).toBeLessThan(0); // never analysed
    // The delivery it writes and the user's expired ones (none): not the 900 already there.
    expect(await deliveryRowsPerSend(store)).toBeLessThanOrEqual(10);
    expect(await store.unreadCount(user)).toBe(900);
    // A grouped send finds and marks read the group's one unread delivery by its keys.
    for (let k = 0; k < 6; k++) await store.send(msg({ text: `grouped ${k}`, groupKey: 'probe' }), { userIds: [user] });
    expect(await deliveryFetchesPerGroupedSend(store)).toBeLessThanOrEqual(10);
    expect(await store.unreadCount(user)).toBe(901);
  }, 120_000);

  it('analyses the tables sends grow as they double, and still reads a bounded number of deliveries per send', async () => {
    const store = await grown(3_000);
    await (store as unknown as { analysis: Promise<void> | null }).analysis; // the ANALYZE runs in the background
    expect(await deliveryTuples(store)).toBeGreaterThanOrEqual(1_000);
    expect(await deliveryRowsPerSend(store)).toBeLessThanOrEqual(10);
    expect(await store.unreadCount(user)).toBe(3_000);
  }, 180_000);
});

/**
 * The "all" operations (markAllRead, markAllSeen, archiveAll) on an inbox of 1,000 analysed when it held
 * 100 (stale statistics), and limited to a category of 1,000 that three users share; then with fresh
 * statistics: each is one write that reads a bounded number of deliveries however many it covers.
 */
describe.each(['postgres', 'embedded'] as const)('marks all of a large inbox in one bounded write (%s)', (backend) => {
  const user = 'large-inbox';
  let store: MessageStore;
  let drop: (() => Promise<void>) | undefined;
  afterAll(async () => {
    await store?.close();
    await drop?.();
  });

  /** Rows of sm_delivery RAISE_UPTO reads for these kinds up to now (EXPLAIN ANALYZE, rolled back). */
  const deliveryRowsRaised = (kinds: { seen: boolean; read: boolean; archived: boolean; onlyRead: boolean }) => deliveryRowsRaisedFor(user, kinds);
  async function deliveryRowsRaisedFor(userId: string, kinds: { seen: boolean; read: boolean; archived: boolean; onlyRead: boolean }): Promise<number> {
    return deliveryRowsRolledBack((store as unknown as { db: Db }).db, async (sql) => {
      const [w] = await sql(LOCK_FOR_MARK_ALL, { userId, until: new Date() });
      // The lowest new watermark, as the store computes it: `upto`, or the read watermark for onlyRead.
      const lo = kinds.onlyRead ? (BigInt(w.read_upto) < BigInt(w.upto!) ? w.read_upto : w.upto!) : w.upto!;
      const [row] = await sql(EXPLAIN_RAISE, { userId, upto: w.upto, lo, ...kinds });
      return row['QUERY PLAN'][0].Plan;
    });
  }

  it('reads a bounded number of deliveries for each, covering all 1,000', async () => {
    const db = backend === 'postgres' ? await createTestDatabase() : null;
    drop = db?.drop;
    const env = db ? { DATABASE_URL: db.url } : {};
    store = await openStorage(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', ...env }), { logger: pino({ level: 'silent' }), embeddedInMemory: true });
    const grow = async (n: number) => {
      for (let k = 0; k < n; k += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => store.send(msg({ text: `large ${k + j}` }), { userIds: [user] })));
    };
    await grow(100);
    await (store as unknown as { db: Db }).db.unprepared(statement('analyze'));
    await grow(900);
    const future = () => new Date(Date.now() + 1000);
    // Nothing changes the cost of the next: each is measured, then done.
    expect(await deliveryRowsRaised({ seen: true, read: false, archived: false, onlyRead: false })).toBeLessThanOrEqual(10);
    expect(await store.markAllSeen(user, future())).toMatchObject({ count: 1000, counts: { unseen: 0, unread: 1000 } });
    expect(await deliveryRowsRaised({ seen: true, read: true, archived: false, onlyRead: false })).toBeLessThanOrEqual(10);
    expect(await store.markAllRead(user, future())).toMatchObject({ count: 1000, counts: { unread: 0 } });
    expect(await deliveryRowsRaised({ seen: false, read: false, archived: true, onlyRead: true })).toBeLessThanOrEqual(10);
    expect(await deliveryRowsRaised({ seen: true, read: true, archived: true, onlyRead: false })).toBeLessThanOrEqual(10);
    expect(await store.archiveAll(user, future(), true)).toEqual({ count: 1000, counts: { total: 1000, unread: 0, unseen: 0, archived: 1000, snoozed: 0 } });
  }, 180_000);

  /** Rows of sm_delivery RAISE_CATEGORY_UPTO reads for these kinds up to now (EXPLAIN ANALYZE, rolled back). */
  async function categoryRowsRaised(userId: string, kinds: { seen: boolean; read: boolean; archived: boolean; onlyRead: boolean }): Promise<number> {
    return deliveryRowsRolledBack((store as unknown as { db: Db }).db, async (sql) => {
      const [w] = await sql(CATEGORY_MARK_ALL_BOUNDS, { userId, category: 'bulk', until: new Date() });
      const read = kinds.onlyRead ? (BigInt(w.read_upto) > BigInt(w.user_read_upto) ? w.read_upto : w.user_read_upto) : w.read_upto;
      const lo = lowestRaised({ upto: w.upto!, seen_upto: w.seen_upto, read_upto: read, archived_upto: w.archived_upto }, kinds, kinds.onlyRead);
      const [row] = await sql(EXPLAIN_RAISE_CATEGORY, { userId, category: 'bulk', upto: w.upto!, lo, ...kinds });
      return row['QUERY PLAN'][0].Plan;
    });
  }

  it('does the same limited to a category of 1,000 (after the test above, on its store and stale statistics)', async () => {
    const other = 'large-category';
    for (let k = 0; k < 1000; k += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => store.send(msg({ text: `bulk ${k + j}`, category: 'bulk' }), { userIds: [other, 'bulk-a', 'bulk-z'] })));
    const future = () => new Date(Date.now() + 1000);
    const all = { total: 1000, unread: 1000, unseen: 1000, archived: 0, snoozed: 0 };
    expect(await categoryRowsRaised(other, { seen: true, read: false, archived: false, onlyRead: false })).toBeLessThanOrEqual(10);
    expect(await store.markAllSeen(other, future(), 'bulk')).toEqual({ count: 1000, counts: { ...all, unseen: 0 } });
    expect(await categoryRowsRaised(other, { seen: true, read: true, archived: false, onlyRead: false })).toBeLessThanOrEqual(10);
    expect(await store.markAllRead(other, future(), 'bulk')).toMatchObject({ count: 1000, counts: { ...all, unseen: 0, unread: 0 } });
    expect(await categoryRowsRaised(other, { seen: false, read: false, archived: true, onlyRead: true })).toBeLessThanOrEqual(10);
    expect(await store.archiveAll(other, future(), true, 'bulk')).toEqual({ count: 1000, counts: { total: 1000, unread: 0, unseen: 0, archived: 1000, snoozed: 0 } });
    expect(await store.counts(other, 'bulk')).toEqual({ total: 1000, unread: 0, unseen: 0, archived: 1000, snoozed: 0 });
  }, 180_000);

  it('keeps both bounded with fresh statistics of four users of 1,000 (after the tests above, on their store)', async () => {
    // Statistics that show each user as a quarter of the table: a plan that walks all of a user's deliveries looks cheap.
    await (store as unknown as { db: Db }).db.unprepared(statement('analyze'));
    const all = { seen: true, read: true, archived: true, onlyRead: false };
    for (const u of ['large-category', 'bulk-a', 'bulk-z']) {
      expect(await categoryRowsRaised(u, all)).toBeLessThanOrEqual(10);
      expect(await deliveryRowsRaisedFor(u, all)).toBeLessThanOrEqual(10);
    }
  }, 60_000);
});

/**
 * A batch of wake-ups with 1,000 deliveries snoozed after the last ANALYZE (the statistics show the partial
 * indexes of snoozed deliveries as empty): each batch statement reads the batch's own deliveries, not every
 * snoozed one for each user.
 */
describe.each(['postgres', 'embedded'] as const)('wakes a batch reading its own deliveries only (%s)', (backend) => {
  it('reads a bounded number of deliveries per id, with 1,000 snoozed', async () => {
    const db = backend === 'postgres' ? await createTestDatabase() : null;
    const env = db ? { DATABASE_URL: db.url } : {};
    const store = await openStorage(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', ...env }), { logger: pino({ level: 'silent' }), embeddedInMemory: true });
    try {
      const storeDb = (store as unknown as { db: Db }).db;
      const users = Array.from({ length: 100 }, (_, i) => `sleeper-${i}`);
      const ids = await Promise.all(
        users.map(async (u) => {
          const m: string[] = [];
          for (let k = 0; k < 10; k++) m.push((await store.send(msg({ text: `z${k}` }), { userIds: [u] })).message.id);
          return m;
        }),
      );
      await storeDb.unprepared(statement('analyze'));
      const until = new Date(Date.now() + 3_600_000);
      await Promise.all(users.map((u, i) => store.snooze(u, ids[i], until)));
      // A batch of 10 users, 100 ids: a probe and an update of each.
      const batch = JSON.stringify(users.slice(0, 10).map((u, i) => ({ user_id: u, ids: ids[i] })));
      const lowest = await deliveryRowsRolledBack(storeDb, async (sql) => (await sql(EXPLAIN_LOWEST_COVERED, { users: batch, kind: 'seen', snoozedOnly: true }))[0]['QUERY PLAN'][0].Plan);
      expect(lowest).toBeLessThanOrEqual(200);
      const wake = await deliveryRowsRolledBack(storeDb, async (sql) => (await sql(EXPLAIN_WAKE, { users: batch, due: new Date(until.getTime() + 1) }))[0]['QUERY PLAN'][0].Plan);
      expect(wake).toBeLessThanOrEqual(400);
      const woken = await store.wakeDue(new Date(until.getTime() + 1), 100);
      expect(woken.map((w) => w.messages.length)).toEqual(Array(10).fill(10));
    } finally {
      await store.close();
      await db?.drop();
    }
  }, 120_000);
});

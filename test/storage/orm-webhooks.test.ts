import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { MessageStore } from '../../src/domain/message-store.js';
import { openStorage, type Storage } from '../../src/storage/index.js';
import type { Db } from '../../src/storage/orm/db.js';
import { SEND } from '../../src/storage/orm/sql/send.js';
import { CLAIM_WEBHOOKS, RECORD_WEBHOOKS } from '../../src/storage/orm/sql/webhooks.js';
import { bind, statement } from '../../src/storage/orm/statement.js';
import { createTestDatabase } from '../harness.js';
import { uid } from '../support.js';
import { startTcpProxy, type TcpProxy } from '../tcp-proxy.js';
import { idsOf, msg } from './contract.js';
import { ALL_SIGNALS, drain, takeWritten } from './contract/outbox-support.js';

/**
 * The webhook outbox on PostgreSQL where the contract cannot reach: which signals a store writes
 * (WEBHOOK_EVENTS, off), the statements it costs, and durability: a transaction that fails after the
 * change's statements leaves neither the change nor its events.
 */
const logger = pino({ level: 'silent' });
const dbOf = (store: MessageStore) => (store as unknown as { db: Db }).db;

type PlanNode = { 'Relation Name'?: string; 'Actual Rows'?: number; 'Actual Loops'?: number; 'Rows Removed by Filter'?: number; Plans?: PlanNode[] };
const nodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodes)];
const EXPLAIN_CLAIM = statement<{ now: Date; streams: number; perStream: number; leaseMs: number }, { 'QUERY PLAN': [{ Plan: PlanNode }] }>(
  `explain (analyze, format json) ${CLAIM_WEBHOOKS.source}`,
);
/** A backlog behind a failing endpoint: `streams` streams of `each` events, held by a retry for an hour. */
const BACKLOG = statement<{ streams: number; each: number }>(`
with s as (
  insert into sm_webhook_stream (stream, due_at) select 'held-' || i, now() + interval '1 hour' from generate_series(1, :streams) i returning stream
)
insert into sm_webhook (stream, nonce, body, occurred_at)
select s.stream, 'f00d', '{}', now() from s cross join generate_series(1, :each)`);
const DROP_BACKLOG = statement(`
with e as (delete from sm_webhook where stream like 'held-%')
delete from sm_webhook_stream where stream like 'held-%'`);
const statementsOf = (store: MessageStore) => {
  const seen: string[] = [];
  (store as unknown as { db: Db }).db.onStatement = (text) => void seen.push(text);
  return seen;
};

describe('PostgreSQL webhook outbox: signals written, and their cost', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  const stores: Record<'all' | 'stored' | 'off', Storage> = {} as never;
  beforeAll(async () => {
    db = await createTestDatabase();
    const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: db.url, LOG_LEVEL: 'silent' });
    stores.all = await openStorage(config, { logger, webhookSignals: ALL_SIGNALS });
    stores.stored = await openStorage(config, { logger, webhookSignals: new Set(['INBOX_STORED', 'INBOX_PURGED']) });
    stores.off = await openStorage(config, { logger });
  });
  afterAll(async () => {
    await Promise.all(Object.values(stores).map((s) => s.close()));
    await db?.drop();
  });

  it('writes only the signals it was opened with, and nothing with webhooks off (not one statement more)', async () => {
    const outbox = stores.all.webhooks;
    await drain(outbox);
    const [a, b] = [uid(), uid()];
    const seen = statementsOf(stores.off);
    for (const store of [stores.stored, stores.off]) {
      const sent = await store.send(msg(), { userIds: [a, b] });
      await store.setRead(a, [sent.message.id], true);
      await store.markAllRead(b, new Date(), null);
    }
    expect(seen).not.toContain(RECORD_WEBHOOKS.text);
    const written = await takeWritten(outbox);
    expect([...written.keys()].sort()).toEqual([a, b].sort());
    expect(written.get(a)!.map((e) => e.type)).toEqual(['INBOX_STORED']);
    expect(written.get(b)!.map((e) => e.type)).toEqual(['INBOX_STORED', 'INBOX_PURGED']);
  });

  it('writes one statement of events per group-committed batch of sends', async () => {
    const seen = statementsOf(stores.all);
    const users = Array.from({ length: 40 }, () => uid());
    await Promise.all(users.map((u) => stores.all.send(msg(), { userIds: [u] })));
    const sends = seen.filter((t) => t === SEND.text).length;
    expect(sends).toBeLessThan(users.length);
    expect(seen.filter((t) => t === RECORD_WEBHOOKS.text)).toHaveLength(sends);
    expect([...(await takeWritten(stores.all.webhooks)).keys()]).toEqual(expect.arrayContaining(users));
  });

  it('claims without reading the events held behind retried streams (statistics taken on an empty outbox)', async () => {
    const outbox = stores.all.webhooks;
    await drain(outbox);
    const db = dbOf(stores.all);
    await db.unprepared(statement('analyze sm_webhook, sm_webhook_stream'));
    await db.unprepared(BACKLOG, { streams: 2_000, each: 10 });
    try {
      const users = [uid(), uid(), uid()];
      await stores.all.send(msg(), { userIds: users });
      const o = { now: new Date(), streams: 10, perStream: 10, leaseMs: 30_000 };
      let plan: PlanNode | undefined;
      const rollback = new Error('rollback');
      await db
        .tx(async (sql) => {
          plan = (await sql(EXPLAIN_CLAIM, o))[0]['QUERY PLAN'][0].Plan;
          throw rollback;
        })
        .catch((err: unknown) => {
          if (err !== rollback) throw err;
        });
      // 20,000 events wait behind the held streams; the claim reads the three due streams' six events
      // (twice: the lease's last one, then the events). Stream rows it may scan: a small table is read whole.
      const events = nodes(plan!)
        .filter((n) => n['Relation Name'] === 'sm_webhook')
        .reduce((sum, n) => sum + ((n['Actual Rows'] ?? 0) + (n['Rows Removed by Filter'] ?? 0)) * (n['Actual Loops'] ?? 1), 0);
      expect(events).toBeLessThanOrEqual(12);
      expect((await outbox.claim(o)).map((x) => x.stream).sort()).toEqual([...users].sort());
    } finally {
      await db.unprepared(DROP_BACKLOG);
      await drain(outbox);
    }
  });

  it('an acknowledgement that empties a stream while a change adds to it leaves the new event claimable', async () => {
    const outbox = stores.all.webhooks;
    await drain(outbox);
    const a = uid();
    await stores.all.send(msg(), { userIds: [a] });
    const [claimed] = await outbox.claim({ now: new Date(), streams: 10, perStream: 10, leaseMs: 30_000 });
    // Another transaction writes a's next event and has not committed when the acknowledgement runs.
    const writer = new pg.Client({ connectionString: db.url });
    await writer.connect();
    try {
      await writer.query('begin');
      const body = { type: 'INBOX_SEEN', userId: a, messageIds: [], unreadCount: 0, unseenCount: 0, until: null, category: null, broadcast: false };
      await writer.query(RECORD_WEBHOOKS.text, bind(RECORD_WEBHOOKS, { bodies: JSON.stringify([body]) }));
      const acknowledged = outbox.acknowledge(claimed.items.map((i) => i.event.id));
      await new Promise((resolve) => setTimeout(resolve, 200));
      await writer.query('commit');
      await acknowledged;
    } finally {
      await writer.end();
    }
    const [next] = await outbox.claim({ now: new Date(), streams: 10, perStream: 10, leaseMs: 30_000 });
    expect(next.stream).toBe(a);
    expect(next.items.map((i) => i.event.type)).toEqual(['INBOX_SEEN']);
    await drain(outbox);
  });
});

describe('PostgreSQL webhook outbox: a change and its events commit together or not at all', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let proxy: TcpProxy;
  let store: Storage;
  let direct: Storage;
  beforeAll(async () => {
    db = await createTestDatabase();
    proxy = await startTcpProxy(db.url, 5432);
    store = await openStorage(loadConfig({ NODE_ENV: 'test', DATABASE_URL: proxy.url, LOG_LEVEL: 'silent' }), { logger, webhookSignals: ALL_SIGNALS });
    direct = await openStorage(loadConfig({ NODE_ENV: 'test', DATABASE_URL: db.url, LOG_LEVEL: 'silent' }), { logger, webhookSignals: ALL_SIGNALS });
  });
  afterAll(async () => {
    await store?.close();
    await direct?.close();
    await proxy?.close();
    await db?.drop();
  });

  /** Runs `change` with the connection cut as its events are about to be written: it fails, and the database must not have it. */
  async function cutWhileWriting(change: () => Promise<unknown>): Promise<void> {
    (store as unknown as { db: Db }).db.onStatement = (text) => {
      if (text === RECORD_WEBHOOKS.text) proxy.cut();
    };
    try {
      await expect(change()).rejects.toThrow();
    } finally {
      (store as unknown as { db: Db }).db.onStatement = undefined;
      proxy.restore();
    }
  }

  it.each([
    ['a send', async (a: string) => void (await store.send(msg({ text: 'lost' }), { userIds: [a] }))],
    ['a mark-all-read', async (a: string) => void (await store.markAllRead(a, new Date(), null))],
    ['a delete', async (a: string, id: string) => void (await store.deleteMessages(a, [id]))],
  ])('%s cut before its commit leaves neither the change nor its events', async (_, change) => {
    const a = uid();
    const kept = await direct.send(msg({ text: 'kept' }), { userIds: [a] });
    await drain(direct.webhooks);
    await cutWhileWriting(() => change(a, kept.message.id));
    expect(await idsOf(direct, a)).toEqual([kept.message.id]);
    expect(await direct.counts(a)).toMatchObject({ total: 1, unread: 1 });
    expect(await direct.webhooks.pending()).toBe(0);
    // The same operation through the restored connection commits both.
    await change(a, kept.message.id);
    expect((await takeWritten(direct.webhooks)).get(a)?.length).toBeGreaterThan(0);
  });
});

import type { MikroORM } from '@mikro-orm/postgresql';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startEmbeddedDatabase } from '../../src/storage/embedded.js';
import { openStorage } from '../../src/storage/index.js';
import { msg } from './contract.js';
import { DeliveryEntity, IdempotencyEntity } from '../../src/storage/orm/entities.js';

/** The embedded PGlite as npm start runs it: node-postgres speaking to it through an in-process wire. */
describe('embedded PGlite', () => {
  it('keeps the messages on disk under DATA_DIR, across a restart', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'sm-embedded-'));
    const open = () => openStorage(loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, LOG_LEVEL: 'silent' }), { logger: pino({ level: 'silent' }) });
    try {
      let store = await open();
      const sent = await store.send(msg({ text: 'kept on disk' }), { userIds: ['disk-a'] });
      await store.close();
      store = await open();
      try {
        expect(await store.unreadCount('disk-a')).toBe(1);
        expect((await store.get('disk-a', sent.message.id))?.text).toBe('kept on disk');
      } finally {
        await store.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 90_000); // PGlite starts slowly on a busy machine

  it('starts each connection of the preparing pool clean: no transaction or prepared statement of an earlier one', async () => {
    const embedded = await startEmbeddedDatabase(null);
    const connect = async () => {
      const c = new pg.Client({ connectionString: embedded.url, stream: embedded.preparingStream });
      await c.connect();
      return c;
    };
    try {
      const a = await connect();
      await a.query('create table t (v int)');
      await a.query('begin');
      await a.query({ name: 'ins', text: 'insert into t values ($1)', values: [1] });
      // A dropped connection, mid-transaction.
      await a.end();

      const b = await connect();
      try {
        // Its transaction was rolled back, and the name can be prepared again.
        expect((await b.query({ name: 'ins', text: 'insert into t values ($1)', values: [2] })).rowCount).toBe(1);
        expect((await b.query('select v from t')).rows).toEqual([{ v: 2 }]);
        // An error answers as PostgreSQL's would and leaves the connection usable.
        await expect(b.query('select * from no_such_table')).rejects.toMatchObject({ code: '42P01' });
        expect((await b.query({ name: 'n', text: 'select $1::int + 1 as n', values: [41] })).rows).toEqual([{ n: 42 }]);
      } finally {
        await b.end();
      }
    } finally {
      await embedded.close();
    }
  }, 90_000);

  it("keeps one connection's transaction whole while another runs, and the other's prepared statements alive", async () => {
    const embedded = await startEmbeddedDatabase(null);
    const orm = new pg.Client({ connectionString: embedded.url, stream: embedded.stream });
    const store = new pg.Client({ connectionString: embedded.url, stream: embedded.preparingStream });
    await Promise.all([orm.connect(), store.connect()]);
    try {
      await orm.query('create table t (v int)');
      expect((await store.query({ name: 'count', text: 'select count(*)::int as n from t', values: [] })).rows).toEqual([{ n: 0 }]);
      await orm.query('begin');
      await orm.query('insert into t values (1)');
      // The store's statement waits for the transaction: it neither runs inside it nor sees its row.
      const waiting = store.query({ name: 'count', text: 'select count(*)::int as n from t', values: [] });
      await new Promise((resolve) => setTimeout(resolve, 50));
      await orm.query('rollback');
      expect((await waiting).rows).toEqual([{ n: 0 }]);
      // A new connection of the non-preparing pool leaves the store's prepared statement in place.
      const another = new pg.Client({ connectionString: embedded.url, stream: embedded.stream });
      await another.connect();
      await another.end();
      expect((await store.query({ name: 'count', text: 'select count(*)::int as n from t', values: [] })).rows).toEqual([{ n: 0 }]);
    } finally {
      await Promise.all([orm.end(), store.end()]);
      await embedded.close();
    }
  }, 90_000);

  it("runs MikroORM's EntityManager transactions beside the store's sends and reads, each seeing the other's committed data", async () => {
    const store = await openStorage(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' }), { logger: pino({ level: 'silent' }), embeddedInMemory: true });
    const em = (store as unknown as { orm: MikroORM }).orm.em.fork();
    const user = 'em-beside';
    const rollback = new Error('rolled back on purpose');
    try {
      const storeSide = (async () => {
        for (let i = 0; i < 40; i++) {
          await store.send(msg({ text: `beside ${i}` }), { userIds: [user] });
          expect(await store.unreadCount(user)).toBe(i + 1);
        }
      })();
      const ormSide = (async () => {
        for (let i = 0; i < 20; i++) {
          // Kept: a committed row per round. Thrown away: a row written and rolled back, with a wait in between
          // (were the store's statements to run inside it, its sends would be rolled back too).
          await em.fork().transactional(async (tx) => {
            tx.create(IdempotencyEntity, { scope: 'em-beside', key: `kept-${i}`, fingerprint: 'f' });
            await tx.flush();
            await tx.count(DeliveryEntity, { userId: user });
          });
          await em
            .fork()
            .transactional(async (tx) => {
              tx.create(IdempotencyEntity, { scope: 'em-beside', key: `gone-${i}`, fingerprint: 'f' });
              await tx.flush();
              await new Promise((resolve) => setTimeout(resolve, 5));
              throw rollback;
            })
            .catch((err: unknown) => {
              if (err !== rollback) throw err;
            });
        }
      })();
      await Promise.all([storeSide, ormSide]);
      expect(await em.fork().count(DeliveryEntity, { userId: user })).toBe(40);
      expect(await em.fork().count(IdempotencyEntity, { scope: 'em-beside' })).toBe(20);
      expect(await store.unreadCount(user)).toBe(40);
      expect((await store.list(user, { unreadOnly: false, filter: {}, direction: 'forward', limit: 100, cursor: null })).totalCount).toBe(40);
    } finally {
      await store.close();
    }
  }, 120_000);
});

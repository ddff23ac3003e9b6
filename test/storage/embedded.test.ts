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

  it('starts each connection clean: no transaction or prepared statement of an earlier one', async () => {
    const embedded = await startEmbeddedDatabase(null);
    const connect = async () => {
      const c = new pg.Client({ connectionString: embedded.url, stream: embedded.stream });
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
});

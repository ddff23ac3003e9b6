import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { printedSchema } from '../src/graphql/schema.js';
import { openStorage } from '../src/storage/index.js';
import { startEmbeddedDatabase } from '../src/storage/embedded.js';
import { ormOptions } from '../src/storage/orm/orm-config.js';
import { createTestDatabase } from './harness.js';

/**
 * The schema is an artifact under review: schema.graphql matches the code, and the migrations build
 * exactly what the entities describe. (The served schema against CONTRACT.md §4: test/graphql/contract-schema.test.ts.)
 */

const repoRoot = path.resolve(fileURLToPath(new URL('..', import.meta.url)));

describe('schema.graphql', () => {
  it('is the printed schema of the code (run `npm run schema:print` after a schema change)', () => {
    expect(readFileSync(path.join(repoRoot, 'schema.graphql'), 'utf8')).toBe(printedSchema());
  });
});

describe('migrations agree with the entities', () => {
  /** Applies every migration to an empty database, then asks MikroORM what it would still change. */
  async function pendingChanges(database: Parameters<typeof ormOptions>[0], poolMax: number) {
    const orm = await MikroORM.init(ormOptions(database, { poolMax }));
    try {
      await orm.getMigrator().up();
      return {
        migrationNeeded: await orm.getMigrator().checkMigrationNeeded(),
        diff: await orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false }),
        orm,
      };
    } catch (err) {
      await orm.close(true);
      throw err;
    }
  }

  it('on PostgreSQL: nothing left to migrate after applying the migrations (and a drift is seen)', async () => {
    const db = await createTestDatabase();
    try {
      const { migrationNeeded, diff, orm } = await pendingChanges(db.url, 2);
      try {
        expect(migrationNeeded).toBe(false);
        expect(diff.trim()).toBe('');
        // The check can fail: a drifted index shows up.
        const c = new pg.Client({ connectionString: db.url });
        await c.connect();
        await c.query('drop index sm_delivery_user_expires_idx');
        await c.end();
        expect(await orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false })).toMatch(/sm_delivery_user_expires_idx/);
      } finally {
        await orm.close(true);
      }
    } finally {
      await db.drop();
    }
  });

  it('on PostgreSQL: every index the migrations build is the one the entities declare, partial ones included', async () => {
    // MikroORM compares expression indexes by name only, so a WHERE clause that differs goes unseen by
    // the diff above: compare PostgreSQL's own definitions of a migrated database and of one created
    // from the entities.
    const indexes = async (url: string) => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        const { rows } = await c.query<{ def: string }>("select indexdef as def from pg_indexes where schemaname = 'public' and tablename like 'sm\\_%' and tablename <> 'sm_migrations' order by indexname");
        return rows.map((r) => r.def);
      } finally {
        await c.end();
      }
    };
    const [migrated, created] = [await createTestDatabase(), await createTestDatabase()];
    try {
      const a = await MikroORM.init(ormOptions(migrated.url, { poolMax: 1 }));
      await a.getMigrator().up().finally(() => a.close(true));
      const b = await MikroORM.init(ormOptions(created.url, { poolMax: 1 }));
      await b.getSchemaGenerator().createSchema().finally(() => b.close(true));
      const fromMigrations = await indexes(migrated.url);
      expect(fromMigrations).toEqual(await indexes(created.url));
      expect(fromMigrations).toContain('CREATE INDEX sm_delivery_unread_idx ON public.sm_delivery USING btree (user_id, message_id) WHERE ((read_at IS NULL) AND (snoozed_until IS NULL))');
    } finally {
      await migrated.drop();
      await created.drop();
    }
  });

  it('on the embedded PGlite: nothing left to migrate after applying the migrations', async () => {
    const embedded = await startEmbeddedDatabase(null);
    try {
      const { migrationNeeded, diff, orm } = await pendingChanges(embedded, 1);
      await orm.close(true);
      expect(migrationNeeded).toBe(false);
      expect(diff.trim()).toBe('');
    } finally {
      await embedded.close();
    }
  }, 90_000); // PGlite starts slowly on a busy machine
});

describe('upgrading a database to inbox states', () => {
  /** What the store wrote before inbox states, written here directly: the statements of that time are gone. */
  const BEFORE_STATES = `
    with m as (
      insert into sm_message (level, text, created_at, expires_at, broadcast)
      select 20, 'm' || g, now(), now() + interval '1 day', g = 5 from generate_series(1, 5) g
      returning id, level, created_at, delivered_at, expires_at, broadcast, text
    ), u as (
      insert into sm_user (id, bcast_id, unread_count, total_count, read_upto)
      select 'old-user', 0, 2, 4, (select id from m where text = 'm2')
    ), k as (
      insert into sm_read_mark (user_id, upto, at) select 'old-user', id, '2026-01-02T03:04:05Z' from m where text = 'm2'
    ), d as (
      insert into sm_delivery (user_id, message_id, level, created_at, delivered_at, expires_at, read_at)
      select 'old-user', id, level, created_at, delivered_at, expires_at, case when text = 'm1' then '2026-01-01T00:00:00Z'::timestamptz end
      from m where not broadcast
    )
    select id::text as id from m order by id`;

  it('keeps every message: unseen exactly when unread, nothing archived or snoozed, counts right', async () => {
    const db = await createTestDatabase();
    try {
      const orm = await MikroORM.init(ormOptions(db.url, { poolMax: 1 }));
      let m: string[];
      try {
        await orm.getMigrator().up({ to: 'Migration20261207003426' });
        const c = new pg.Client({ connectionString: db.url });
        await c.connect();
        m = (await c.query<{ id: string }>(BEFORE_STATES)).rows.map((r) => r.id);
        await c.end();
      } finally {
        await orm.close(true);
      }
      // The store's start runs the pending migration, as `npm run migrate` does.
      const store = await openStorage(loadConfig({ NODE_ENV: 'test', DATABASE_URL: db.url, LOG_LEVEL: 'silent' }), { logger: pino({ level: 'silent' }) });
      try {
        const user = 'old-user';
        // m1 read, m2 read by mark-all-read, m3 and m4 unread, m5 a broadcast not yet copied to the user.
        expect(await store.counts(user)).toEqual({ total: 5, unread: 3, unseen: 3, archived: 0, snoozed: 0 });
        const [m1, m2] = [await store.get(user, m[0]), await store.get(user, m[1])];
        expect(m1).toMatchObject({ readAt: new Date('2026-01-01T00:00:00Z'), seenAt: new Date('2026-01-01T00:00:00Z'), archivedAt: null, snoozedUntil: null });
        expect(m2).toMatchObject({ readAt: new Date('2026-01-02T03:04:05Z'), seenAt: new Date('2026-01-02T03:04:05Z'), archivedAt: null });
        const unseen = await store.list(user, { unreadOnly: false, filter: { seen: false }, direction: 'forward', limit: 10, cursor: null });
        expect(unseen.items.map((i) => i.message.id)).toEqual([m[4], m[3], m[2]]);
        expect((await store.setRead(user, [m[1]], false)).counts).toEqual({ total: 5, unread: 4, unseen: 3, archived: 0, snoozed: 0 });
        expect((await store.get(user, m[1]))?.seenAt).toEqual(new Date('2026-01-02T03:04:05Z'));
        expect(await store.archiveAll(user, new Date(Date.now() + 1000), false)).toEqual({ count: 5, counts: { total: 5, unread: 0, unseen: 0, archived: 5, snoozed: 0 } });
      } finally {
        await store.close();
      }
    } finally {
      await db.drop();
    }
  });
});

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { printedSchema } from '../src/graphql/schema.js';
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

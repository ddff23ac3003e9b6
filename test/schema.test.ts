import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import {
  buildSchema,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isNonNullType,
  isObjectType,
  isScalarType,
  isUnionType,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { getSchema, printedSchema } from '../src/graphql/schema.js';
import { startEmbeddedDatabase } from '../src/storage/embedded.js';
import { ormOptions } from '../src/storage/orm/orm-config.js';
import { createTestDatabase } from './harness.js';

/**
 * The schema is part of the contract: schema.graphql matches the code, every name and type of
 * CONTRACT.md §4 (copied in test/fixtures/contract-schema.graphql) is in it exactly, and the
 * migrations build exactly what the entities describe.
 */

const repoRoot = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
// A hand-kept copy of CONTRACT.md §4's SDL inside the repository, so a fresh clone tests alone.
const contractPath = path.join(repoRoot, 'test/fixtures/contract-schema.graphql');

const isBuiltIn = (name: string) => name.startsWith('__') || ['String', 'Int', 'Float', 'Boolean', 'ID'].includes(name);
const kindOf = (t: GraphQLNamedType) =>
  isObjectType(t) ? 'type' : isInterfaceType(t) ? 'interface' : isInputObjectType(t) ? 'input' : isEnumType(t) ? 'enum' : isScalarType(t) ? 'scalar' : isUnionType(t) ? 'union' : '?';

/** Every difference between a contract type and ours; [] when ours has it exactly (more may be added). */
function differences(contract: GraphQLNamedType, ours: GraphQLNamedType | undefined | null): string[] {
  if (!ours) return [`${contract.name}: missing`];
  if (kindOf(ours) !== kindOf(contract)) return [`${contract.name}: is ${kindOf(ours)}, contract says ${kindOf(contract)}`];
  const out: string[] = [];
  if (isEnumType(contract) && isEnumType(ours)) {
    const values = new Set(ours.getValues().map((v) => v.name));
    for (const v of contract.getValues()) if (!values.has(v.name)) out.push(`${contract.name}.${v.name}: missing enum value`);
  }
  if ((isObjectType(contract) || isInterfaceType(contract)) && (isObjectType(ours) || isInterfaceType(ours))) {
    const ourInterfaces = new Set(ours.getInterfaces().map((i) => i.name));
    for (const i of contract.getInterfaces()) if (!ourInterfaces.has(i.name)) out.push(`${contract.name}: does not implement ${i.name}`);
    const fields = ours.getFields();
    for (const f of Object.values(contract.getFields())) out.push(...fieldDifferences(`${contract.name}.${f.name}`, f, fields[f.name]));
  }
  if (isInputObjectType(contract) && isInputObjectType(ours)) {
    const fields = ours.getFields();
    for (const f of Object.values(contract.getFields())) {
      const o = fields[f.name];
      if (!o) out.push(`${contract.name}.${f.name}: missing input field`);
      else if (String(o.type) !== String(f.type)) out.push(`${contract.name}.${f.name}: is ${o.type}, contract says ${f.type}`);
    }
    for (const o of Object.values(fields)) {
      if (!contract.getFields()[o.name] && isNonNullType(o.type) && o.defaultValue === undefined) out.push(`${contract.name}.${o.name}: extra input field must be optional`);
    }
  }
  return out;
}

function fieldDifferences(name: string, contract: GraphQLField<unknown, unknown>, ours: GraphQLField<unknown, unknown> | undefined): string[] {
  if (!ours) return [`${name}: missing field`];
  const out: string[] = [];
  if (String(ours.type) !== String(contract.type)) out.push(`${name}: is ${ours.type}, contract says ${contract.type}`);
  for (const a of contract.args) {
    const o = ours.args.find((x) => x.name === a.name);
    if (!o) out.push(`${name}(${a.name}): missing argument`);
    else if (String(o.type) !== String(a.type)) out.push(`${name}(${a.name}): is ${o.type}, contract says ${a.type}`);
  }
  for (const o of ours.args) {
    if (!contract.args.some((a) => a.name === o.name) && isNonNullType(o.type) && o.defaultValue === undefined) out.push(`${name}(${o.name}): extra argument must be optional`);
  }
  return out;
}

describe('schema.graphql', () => {
  it('is the printed schema of the code (run `npm run schema:print` after a schema change)', () => {
    expect(readFileSync(path.join(repoRoot, 'schema.graphql'), 'utf8')).toBe(printedSchema());
  });
});

describe('CONTRACT.md §4', () => {
  const contract: GraphQLSchema = buildSchema(readFileSync(contractPath, 'utf8'));
  const ours = getSchema();
  const types = Object.values(contract.getTypeMap()).filter((t) => !isBuiltIn(t.name));

  it('parses into the types the contract names', () => {
    expect(types.map((t) => t.name)).toEqual(expect.arrayContaining(['Query', 'Mutation', 'Subscription', 'Message', 'MessageConnection', 'InboxEvent']));
  });

  it('has the same root operation types', () => {
    expect(ours.getQueryType()?.name).toBe(contract.getQueryType()?.name);
    expect(ours.getMutationType()?.name).toBe(contract.getMutationType()?.name);
    expect(ours.getSubscriptionType()?.name).toBe(contract.getSubscriptionType()?.name);
  });

  it.each(types.map((t) => [`${kindOf(t)} ${t.name}`, t] as const))('%s is in our schema exactly', (_, t) => {
    expect(differences(t, ours.getType(t.name))).toEqual([]);
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
      expect(fromMigrations).toContain('CREATE INDEX sm_delivery_unread_idx ON public.sm_delivery USING btree (user_id, message_id) WHERE (read_at IS NULL)');
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

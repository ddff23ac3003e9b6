import { readFileSync } from 'node:fs';
import {
  buildClientSchema, buildSchema, getIntrospectionQuery, isEnumType, isInputObjectType, isInterfaceType, isNonNullType, isObjectType,
  type GraphQLSchema, type IntrospectionQuery,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, dataOf, startTestApp, type TestApp } from '../harness.js';

/**
 * CONTRACT.md §4 (its hand-kept copy in test/fixtures, shared with test/schema.test.ts): "the names and
 * types below must appear exactly; more may be added". Nullability is part of a type: a client
 * generated from the contract relies on it.
 */
const CONTRACT_SDL = readFileSync(new URL('../fixtures/contract-schema.graphql', import.meta.url), 'utf8');

/** Every way the served schema departs from the contract (missing names, different types). */
function differences(contract: GraphQLSchema, served: GraphQLSchema): string[] {
  const out: string[] = [];
  for (const type of Object.values(contract.getTypeMap())) {
    if (type.name.startsWith('__') || ['String', 'Int', 'Float', 'Boolean', 'ID'].includes(type.name)) continue;
    const mine = served.getType(type.name);
    if (!mine) {
      out.push(`${type.name}: missing`);
      continue;
    }
    if (mine.constructor.name !== type.constructor.name) out.push(`${type.name}: is a ${mine.constructor.name}, not a ${type.constructor.name}`);
    if ((isObjectType(type) || isInterfaceType(type)) && (isObjectType(mine) || isInterfaceType(mine))) {
      for (const i of type.getInterfaces()) if (!mine.getInterfaces().some((m) => m.name === i.name)) out.push(`${type.name}: does not implement ${i.name}`);
      const fields = mine.getFields();
      for (const f of Object.values(type.getFields())) {
        const m = fields[f.name];
        if (!m) out.push(`${type.name}.${f.name}: missing`);
        else if (String(m.type) !== String(f.type)) out.push(`${type.name}.${f.name}: ${m.type}, contract says ${f.type}`);
        for (const a of f.args) {
          const ma = m?.args.find((x) => x.name === a.name);
          if (m && !ma) out.push(`${type.name}.${f.name}(${a.name}): missing`);
          else if (ma && String(ma.type) !== String(a.type)) out.push(`${type.name}.${f.name}(${a.name}): ${ma.type}, contract says ${a.type}`);
        }
        for (const ma of m?.args ?? []) {
          if (!f.args.some((a) => a.name === ma.name) && isNonNullType(ma.type)) out.push(`${type.name}.${f.name}(${ma.name}): extra required argument`);
        }
      }
    }
    if (isInputObjectType(type) && isInputObjectType(mine)) {
      const fields = mine.getFields();
      for (const f of Object.values(type.getFields())) {
        if (!fields[f.name]) out.push(`${type.name}.${f.name}: missing`);
        else if (String(fields[f.name].type) !== String(f.type)) out.push(`${type.name}.${f.name}: ${fields[f.name].type}, contract says ${f.type}`);
      }
      for (const m of Object.values(fields)) {
        if (!type.getFields()[m.name] && isNonNullType(m.type)) out.push(`${type.name}.${m.name}: extra required input field`);
      }
    }
    if (isEnumType(type) && isEnumType(mine)) {
      for (const v of type.getValues()) if (!mine.getValue(v.name)) out.push(`${type.name}.${v.name}: missing`);
    }
  }
  for (const root of ['Query', 'Mutation', 'Subscription'] as const) {
    const want = root === 'Query' ? contract.getQueryType() : root === 'Mutation' ? contract.getMutationType() : contract.getSubscriptionType();
    const got = root === 'Query' ? served.getQueryType() : root === 'Mutation' ? served.getMutationType() : served.getSubscriptionType();
    if (want && got?.name !== want.name) out.push(`${root} root: ${got?.name ?? 'none'}`);
  }
  return out;
}

describe.each(BACKENDS)('the served schema on %s', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(backend);
  });
  afterAll(async () => t?.close());

  it('has every name and type of CONTRACT.md §4, nullability included', async () => {
    const { token } = await t.userToken();
    const served = buildClientSchema(dataOf<IntrospectionQuery>(await t.gql(token, getIntrospectionQuery())));
    expect(differences(buildSchema(CONTRACT_SDL), served)).toEqual([]);
  });
});

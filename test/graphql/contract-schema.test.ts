import { readFileSync } from 'node:fs';
import {
  buildClientSchema,
  buildSchema,
  getIntrospectionQuery,
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
  type IntrospectionQuery,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataOf, startTestApp, type TestApp } from '../harness.js';

/**
 * CONTRACT.md §4, §8 and §9 (their hand-kept copy in test/fixtures): "the names and types below must appear
 * exactly; more may be added". Checked once, on the schema a client sees by introspection over HTTP:
 * the schema does not depend on the storage backend. Nullability is part of a type: a client
 * generated from the contract relies on it.
 */
const contract: GraphQLSchema = buildSchema(readFileSync(new URL('../fixtures/contract-schema.graphql', import.meta.url), 'utf8'));

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

describe('the served schema against CONTRACT.md §4, §8 and §9', () => {
  const types = Object.values(contract.getTypeMap()).filter((t) => !isBuiltIn(t.name));
  let t: TestApp;
  let served: GraphQLSchema;
  beforeAll(async () => {
    t = await startTestApp('postgres');
    const { token } = await t.userToken();
    served = buildClientSchema(dataOf<IntrospectionQuery>(await t.gql(token, getIntrospectionQuery())));
  });
  afterAll(async () => t?.close());

  it('parses into the types the contract names', () => {
    expect(types.map((type) => type.name)).toEqual(expect.arrayContaining(['Query', 'Mutation', 'Subscription', 'Message', 'MessageConnection', 'InboxEvent']));
  });

  it('has the same root operation types', () => {
    expect(served.getQueryType()?.name).toBe(contract.getQueryType()?.name);
    expect(served.getMutationType()?.name).toBe(contract.getMutationType()?.name);
    expect(served.getSubscriptionType()?.name).toBe(contract.getSubscriptionType()?.name);
  });

  it.each(types.map((type) => [`${kindOf(type)} ${type.name}`, type] as const))('%s is served exactly', (_, type) => {
    expect(differences(type, served.getType(type.name))).toEqual([]);
  });
});

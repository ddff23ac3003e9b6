import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { builder } from './builder.js';
import { subscribeWithFieldArguments } from './execution.js';
import './scalars.js';
import './message.schema.js';
import './mutation.schema.js';
import './subscription.schema.js';

let schema: GraphQLSchema | undefined;

/** The executable schema, built once (Pothos builders are single-use). */
export function getSchema(): GraphQLSchema {
  schema ??= subscribeWithFieldArguments(builder.toSchema({ sortSchema: true }));
  return schema;
}

/** What `schema.graphql` holds: the schema printed sorted. */
export function printedSchema(): string {
  return `${printSchema(lexicographicSortSchema(getSchema()))}\n`;
}

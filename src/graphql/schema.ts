import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { subscribeWithFieldArguments } from './execution.js';
import { publicSchema, subgraphSchema, subgraphSdl } from './federation.js';
import './scalars.js';
import './message.schema.js';
import './mutation.schema.js';
import './inbox-states.schema.js';
import './schedule.schema.js';
import './retract.schema.js';
import './subscription.schema.js';
import './user.schema.js';
import './preferences.schema.js';

let schema: GraphQLSchema | undefined;

/** The executable schema, a federation subgraph, built once (Pothos builders are single-use). */
export function getSchema(): GraphQLSchema {
  schema ??= subscribeWithFieldArguments(subgraphSchema());
  return schema;
}

/** What `schema.graphql` holds: the public schema (without federation's fields) printed sorted. */
export function printedSchema(): string {
  return `${printSchema(lexicographicSortSchema(publicSchema(getSchema())))}\n`;
}

/** The subgraph SDL, with federation's directives: `npm run schema:print -- --federation`. */
export const printedSubgraphSchema = (): string => subgraphSdl(getSchema());

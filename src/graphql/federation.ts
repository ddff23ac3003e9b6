import { printSubgraphSchema } from '@apollo/subgraph';
import { GraphQLObjectType, GraphQLSchema, isUnionType, type GraphQLFieldResolver } from 'graphql';
import { badInput } from '../domain/errors.js';
import { LIMITS } from '../domain/validate.js';
import { builder } from './builder.js';
import { costPerRepresentation, DOCUMENT_LIMITS } from './document-cost.js';

/**
 * CONTRACT.md §13: the served schema is an Apollo Federation 2 subgraph (the public schema plus
 * `_service` and `_entities`); schema.graphql stays the public schema.
 */

/** The root fields federation adds to Query. */
const FEDERATION_FIELDS = new Set(['_entities', '_service']);

/**
 * The most representations one `_entities` call may resolve: each is a storage read, and the answer
 * size bound (document-cost.ts) counts a list without a page size as this many items.
 */
export const MAX_REPRESENTATIONS = LIMITS.pageSize;

/** The served, executable schema: the public one, `_service { sdl }` with its `@link` to Federation v2, and `_entities`. */
export function subgraphSchema(): GraphQLSchema {
  const schema = builder.toSubGraphSchema({ sortSchema: true });
  const entities = schema.getQueryType()?.getFields()._entities;
  if (entities?.resolve) entities.resolve = refusingMalformedRepresentations(entities.resolve, schema);
  return schema;
}

/** The subgraph SDL a gateway composes (what `_service { sdl }` answers). */
export const subgraphSdl = (schema: GraphQLSchema): string => printSubgraphSchema(schema);

/** `schema` without what federation adds: what clients of this server alone see, and schema.graphql holds. */
export function publicSchema(schema: GraphQLSchema): GraphQLSchema {
  const query = schema.getQueryType();
  if (!query) return schema;
  const config = query.toConfig();
  const fields = Object.fromEntries(Object.entries(config.fields).filter(([name]) => !FEDERATION_FIELDS.has(name)));
  // Types reachable from the roots only: the entities that only `_entities` reaches (User) go with it.
  return new GraphQLSchema({
    query: new GraphQLObjectType({ ...config, fields }),
    mutation: schema.getMutationType(),
    subscription: schema.getSubscriptionType(),
  });
}

/**
 * @apollo/subgraph reads `__typename` from each representation and fails with an internal error when
 * it names no entity; a representation is the caller's input, so a malformed one is BAD_USER_INPUT
 * naming it, and nothing is resolved. So are more representations than the document's cost allows
 * (the cost rule counts what one costs; their number is known only here).
 */
function refusingMalformedRepresentations<S, C>(resolve: GraphQLFieldResolver<S, C>, schema: GraphQLSchema): GraphQLFieldResolver<S, C> {
  const entity = schema.getType('_Entity');
  const entityNames = new Set(isUnionType(entity) ? entity.getTypes().map((t) => t.name) : []);
  return (source, args: { representations?: unknown[] }, ctx, info) => {
    const representations = args.representations ?? [];
    if (representations.length > MAX_REPRESENTATIONS) throw badInput('representations', `must list at most ${MAX_REPRESENTATIONS}`);
    // Unknown only if the document skipped validation: then one representation may take the whole budget.
    const each = costPerRepresentation.get(info.fieldNodes[0]) ?? DOCUMENT_LIMITS.cost;
    if (representations.length * each > DOCUMENT_LIMITS.cost) {
      throw badInput('representations', `${representations.length} representations cost ${representations.length * each} with this selection; at most ${DOCUMENT_LIMITS.cost} allowed`);
    }
    representations.forEach((r, i) => {
      const { __typename, id } = (typeof r === 'object' && r !== null ? r : {}) as Record<string, unknown>;
      if (typeof __typename !== 'string' || !entityNames.has(__typename) || typeof id !== 'string') {
        throw badInput(`representations[${i}]`, `must be an object with the __typename of an entity (${[...entityNames].join(', ')}) and its id`);
      }
    });
    return resolve(source, args, ctx, info);
  };
}

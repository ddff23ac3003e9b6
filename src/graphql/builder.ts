import SchemaBuilder from '@pothos/core';
import DirectivesPlugin from '@pothos/plugin-directives';
import FederationPlugin from '@pothos/plugin-federation';
import SimpleObjectsPlugin from '@pothos/plugin-simple-objects';
import type { GraphQLContext } from './context.js';

/** The Pothos builder: it only builds. Types live with their entry points; schema.ts assembles. */
export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  Scalars: {
    DateTime: { Input: Date; Output: Date | string };
    JSON: { Input: unknown; Output: unknown };
    ID: { Input: string; Output: string };
  };
  // Output fields are non-null unless the schema says otherwise (`nullable: true`).
  DefaultFieldNullability: false;
  // CONTRACT.md §13: the schema is also an Apollo Federation 2 subgraph (federation.ts); the federation
  // plugin writes its directives through the directives plugin, so that one comes first.
}>({ plugins: [SimpleObjectsPlugin, DirectivesPlugin, FederationPlugin], defaultFieldNullability: false });

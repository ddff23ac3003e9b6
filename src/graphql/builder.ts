import SchemaBuilder from '@pothos/core';
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
}>({ plugins: [SimpleObjectsPlugin], defaultFieldNullability: false });

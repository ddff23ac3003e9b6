import { getNamedType, Kind, TypeInfo, visit, visitWithTypeInfo, BREAK, type DocumentNode, type GraphQLSchema } from 'graphql';

const VALUES = new Set<string>([Kind.INT, Kind.FLOAT, Kind.STRING, Kind.BOOLEAN, Kind.NULL, Kind.ENUM, Kind.LIST, Kind.OBJECT]);
const known = new WeakMap<DocumentNode, boolean>();

/**
 * Whether a document writes a JSON value inline (`data: { k: $v }` rather than `data: $data`).
 * graphql-jit parses such a literal once, when it compiles the document, without the request's
 * variables (a variable inside came out null) and complains on stderr each time; graphql-js parses
 * it per request with the variables. Remembered per parsed document, which Yoga caches.
 */
export function hasJsonLiteral(schema: GraphQLSchema, document: DocumentNode): boolean {
  const cached = known.get(document);
  if (cached !== undefined) return cached;
  let found = false;
  const typeInfo = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      enter(node) {
        if (!VALUES.has(node.kind)) return undefined;
        const type = typeInfo.getInputType();
        if (!type || getNamedType(type).name !== 'JSON') return undefined;
        found = true;
        return BREAK;
      },
    }),
  );
  known.set(document, found);
  return found;
}

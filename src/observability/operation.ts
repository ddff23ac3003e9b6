import { getOperationAST, Kind, type DocumentNode, type FragmentDefinitionNode } from 'graphql';
import { rootFields } from '../graphql/document-cost.js';
import { maskedCode } from '../graphql/errors.js';

/** How an operation is named in metrics and spans: its type, and its root fields sorted (`addMessageFor`, `messages+unreadCount`). */
export interface OperationName {
  type: 'query' | 'mutation' | 'subscription';
  fields: string;
}

// Yoga caches parsed documents, so each distinct document is walked once.
const names = new WeakMap<DocumentNode, Map<string | null, OperationName>>();

/**
 * The operation's name from the schema's root fields, never from the client's operation name or
 * aliases: a label set the schema bounds (only validated documents are executed).
 */
export function operationName(document: DocumentNode, operationName?: string | null): OperationName {
  let byName = names.get(document);
  if (!byName) names.set(document, (byName = new Map()));
  const key = operationName ?? null;
  let name = byName.get(key);
  if (!name) byName.set(key, (name = nameOf(document, key)));
  return name;
}

function nameOf(document: DocumentNode, operationName: string | null): OperationName {
  const operation = getOperationAST(document, operationName);
  if (!operation) return { type: 'query', fields: 'unknown' };
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const fields = [...new Set(rootFields(operation.selectionSet, (n) => fragments.get(n)).map((f) => f.name.value))].sort();
  return { type: operation.operation, fields: fields.join('+') || 'unknown' };
}

/** `ok`, or the code of the result's first error as the client will see it once masked. */
export function outcomeOf(result: unknown): string {
  const errors = result !== null && typeof result === 'object' && 'errors' in result ? (result as { errors?: readonly unknown[] }).errors : undefined;
  return errors?.length ? maskedCode(errors[0]) : 'ok';
}

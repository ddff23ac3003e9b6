import {
  getOperationAST,
  GraphQLError,
  Kind,
  type ASTVisitor,
  type DocumentNode,
  type FieldNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValueNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { badInput } from '../domain/errors.js';
import { LIMITS } from '../domain/validate.js';

/** Root fields that create messages: one per operation, so one request cannot multiply a send. */
const SENDERS = new Set(['addMessage', 'addMessageFor', 'broadcastMessage']);

/** Root fields taking a list of ids, and where in `input` the list is. */
const ID_LISTS: Record<string, string> = { markRead: 'ids', markUnread: 'ids', deleteMessages: 'ids', addMessageFor: 'userIds' };

/** The root fields an operation selects, through fragments and inline fragments, aliases included. */
function rootFields(set: SelectionSetNode, fragment: (name: string) => { selectionSet: SelectionSetNode } | null | undefined, seen = new Set<string>()): FieldNode[] {
  const out: FieldNode[] = [];
  for (const s of set.selections) {
    if (s.kind === Kind.FIELD) out.push(s);
    else if (s.kind === Kind.INLINE_FRAGMENT) out.push(...rootFields(s.selectionSet, fragment, seen));
    else if (!seen.has(s.name.value)) {
      seen.add(s.name.value);
      const f = fragment(s.name.value);
      if (f) out.push(...rootFields(f.selectionSet, fragment, seen));
    }
  }
  return out;
}

/** At most one message-sending root field per mutation (directives do not matter: @skip could be a variable). */
export function oneSenderRule(context: ValidationContext): ASTVisitor {
  return {
    OperationDefinition(operation) {
      if (operation.operation !== 'mutation') return false;
      const senders = rootFields(operation.selectionSet, (n) => context.getFragment(n)).filter((f) => SENDERS.has(f.name.value));
      if (senders.length > 1) {
        context.reportError(
          new GraphQLError(`A mutation may send one message at most (addMessage, addMessageFor or broadcastMessage): this one has ${senders.length}.`, {
            nodes: senders,
            extensions: { code: 'BAD_USER_INPUT', field: senders[1].alias?.value ?? senders[1].name.value },
          }),
        );
      }
      return false;
    },
  };
}

/** How many items a list argument holds, from the document's literal or the request's variables (a single value counts one). */
function listLength(value: ValueNode | undefined, variables: Record<string, unknown>): number {
  if (!value || value.kind === Kind.NULL) return 0;
  if (value.kind === Kind.LIST) return value.values.length;
  if (value.kind === Kind.VARIABLE) {
    const v = variables[value.name.value];
    return Array.isArray(v) ? v.length : v === undefined || v === null ? 0 : 1;
  }
  return 1;
}

/** The length of `input.<key>` of a root field, whether `input` is a literal object or a variable. */
function idsIn(field: FieldNode, key: string, variables: Record<string, unknown>): number {
  const input = field.arguments?.find((a) => a.name.value === 'input')?.value;
  if (!input) return 0;
  if (input.kind === Kind.OBJECT) return listLength(input.fields.find((f) => f.name.value === key)?.value, variables);
  if (input.kind !== Kind.VARIABLE) return 0;
  const v = variables[input.name.value] as Record<string, unknown> | null | undefined;
  const list = v && typeof v === 'object' ? v[key] : undefined;
  return Array.isArray(list) ? list.length : list === undefined || list === null ? 0 : 1;
}

/** The field of the first root field past the per-operation cap on ids, or null. */
function overIdCap(document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>): string | null {
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  let total = 0;
  for (const field of rootFields(operation.selectionSet, (n) => fragments.get(n))) {
    const key = ID_LISTS[field.name.value];
    if (!key) continue;
    total += idsIn(field, key, variables);
    if (total > LIMITS.ids) return `input.${key}`;
  }
  return null;
}

/**
 * Caps the ids one operation may carry over all its root fields (markRead, markUnread, deleteMessages,
 * addMessageFor's userIds), aliases included, before any of them runs: nothing changes when it is refused.
 */
export function limitIdsPerOperation(): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const operation = getOperationAST(args.document, args.operationName);
      if (operation?.operation !== 'mutation') return;
      const field = overIdCap(args.document, operation, (args.variableValues ?? {}) as Record<string, unknown>);
      if (!field) return;
      const error = badInput(field, `one operation may list at most ${LIMITS.ids} ids over all its fields`);
      setResultAndStopExecution({ errors: [new GraphQLError(error.message, { extensions: { code: error.code, field } })] });
    },
  };
}

import {
  getOperationAST,
  GraphQLError,
  Kind,
  type ASTVisitor,
  type DocumentNode,
  type FieldNode,
  type OperationDefinitionNode,
  type ValidationContext,
  type ValueNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { badInput } from '../domain/errors.js';
import { LIMITS } from '../domain/validate.js';
import { MAX_ANSWER_CHARS } from './answer-limit.js';
import { answerCharsPerId, rootFields } from './document-cost.js';

/** Root fields that create messages: one per operation, so one request cannot multiply a send. */
const SENDERS = new Set(['addMessage', 'addMessageFor', 'broadcastMessage']);

/** Root fields taking a list of ids, and where in `input` the list is. */
const ID_LISTS: Record<string, string> = {
  markRead: 'ids',
  markUnread: 'ids',
  deleteMessages: 'ids',
  markSeen: 'ids',
  archive: 'ids',
  unarchive: 'ids',
  snooze: 'ids',
  unsnooze: 'ids',
  addMessageFor: 'userIds',
};

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

/** The first root field past the per-operation cap on ids, or whose answer could pass the answer limit with that many ids; null when none. */
function overIdCap(document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>): { field: string; message: string } | null {
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  let total = 0;
  let answer = 0;
  for (const field of rootFields(operation.selectionSet, (n) => fragments.get(n))) {
    const key = ID_LISTS[field.name.value];
    if (!key) continue;
    const ids = idsIn(field, key, variables);
    total += ids;
    if (total > LIMITS.ids) return { field: `input.${key}`, message: `one operation may list at most ${LIMITS.ids} ids over all its fields` };
    answer += ids * (answerCharsPerId.get(field) ?? 0);
    if (answer > MAX_ANSWER_CHARS) {
      const mib = Math.round(MAX_ANSWER_CHARS / 1024 / 1024);
      return { field: `input.${key}`, message: `with this many ids the answer could be larger than ${mib} MiB: select fewer fields of the messages, or list fewer ids` };
    }
  }
  return null;
}

/**
 * Caps the ids one operation may carry over all its root fields (markRead, markUnread, deleteMessages,
 * the inbox states' markSeen, archive, unarchive, snooze, unsnooze, addMessageFor's userIds), aliases included, and the answer those ids could make (a payload lists each
 * message it found), before any of them runs: nothing changes when it is refused.
 */
export function limitIdsPerOperation(): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const operation = getOperationAST(args.document, args.operationName);
      if (operation?.operation !== 'mutation') return;
      const over = overIdCap(args.document, operation, (args.variableValues ?? {}) as Record<string, unknown>);
      if (!over) return;
      const error = badInput(over.field, over.message);
      setResultAndStopExecution({ errors: [new GraphQLError(error.message, { extensions: { code: error.code, field: over.field } })] });
    },
  };
}

import {
  getNamedType,
  getNullableType,
  GraphQLError,
  isListType,
  isObjectType,
  isInterfaceType,
  Kind,
  type ASTVisitor,
  type DocumentNode,
  type FieldNode,
  type GraphQLNamedType,
  type SelectionSetNode,
  type ValidationContext,
} from 'graphql';
import { LIMITS } from '../domain/validate.js';

/**
 * What one operation may cost, counted on the document alone (so Yoga's validation cache pays it once
 * per document). A full page of 100 messages with every field is 24 fields costing 1,608, GraphiQL's
 * introspection query 230 fields costing 230: the limits leave room for six full pages in one query.
 */
export const DOCUMENT_LIMITS = {
  /** Fields after expanding every fragment spread, each counted once per place it lands. */
  fields: 1_000,
  /** Fields again, a list's children counted once per item it may hold (its page size). */
  cost: 10_000,
  /** Inline fragments and fragment spreads nested in one another. */
  fragmentNesting: 20,
} as const;

/**
 * The most characters one value of a field may take in an answer: text is 10,000 code points (20,000
 * UTF-16 units), data 16 KiB of JSON, url 2,048 code points; any other value is short.
 */
const LEAF_CHARS: Record<string, number> = { text: 20_000, data: 20_000, url: 4_100, extraTags: 600, tags: 600 };
const SHORT_LEAF_CHARS = 64;

/** The most characters an answer to a document may have, as validated: execution skips measuring the answers that cannot be too big. */
export const answerBounds = new WeakMap<DocumentNode, number>();

/** Items a list without first/last may hold (pendingMessages: 100 stored plus flash). */
const UNPAGED_LIST = 100;

/** Mutations whose payload lists one item per id asked for (messages, notFound, deleted): their answer grows with `input.ids`. */
const PER_ID_PAYLOADS = new Set(['markRead', 'markUnread', 'deleteMessages', 'markSeen', 'archive', 'unarchive', 'snooze', 'unsnooze']);

/** For those root fields: the most characters of answer each listed id may add, checked with the ids' count at execution (operation-limits.ts). */
export const answerCharsPerId = new WeakMap<FieldNode, number>();

/** Federation's root `_entities` field: one item per representation, known from the variables only. */
const ENTITIES = '_entities';

/** For `_entities` fields: what one representation costs, checked with their count at execution (federation.ts). */
export const costPerRepresentation = new WeakMap<FieldNode, number>();

interface Tally {
  fields: number;
  cost: number;
  nesting: number;
  /** The most characters of answer. */
  chars: number;
}

const ZERO: Tally = { fields: 0, cost: 0, nesting: 0, chars: 0 };

const refused = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });

/** The root fields an operation selects, through fragments and inline fragments, aliases included. */
export function rootFields(set: SelectionSetNode, fragment: (name: string) => { selectionSet: SelectionSetNode } | null | undefined, seen = new Set<string>()): FieldNode[] {
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

/** first/last as the page size it asks for: a literal as given (at most the contract's 100), a variable as the most it may be, none the default. */
function pageSize(field: FieldNode): number | null {
  let size: number | null = null;
  for (const arg of field.arguments ?? []) {
    if (arg.name.value !== 'first' && arg.name.value !== 'last') continue;
    const v = arg.value;
    const n = v.kind === Kind.INT ? Math.min(Math.max(Number(v.value), 0), LIMITS.pageSize) : v.kind === Kind.NULL ? LIMITS.defaultPageSize : LIMITS.pageSize;
    size = Math.max(size ?? 0, n);
  }
  return size;
}

/**
 * Refuses, before anything is compiled or run, an operation whose flattened selection is too big
 * (aliases fanned out through nested fragments multiply), too costly once page sizes are counted, or
 * whose fragments nest too deep. Fragments are tallied once per (fragment, page size), so a hostile
 * document costs this rule time in proportion to its length, not to its expansion.
 */
export function documentCostRule(context: ValidationContext): ASTVisitor {
  const schema = context.getSchema();
  const memo = new Map<string, Tally>();
  const inProgress = new Set<string>();

  const fieldsOf = (type: GraphQLNamedType | undefined) => (type && (isObjectType(type) || isInterfaceType(type)) ? type.getFields() : undefined);

  const tallySet = (set: SelectionSetNode, type: GraphQLNamedType | undefined, listSize: number): Tally => {
    const total = { fields: 0, cost: 0, nesting: 0, chars: 0 };
    for (const s of set.selections) {
      let t: Tally;
      if (s.kind === Kind.FIELD) t = tallyField(s, type, listSize);
      else if (s.kind === Kind.INLINE_FRAGMENT) {
        const inner = tallySet(s.selectionSet, s.typeCondition ? schema.getType(s.typeCondition.name.value) ?? undefined : type, listSize);
        t = { ...inner, nesting: inner.nesting + 1 };
      } else t = tallySpread(s.name.value, listSize);
      total.fields += t.fields;
      total.cost += t.cost;
      total.chars += t.chars;
      total.nesting = Math.max(total.nesting, t.nesting);
    }
    return total;
  };

  const tallySpread = (name: string, listSize: number): Tally => {
    const key = `${name}\u0000${listSize}`;
    const known = memo.get(key);
    if (known) return known;
    const fragment = context.getFragment(name);
    // Unknown or cyclic fragments are refused by graphql-js' own rules.
    if (!fragment || inProgress.has(key)) return ZERO;
    inProgress.add(key);
    const inner = tallySet(fragment.selectionSet, schema.getType(fragment.typeCondition.name.value) ?? undefined, listSize);
    inProgress.delete(key);
    const t = { ...inner, nesting: inner.nesting + 1 };
    memo.set(key, t);
    return t;
  };

  const tallyField = (field: FieldNode, parent: GraphQLNamedType | undefined, listSize: number): Tally => {
    const def = fieldsOf(parent)?.[field.name.value];
    if (!field.selectionSet) {
      const items = def && isListType(getNullableType(def.type)) ? (pageSize(field) ?? listSize) : 1;
      return { fields: 1, cost: 1, nesting: 0, chars: items * (LEAF_CHARS[field.name.value] ?? SHORT_LEAF_CHARS) };
    }
    const paged = pageSize(field);
    const ownListSize = paged ?? listSize;
    const inner = tallySet(field.selectionSet, def ? getNamedType(def.type) : undefined, ownListSize);
    // Introspection lists are as long as the schema is, not as the data: they multiply by one.
    const introspection = parent?.name.startsWith('__') ?? false;
    const times = def && isListType(getNullableType(def.type)) && !introspection ? ownListSize : 1;
    // A gateway sends one representation per entity it needs (the caller's User: one): counted per representation at execution.
    const perRepresentation = field.name.value === ENTITIES && parent === schema.getQueryType();
    if (perRepresentation) costPerRepresentation.set(field, inner.cost);
    const costTimes = perRepresentation ? 1 : times;
    return { fields: 1 + inner.fields, cost: 1 + costTimes * inner.cost, nesting: inner.nesting, chars: SHORT_LEAF_CHARS + times * inner.chars };
  };

  let chars = 0;
  return {
    Document: {
      leave(document) {
        answerBounds.set(document, chars);
      },
    },
    OperationDefinition(operation) {
      const root = schema.getRootType(operation.operation) ?? undefined;
      const t = tallySet(operation.selectionSet, root, UNPAGED_LIST);
      chars = Math.max(chars, t.chars);
      if (operation.operation === 'mutation') {
        // One item per list: the payload's lists hold one per id.
        for (const f of rootFields(operation.selectionSet, (n) => context.getFragment(n))) {
          if (PER_ID_PAYLOADS.has(f.name.value)) answerCharsPerId.set(f, tallyField(f, root, 1).chars);
        }
      }
      const name = operation.name ? ` "${operation.name.value}"` : '';
      if (t.nesting > DOCUMENT_LIMITS.fragmentNesting) {
        context.reportError(refused(`Operation${name} nests fragments ${t.nesting} deep; at most ${DOCUMENT_LIMITS.fragmentNesting} allowed.`));
      } else if (t.fields > DOCUMENT_LIMITS.fields) {
        context.reportError(refused(`Operation${name} selects ${t.fields} fields once its fragments are expanded; at most ${DOCUMENT_LIMITS.fields} allowed.`));
      } else if (t.cost > DOCUMENT_LIMITS.cost) {
        context.reportError(refused(`Operation${name} costs ${t.cost} (each list's fields count once per item of its page); at most ${DOCUMENT_LIMITS.cost} allowed.`));
      }
      return false;
    },
  };
}

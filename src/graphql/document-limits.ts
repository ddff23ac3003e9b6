import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { GraphQLError, NoSchemaIntrospectionCustomRule, type ValidationContext, type ValidationRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { documentCostRule } from './document-cost.js';
import { oneSenderRule } from './operation-limits.js';

/** What one document may hold. */
export const ARMOR_LIMITS = { depth: 20, aliases: 50, tokens: 10_000, directives: 50 } as const;

export interface DocumentLimitsOptions {
  /** Answer `__schema` and `__type` (default true); `__typename` is always fine. */
  introspection?: boolean;
}

// Armor reports through the validation context instead of throwing, so a refused document's errors
// are cached with it like any validation result, and carry a code.
const report = (context: ValidationContext | null, error: GraphQLError) =>
  context?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, ''), { extensions: { code: 'BAD_USER_INPUT' } }));
const reporting = { propagateOnRejection: false, onReject: [report] };

/**
 * Limits on documents, checked while parsing (tokens) and validating (the rest): Yoga caches both by
 * document, so a document already seen costs nothing more. Depth counts introspection too, with
 * fragments adding no level (their own nesting is bounded by documentCostRule).
 */
export function documentLimits(o: DocumentLimitsOptions = {}): Plugin[] {
  const rules: ValidationRule[] = [documentCostRule, oneSenderRule];
  if (o.introspection === false) rules.push(NoSchemaIntrospectionCustomRule);
  return [
    EnvelopArmorPlugin({
      maxDepth: { n: ARMOR_LIMITS.depth, flattenFragments: true, ignoreIntrospection: false, ...reporting },
      maxAliases: { n: ARMOR_LIMITS.aliases, ...reporting },
      // The token limit stops the parser, where no validation context exists: it throws a syntax error.
      maxTokens: { n: ARMOR_LIMITS.tokens },
      maxDirectives: { n: ARMOR_LIMITS.directives, ...reporting },
      // Replaced by documentCostRule, which counts page sizes given as variables and by default.
      costLimit: { enabled: false },
    }),
    { onValidate: ({ addValidationRule }) => rules.forEach((rule) => addValidationRule(rule)) },
    refuseNestingPastTheStack(),
  ];
}

const TOO_DEEP = 'Syntax Error: the document nests too deeply to be read.';

/**
 * graphql-js parses and validates recursively: a document nested a few thousand levels (within the
 * token limit) overflows the stack. That is the client's document, not a server error: refused as such.
 */
function refuseNestingPastTheStack(): Plugin {
  return {
    onParse: () => ({ result, replaceParseResult }) => {
      // No code of ours: Yoga answers it as any syntax error, 400 GRAPHQL_PARSE_FAILED.
      if (result instanceof RangeError) replaceParseResult(new GraphQLError(TOO_DEEP));
    },
    onValidate({ validateFn, setValidationFn }) {
      setValidationFn((...args) => {
        try {
          return validateFn(...args);
        } catch (err) {
          if (err instanceof RangeError) return [new GraphQLError(TOO_DEEP, { extensions: { code: 'BAD_USER_INPUT' } })];
          throw err;
        }
      });
    },
  };
}

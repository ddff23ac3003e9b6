import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * graphql-js parses recursively: a document nesting lists, objects or selections a couple of thousand
 * levels deep (a few KiB) overflows the stack, and that RangeError was masked as INTERNAL_SERVER_ERROR.
 * The document is the client's mistake: it is refused as a syntax error (Yoga then answers 400
 * GRAPHQL_PARSE_FAILED, and its parse cache keeps the refusal). Nothing is spent on documents that parse.
 */
export function refuseTooDeepDocuments(): Plugin {
  return {
    onParse() {
      return ({ result, replaceParseResult }) => {
        if (result instanceof RangeError) replaceParseResult(new GraphQLError('Syntax Error: the document is nested too deeply.'));
      };
    },
  };
}

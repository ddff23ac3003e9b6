import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * graphql-js parses value literals recursively, so a literal nested a few thousand levels deep
 * (`[[[[…]]]]`, a few kilobytes and well under any token limit) overflows the stack while parsing.
 * That is the client's document, not a server fault: it is refused with a coded error instead of
 * surfacing as INTERNAL_SERVER_ERROR. Nothing of the document has run at that point.
 */
export function refuseOverflowingDocuments(): Plugin {
  return {
    onParse({ parseFn, setParseFn }) {
      setParseFn((source, options) => {
        try {
          return parseFn(source, options);
        } catch (err) {
          if (!(err instanceof RangeError)) throw err;
          throw new GraphQLError('the document is nested too deeply', { extensions: { code: 'BAD_USER_INPUT', field: 'query' } });
        }
      });
    },
  };
}

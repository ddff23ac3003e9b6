import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { answerBounds } from './document-cost.js';

/** The largest answer an operation may have: six full pages of the longest messages fit. */
export const MAX_ANSWER_CHARS = 16 * 1024 * 1024;

/**
 * Characters of the strings and keys in a result (what dominates its JSON), stopping once past `limit`.
 * Walking the values costs a fraction of serialising them, and runs before any serialised copy exists.
 */
function sizeOf(value: unknown, limit: number): number {
  let size = 0;
  const stack: unknown[] = [value];
  while (stack.length && size <= limit) {
    const v = stack.pop();
    if (typeof v === 'string') size += v.length + 2;
    else if (Array.isArray(v)) {
      size += v.length + 2;
      for (const item of v) stack.push(item);
    } else if (v !== null && typeof v === 'object') {
      if (v instanceof Date) {
        size += 26;
        continue;
      }
      for (const key in v) {
        size += key.length + 4;
        stack.push((v as Record<string, unknown>)[key]);
      }
    } else size += 5;
  }
  return size;
}

/**
 * Refuses an answer larger than `limit` characters with BAD_USER_INPUT and no data, instead of
 * serialising it (hundreds of aliased pages of long messages once built a string past V8's maximum).
 * Subscription events carry one message each and are not counted; nor are answers to documents whose
 * validation showed they cannot exceed the limit (a page of 100 messages at most about 4.5 MB).
 */
export function limitAnswerSize(limit = MAX_ANSWER_CHARS): Plugin {
  return {
    onExecute({ args }) {
      // Most documents cannot produce a large answer whatever the data: their answers are not measured.
      const bound = answerBounds.get(args.document);
      if (bound !== undefined && bound <= limit) return;
      return {
        onExecuteDone({ result, setResult }) {
          if (!('data' in result) || !result.data) return;
          if (sizeOf(result.data, limit) <= limit) return;
          const mib = Math.round(limit / 1024 / 1024);
          setResult({
            errors: [
              new GraphQLError(`The answer would be larger than ${mib} MiB: ask for fewer messages, fields or aliases in one operation.`, {
                extensions: { code: 'BAD_USER_INPUT' },
              }),
            ],
          });
        },
      };
    },
  };
}

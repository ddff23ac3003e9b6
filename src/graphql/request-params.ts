import { createGraphQLError, type Plugin } from 'graphql-yoga';

const JSON_PARAMS = ['variables', 'extensions'] as const;

const isJson = (text: string) => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

/** The JSON parameter of a GET request's query string that does not parse, if one can be named. */
function malformedParam(request: Request): string | undefined {
  if (request.method !== 'GET') return undefined;
  const params = new URL(request.url).searchParams;
  return JSON_PARAMS.find((name) => {
    const value = params.get(name);
    return Boolean(value) && !isJson(value!);
  });
}

/**
 * Malformed JSON in the `variables` or `extensions` parameter of a GET query string is the client's
 * mistake: a 400 with a BAD_REQUEST error naming the parameter, as Yoga answers a well-formed but
 * non-object one. Yoga's parser lets JSON.parse's SyntaxError escape, which was masked
 * as a 200 INTERNAL_SERVER_ERROR. Wraps whatever parser was chosen, so the body limit still applies.
 */
export function refuseMalformedParams(): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser }) {
      if (!requestParser) return;
      const parse = requestParser;
      setRequestParser(async (req) => {
        try {
          return await parse(req);
        } catch (err) {
          if (!(err instanceof SyntaxError)) throw err;
          const field = malformedParam(request);
          const what = field ? `"${field}" parameter` : '"variables" or "extensions" parameter';
          throw createGraphQLError(`The ${what} is not valid JSON`, {
            extensions: { http: { status: 400 }, code: 'BAD_REQUEST', ...(field ? { field } : {}) },
          });
        }
      });
    },
  };
}

import type { TypedDocumentString } from './generated.js';

/** One GraphQL error as the server sends it; `extensions.code` is one of the contract's codes (section 6). */
export interface GraphQLErrorShape {
  message: string;
  path?: readonly (string | number)[];
  extensions?: { code?: string; [key: string]: unknown };
}

/** The server answered with errors (and no data for the whole operation). */
export class GraphQLRequestError extends Error {
  constructor(
    readonly errors: readonly GraphQLErrorShape[],
    /** The HTTP status of the answer. */
    readonly status: number,
  ) {
    super(errors.map((e) => (e.extensions?.code ? `${e.extensions.code}: ${e.message}` : e.message)).join('; '));
    this.name = 'GraphQLRequestError';
  }

  /** The `extensions.code` of the first error, e.g. `UNAUTHENTICATED` (get a fresh token) or `BAD_USER_INPUT`. */
  get code(): string | undefined {
    return this.errors[0]?.extensions?.code;
  }
}

export interface RequestOptions {
  /** The GraphQL endpoint, `https://host/graphql`. */
  url: string;
  /** The signed-in user's raw JWT (no `Bearer `); called for every request. */
  getToken: () => string | Promise<string>;
  /** Default: the global `fetch`. */
  fetch?: typeof fetch;
}

/** Variables are optional when the operation has no required ones. */
type VariablesArg<V> = {} extends V ? [variables?: V] : [variables: V];

/**
 * A typed GraphQL-over-HTTP caller for the documents in `generated.ts`, needing nothing but `fetch`:
 * `await request(UnreadCountDocument)` is `{ unreadCount: number }`. Throws `GraphQLRequestError` when
 * the answer has errors, and the fetch error when the server cannot be reached.
 */
export function createRequest({ url, getToken, fetch: fetchImpl = globalThis.fetch }: RequestOptions) {
  return async function request<R, V>(document: TypedDocumentString<R, V>, ...[variables]: VariablesArg<V>): Promise<R> {
    const response = await fetchImpl(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        authorization: `Bearer ${await getToken()}`,
      },
      body: JSON.stringify({ query: String(document), variables }),
    });
    const result = (await response.json()) as { data?: R | null; errors?: GraphQLErrorShape[] };
    if (result.errors?.length || result.data == null) throw new GraphQLRequestError(result.errors ?? [], response.status);
    return result.data;
  };
}

import { GraphQLError } from 'graphql';
import { AppError } from '../domain/errors.js';

type Logger = { error: (obj: object, msg: string) => void };

/**
 * Yoga's maskError: an AppError (thrown by the domain or auth) becomes a GraphQLError carrying
 * `extensions.code` and `extensions.field`; a GraphQLError the server made on purpose passes as is,
 * and one about the client's document or variables gets a code; anything else (an uncoded error
 * during execution included) is a bug, logged with the request id and masked as INTERNAL_SERVER_ERROR.
 */
export function createMaskError(logger: Logger) {
  return (error: unknown, message: string): Error => {
    const { located, original } = unwrap(error);
    if (original instanceof AppError) {
      return new GraphQLError(original.message, {
        nodes: located?.nodes,
        path: located?.path,
        extensions: { code: original.code, ...(original.field ? { field: original.field } : {}) },
      });
    }
    if (isGraphQLError(original) && !uncodedWhileExecuting(located, original)) return clientError(located ?? original, original);
    const requestId = (error as { requestId?: string })?.requestId;
    logger.error({ err: original, requestId }, 'unexpected error');
    return new GraphQLError(message, {
      path: located?.path,
      extensions: { code: 'INTERNAL_SERVER_ERROR', ...(requestId ? { requestId } : {}) },
    });
  };
}

/** The `extensions.code` maskError gives `error`: for metrics, which see results before masking. */
export function maskedCode(error: unknown): string {
  const { located, original } = unwrap(error);
  if (original instanceof AppError) return original.code;
  if (!isGraphQLError(original) || uncodedWhileExecuting(located, original)) return 'INTERNAL_SERVER_ERROR';
  const code = located?.extensions?.code ?? original.extensions?.code;
  return typeof code === 'string' ? code : 'BAD_USER_INPUT';
}

/** The outermost GraphQLError (it has the path), and the cause under the wrappers (locatedError may wrap a GraphQLError that wraps the cause). */
function unwrap(error: unknown): { located: GraphQLError | undefined; original: unknown } {
  let original: unknown = error;
  while (isGraphQLError(original) && original.originalError) original = original.originalError;
  return { located: isGraphQLError(error) ? error : undefined, original };
}

/**
 * A GraphQLError raised while executing (it has a path) without a code is not the client's doing:
 * a value the schema could not serialise (graphql-jit reports those without their cause). A bug:
 * logged and masked, like any other.
 */
function uncodedWhileExecuting(located: GraphQLError | undefined, original: GraphQLError): boolean {
  return Boolean(located?.path) && !(located?.extensions?.code ?? original.extensions?.code);
}

/**
 * A GraphQLError made by graphql-js or Yoga. Keeps the outer error's message, locations and path
 * (for a variable: 'Variable "$input" got invalid value 1 at "input.text"; String cannot…'), which
 * the inner error lacks. Outside execution (no path), an error without a code is the client's input:
 * BAD_USER_INPUT, with `field` naming the variable path: every client error has a code.
 */
function clientError(outer: GraphQLError, inner: GraphQLError): GraphQLError {
  // graphql-jit's own errors (variable coercion) carry no `extensions` object and only `locations`.
  const outerExtensions = outer.extensions ?? {};
  const extensions: Record<string, unknown> = { ...inner.extensions, ...outerExtensions };
  if (!outer.path && !extensions.code) extensions.code = 'BAD_USER_INPUT';
  if (!outer.path && extensions.code === 'BAD_USER_INPUT' && !extensions.field) {
    const field = variablePath(outer.message);
    if (field) extensions.field = field;
  }
  const unchanged = outer === inner && extensions.code === outerExtensions.code && extensions.field === outerExtensions.field;
  if (unchanged) return outer;
  const copy = new GraphQLError(outer.message, { nodes: outer.nodes, source: outer.source, positions: outer.positions, path: outer.path, extensions });
  return !copy.locations && outer.locations ? Object.assign(copy, { locations: outer.locations }) : copy;
}

/**
 * "input.text" from graphql-js' 'Variable "$input" got invalid value … at "input.text"; …', else "input".
 * The value is printed with its quotes escaped, so the first ` at "…"; ` is the path.
 */
function variablePath(message: string): string | undefined {
  const m = /^Variable "\$([^"]+)" (?:got invalid value .*? at "([^"]+)"; )?/s.exec(message);
  return m ? (m[2] ?? m[1]) : undefined;
}

/**
 * By name, not `instanceof`: graphql-js may be loaded twice (its CommonJS and ESM builds, as under
 * vitest, where Yoga's executor gets index.js and our code index.mjs), and then `instanceof` fails
 * for errors made by the other copy, which masked every coded error as INTERNAL_SERVER_ERROR.
 */
function isGraphQLError(e: unknown): e is GraphQLError {
  return e instanceof Error && e.name === 'GraphQLError';
}

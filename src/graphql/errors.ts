import { GraphQLError } from 'graphql';
import { AppError } from '../domain/errors.js';

type Logger = { error: (obj: object, msg: string) => void };

/**
 * Yoga's maskError: an AppError (thrown by the domain or auth) becomes a GraphQLError carrying
 * `extensions.code` and `extensions.field`; a GraphQLError the server made on purpose passes as is;
 * anything else is a bug, logged with the request id and masked as INTERNAL_SERVER_ERROR.
 */
export function createMaskError(logger: Logger) {
  return (error: unknown, message: string): Error => {
    const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
    if (original instanceof AppError) {
      return new GraphQLError(original.message, {
        nodes: error instanceof GraphQLError ? error.nodes : undefined,
        path: error instanceof GraphQLError ? error.path : undefined,
        extensions: { code: original.code, ...(original.field ? { field: original.field } : {}) },
      });
    }
    if (error instanceof GraphQLError && !error.originalError) return error;
    if (original instanceof GraphQLError) return original;
    const requestId = (error as { requestId?: string })?.requestId;
    logger.error({ err: original, requestId }, 'unexpected error');
    return new GraphQLError(message, {
      path: error instanceof GraphQLError ? error.path : undefined,
      extensions: { code: 'INTERNAL_SERVER_ERROR', ...(requestId ? { requestId } : {}) },
    });
  };
}

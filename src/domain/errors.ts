/**
 * Errors a client can cause. The domain throws these; the GraphQL layer turns them into
 * GraphQLErrors carrying `extensions.code` (and `extensions.field` when one input is to blame).
 * Anything else that escapes is a bug: masked as INTERNAL_SERVER_ERROR and logged.
 */
export type ErrorCode = 'UNAUTHENTICATED' | 'FORBIDDEN' | 'BAD_USER_INPUT' | 'NOT_FOUND' | 'RATE_LIMITED';

export class AppError extends Error {
  override readonly name = 'AppError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export function badInput(field: string, problem: string): AppError {
  return new AppError('BAD_USER_INPUT', `${field}: ${problem}`, field);
}

export const unauthenticated = (why = 'a valid bearer token is required') => new AppError('UNAUTHENTICATED', why);
export const forbidden = (why: string) => new AppError('FORBIDDEN', why);

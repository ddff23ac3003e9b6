import { createGraphQLError } from 'graphql-yoga';

// The refusals of rate and live-connection limits, shared by HTTP/SSE (graphql/rate-limit.ts) and WebSocket.

/**
 * RATE_LIMITED with `retryAfterSeconds`; over HTTP (`http: true`) also status 429 and Retry-After,
 * which Yoga sets from `extensions.http` and leaves out of the JSON it answers.
 */
export function rateLimited(retryAfterSeconds: number, o: { http: boolean }) {
  return createGraphQLError(`rate limit exceeded: retry in ${retryAfterSeconds} s`, {
    extensions: {
      code: 'RATE_LIMITED',
      retryAfterSeconds,
      ...(o.http ? { http: { status: 429, headers: { 'Retry-After': String(retryAfterSeconds) } } } : {}),
    },
  });
}

/**
 * A live-connection ceiling was reached: RATE_LIMITED without `retryAfterSeconds` (room comes back
 * when the caller ends another connection, not after a time), `limit` naming the setting.
 */
export function tooManyLive(limit: 'MAX_LIVE_CONNECTIONS_PER_USER' | 'WS_MAX_SUBSCRIPTIONS', max: number, o: { http: boolean }) {
  const what = limit === 'WS_MAX_SUBSCRIPTIONS' ? 'operations on this WebSocket' : 'live connections for this user';
  return createGraphQLError(`too many ${what} (at most ${max})`, {
    extensions: { code: 'RATE_LIMITED', limit, ...(o.http ? { http: { status: 429 } } : {}) },
  });
}

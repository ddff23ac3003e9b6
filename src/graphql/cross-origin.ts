import { createGraphQLError, type Plugin, type YogaServerOptions } from 'graphql-yoga';

type Cors = NonNullable<YogaServerOptions<object, object>['cors']>;

/**
 * Yoga's CORS options for the allowed origins: `'*'` for any (development), a list, or none. Never
 * `Access-Control-Allow-Credentials`: tokens travel in the Authorization header, not in cookies, so a
 * page has no reason to send credentials (Yoga's default reflects any origin with credentials on).
 */
export function corsFor(origins: '*' | readonly string[]): Cors {
  if (origins !== '*' && origins.length === 0) return false;
  const allowed = origins === '*' ? null : new Set(origins);
  return (request: Request) => {
    const origin = request.headers.get('origin');
    if (!origin || (allowed && !allowed.has(origin))) return false;
    return { origin: [origin], credentials: false, maxAge: 600 };
  };
}

/** Media types a browser may POST across origins without a preflight (CORS "simple requests"). */
const SIMPLE_TYPES = new Set(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain']);

/**
 * CSRF prevention: refuses (415) POST bodies a cross-site form could send without a preflight, so every
 * operation comes as JSON (or application/graphql) that a browser only sends after CORS allowed it.
 * A GET cannot carry a mutation (Yoga refuses it), and carries no token unless a script added one.
 */
export function refuseFormPosts(): Plugin {
  return {
    onRequestParse({ request }) {
      if (request.method !== 'POST') return;
      const type = (request.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
      if (!SIMPLE_TYPES.has(type)) return;
      throw createGraphQLError(`Content-Type ${type} is not accepted: send application/json.`, {
        extensions: { http: { status: 415 }, code: 'BAD_REQUEST' },
      });
    },
  };
}

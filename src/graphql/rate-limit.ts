import type { ExecutionArgs, ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { Authenticator } from '../auth.js';
import type { RateLimiter } from '../domain/rate-limit.js';
import type { GraphQLContext } from './context.js';
import { rateLimited, tooManyLive } from './limit-errors.js';
import type { LiveConnections } from './live-connections.js';

/**
 * Counts each GraphQL request over HTTP (an SSE subscription is one) against the caller's budget,
 * before it is parsed. Callers without a valid token are not counted: they are refused as
 * UNAUTHENTICATED later. WebSocket operations are counted by graphql/websocket.ts.
 */
export function limitRate(limiter: RateLimiter, authenticate: Authenticator): Plugin {
  return {
    async onParams({ request, setResult }) {
      let viewer;
      try {
        viewer = (await authenticate(request.headers.get('authorization'))).viewer;
      } catch {
        return;
      }
      const retryAfter = await limiter.take(viewer);
      if (retryAfter !== null) setResult({ errors: [rateLimited(retryAfter, { http: true })] });
    },
  };
}

/**
 * Holds each SSE subscription stream to the caller's live-connection ceiling, counted from its start
 * to its end (the client gone, or the server ending it). Goes after the plugins that set the
 * subscribe function (graphql-jit), since it wraps whichever is in place.
 */
export function limitLiveStreams(connections: LiveConnections): Plugin<GraphQLContext> {
  return {
    onSubscribe({ args, subscribeFn, setSubscribeFn }) {
      const ctx = args.contextValue as GraphQLContext;
      if (ctx.overWebSocket || !ctx.auth) return;
      const userId = ctx.auth.viewer.id;
      const subscribe = async (a: ExecutionArgs) => {
        if (!connections.tryOpen(userId)) return { errors: [tooManyLive('MAX_LIVE_CONNECTIONS_PER_USER', connections.max, { http: true })] };
        let result: unknown;
        try {
          result = await subscribeFn(a);
        } catch (err) {
          connections.close(userId);
          throw err;
        }
        if (!isAsyncIterable(result)) {
          connections.close(userId);
          return result;
        }
        return releasing(result as AsyncIterable<ExecutionResult>, () => connections.close(userId));
      };
      setSubscribeFn(subscribe as typeof subscribeFn);
    },
  };
}

/** The iterable, calling `release` once when it ends, fails, or is returned early. */
export function releasing<T>(source: AsyncIterable<T>, release: () => void): AsyncIterableIterator<T> {
  const it = source[Symbol.asyncIterator]();
  let released = false;
  const once = () => {
    if (released) return;
    released = true;
    release();
  };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      try {
        const r = await it.next();
        if (r.done) once();
        return r;
      } catch (err) {
        once();
        throw err;
      }
    },
    async return(value?: unknown) {
      once();
      return it.return ? it.return(value) : { done: true, value: undefined as T };
    },
    async throw(err?: unknown) {
      once();
      if (it.throw) return it.throw(err);
      throw err;
    },
  };
}

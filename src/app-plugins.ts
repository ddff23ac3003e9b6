import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import { AppError } from './domain/errors.js';
import type { GraphQLContext } from './graphql/context.js';
import type { Realtime } from './realtime/index.js';
import type { MessageStore } from './domain/message-store.js';

/** The app's own Yoga plugins: authentication of every operation, request ids on unexpected errors, /ready. */

/**
 * Every operation, introspection included, needs a valid token. And any call with a
 * valid user token makes the caller a known user (broadcasts reach them from then on), whatever the
 * operation. That registration is best effort here: when storage fails, the operation still runs, and
 * the fields that need storage register again through their use case and fail there, at their path,
 * masked and logged with the request id.
 */
export function requireAuthentication(logger: Logger): Plugin<GraphQLContext> {
  const refuse = (ctx: GraphQLContext) =>
    new GraphQLError(ctx.authError?.message ?? 'a valid bearer token is required', { extensions: { code: 'UNAUTHENTICATED' } });
  const admit = async (ctx: GraphQLContext, stop: (result: { errors: GraphQLError[] }) => void) => {
    if (!ctx.auth) return stop({ errors: [refuse(ctx)] });
    await ctx.messages.register(ctx.auth.viewer).catch((err) => logger.warn({ err, requestId: ctx.requestId }, 'could not register the caller as a known user'));
  };
  return {
    onExecute: ({ args, setResultAndStopExecution }) => admit(args.contextValue as GraphQLContext, setResultAndStopExecution),
    onSubscribe: ({ args, setResultAndStopExecution }) => admit(args.contextValue as GraphQLContext, setResultAndStopExecution),
  };
}

/** Tags unexpected errors with the request id before masking (createMaskError logs them), so the log line and the client's error match. */
export function tagUnexpected(): Plugin<GraphQLContext> {
  return {
    onExecute({ args }) {
      const ctx = args.contextValue as GraphQLContext;
      return {
        onExecuteDone({ result }) {
          const errors = 'errors' in result && Array.isArray(result.errors) ? result.errors : [];
          for (const error of errors) {
            const original = (error as GraphQLError).originalError;
            if (original && !(original instanceof AppError) && !(original instanceof GraphQLError)) {
              (original as Error & { requestId?: string }).requestId = ctx.requestId;
              (error as GraphQLError & { requestId?: string }).requestId = ctx.requestId;
            }
          }
        },
      };
    },
  };
}

/** GET /ready: storage (and Redis, when configured) answers: 200, else 503; 503 too once the app drains (a load balancer stops sending new requests). */
export function healthChecks(store: MessageStore, realtime: Realtime, draining: () => boolean): Plugin {
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (request.method !== 'GET') return;
      if (url.pathname === '/ready') {
        if (draining()) {
          endResponse(new fetchAPI.Response(JSON.stringify({ status: 'draining' }), { status: 503, headers: { 'content-type': 'application/json' } }));
          return;
        }
        try {
          await Promise.all([store.ping(), realtime.ping()]);
          endResponse(new fetchAPI.Response(JSON.stringify({ status: 'ready' }), { status: 200, headers: { 'content-type': 'application/json' } }));
        } catch {
          endResponse(new fetchAPI.Response(JSON.stringify({ status: 'unavailable' }), { status: 503, headers: { 'content-type': 'application/json' } }));
        }
      }
    },
  };
}

import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../graphql/context.js';
import { releasing } from '../graphql/rate-limit.js';
import type { Metrics, Transport } from './metrics.js';
import { operationName, outcomeOf } from './operation.js';

/**
 * Counts and times each operation as a whole (no per-resolver timing: it costs every field), over
 * HTTP, SSE and WebSocket alike, and keeps the open subscriptions per transport. Goes first among the
 * plugins, so operations another plugin refuses in its onExecute (UNAUTHENTICATED) count too.
 */
export function measureOperations(metrics: Metrics): Plugin {
  return {
    onExecute({ args }) {
      const started = performance.now();
      return {
        onExecuteDone({ result }) {
          metrics.operation(operationName(args.document, args.operationName).fields, outcomeOf(result), started);
        },
      };
    },
    onSubscribe({ args }) {
      const started = performance.now();
      const transport: Transport = (args.contextValue as Partial<GraphQLContext>).overWebSocket ? 'ws' : 'sse';
      return {
        onSubscribeResult({ result, setResult }) {
          const live = isAsyncIterable(result);
          metrics.operation(operationName(args.document, args.operationName).fields, live ? 'ok' : outcomeOf(result), started);
          if (!live) return;
          metrics.subscriptionOpened(transport);
          setResult(releasing(result, () => metrics.subscriptionClosed(transport)));
        },
      };
    },
  };
}

import { useGraphQlJit } from '@envelop/graphql-jit';
import { getArgumentValues, getOperationAST, getVariableValues, type ExecutionArgs, type GraphQLError, type GraphQLSchema } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { hasJsonLiteral } from './json-literals.js';

type Logger = { error: (obj: object, msg: string) => void };

/**
 * How operations run: compiled once per document by graphql-jit (a page of 100 messages resolves
 * ~1,400 fields, which graphql-js walks generically; compiled, the page costs a third of the CPU,
 * and so does each live event sent to a subscriber).
 *
 * graphql-jit coerces variables itself, with messages that lose the path ("Variable "$text"" for
 * `input.text`) and differ from graphql-js'. Both accept and refuse the same values (both follow the
 * spec: the same checks for the built-in scalars, unknown input fields and missing non-null values,
 * and custom scalars' own parseValue), so graphql-js runs only when graphql-jit refused the
 * variables, and its errors are the ones answered: every client error stays exactly as the
 * contract's tests know it, and the common case coerces once (running graphql-js first, always, would
 * coerce twice). The order matters: the check wraps whatever executes, so its errors are masked like
 * any result. Documents that write a JSON value inline run on graphql-js (see json-literals.ts).
 */
export function compiledExecution(logger: Logger): [ReturnType<typeof useGraphQlJit>, Plugin] {
  return [
    useGraphQlJit({}, {
      onError: (r) => logger.error({ errors: r.errors }, 'graphql-jit could not compile an operation'),
      enableIf: (args) => !hasJsonLiteral(args.schema, args.document),
    }),
    graphqlJsVariableErrors(),
  ];
}

/**
 * graphql-jit calls a subscription field's `subscribe` with the operation's variables in place of the
 * field's arguments (graphql-jit#183): `inboxEvents(after: $c)` or `inboxEvents(after: "…")` reached it
 * as `{ c: … }` or `{}`, so the cursor was ignored. Each subscription field's `subscribe` gets its
 * arguments coerced from its own field node instead, whatever executor runs it (the same values under
 * graphql-js, which already passes them); once per subscription, not per event.
 */
export function subscribeWithFieldArguments(schema: GraphQLSchema): GraphQLSchema {
  for (const field of Object.values(schema.getSubscriptionType()?.getFields() ?? {})) {
    const subscribe = field.subscribe;
    if (!subscribe || field.args.length === 0) continue;
    field.subscribe = (root, _variables, ctx, info) => subscribe(root, getArgumentValues(field, info.fieldNodes[0], info.variableValues), ctx, info);
  }
  return schema;
}

/** graphql-js' coercion errors for the operation's variables, or null when they are fine. */
function variableErrors(args: ExecutionArgs): readonly GraphQLError[] | null {
  const operation = getOperationAST(args.document, args.operationName);
  // No such operation: the executor answers that.
  if (!operation?.variableDefinitions?.length) return null;
  return getVariableValues(args.schema, operation.variableDefinitions, args.variableValues ?? {}, { maxErrors: 50 }).errors ?? null;
}

/**
 * A result with errors and no `data` at all is a request refused before execution (graphql-jit's
 * variable coercion, or no such operation): answered with graphql-js' errors when it refuses the
 * variables too, else as it is.
 */
function explained<T>(args: ExecutionArgs, result: T): T {
  if (result === null || typeof result !== 'object' || !('errors' in result) || 'data' in result) return result;
  const errors = variableErrors(args);
  return errors ? ({ errors } as T) : result;
}

function graphqlJsVariableErrors(): Plugin {
  const wrap =
    <F extends (args: ExecutionArgs) => unknown>(run: F) =>
    (args: ExecutionArgs) => {
      const result = run(args);
      return result instanceof Promise ? result.then((r) => explained(args, r)) : explained(args, result);
    };
  return {
    onExecute({ executeFn, setExecuteFn }) {
      setExecuteFn(wrap(executeFn) as typeof executeFn);
    },
    onSubscribe({ subscribeFn, setSubscribeFn }) {
      setSubscribeFn(wrap(subscribeFn) as typeof subscribeFn);
    },
  };
}

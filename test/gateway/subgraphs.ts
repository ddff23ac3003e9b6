import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { stitchSchemas, type IStitchSchemasOptions } from '@graphql-tools/stitch';
import { buildClientSchema, getIntrospectionQuery, graphql, parse, print, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { jwtVerify } from 'jose';
import { TEST_SECRET } from '../env.js';
import { dataOf, type GqlResult } from '../harness.js';

/**
 * What a federated deployment puts around stored-messages: a second small subgraph (`accounts`,
 * which owns users' names and `me`), an Apollo gateway composing both from their `_service { sdl }`,
 * and a schema stitched from both with @graphql-tools/stitch. Everything speaks real HTTP; the
 * caller's bearer token travels from the gateway to each subgraph.
 */

export interface Running {
  url: string;
  close(): Promise<void>;
}

/** A second subgraph: it shares PageInfo (so composition checks @shareable) and knows users' names. */
const ACCOUNTS_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key", "@shareable"])
  type Query { me: User }
  type User @key(fields: "id") { id: ID! name: String! }
  type PageInfo @shareable { hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String }
`;

const subOf = async (authorization: string | undefined) => {
  if (!authorization?.startsWith('Bearer ')) return null;
  const { payload } = await jwtVerify(authorization.slice(7), new TextEncoder().encode(TEST_SECRET)).catch(() => ({ payload: null }));
  return payload?.sub ?? null;
};

type Ctx = { sub: string | null };

/** The `accounts` subgraph on node:http: `me` is the bearer token's subject, named from `names`. */
export async function startAccounts(names: ReadonlyMap<string, string>): Promise<Running> {
  const account = (id: string) => ({ id, name: names.get(id) ?? id });
  const schema = buildSubgraphSchema({
    typeDefs: parse(ACCOUNTS_SDL),
    resolvers: {
      Query: { me: (_: unknown, __: unknown, ctx: unknown) => ((ctx as Ctx).sub ? account((ctx as Ctx).sub!) : null) },
      User: { __resolveReference: (ref: { id: string }) => account(ref.id) },
    },
  });
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const { query, variables, operationName } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const contextValue = { sub: await subOf(req.headers.authorization) };
    const result = await graphql({ schema, source: query, variableValues: variables, operationName, contextValue });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/graphql`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/**
 * An Apollo gateway (served by Apollo Server) composing `subgraphs` from their `_service { sdl }`,
 * asked with `serviceToken` (this server answers nothing without a token). Each request's
 * Authorization header is forwarded to every subgraph the plan visits.
 */
export async function startGateway(subgraphs: { name: string; url: string }[], serviceToken: string): Promise<Running> {
  // The gateway otherwise reports metrics to Apollo, probing cloud metadata servers first: tests stay on loopback.
  process.env.APOLLO_TELEMETRY_DISABLED = 'true';
  const gateway = new ApolloGateway({
    supergraphSdl: new IntrospectAndCompose({ subgraphs, introspectionHeaders: { authorization: `Bearer ${serviceToken}` } }),
    buildService: ({ url }) =>
      new RemoteGraphQLDataSource<{ authorization?: string }>({
        url,
        willSendRequest({ request, context }) {
          if (context.authorization) request.http?.headers.set('authorization', context.authorization);
        },
      }),
  });
  const server = new ApolloServer({ gateway });
  const { url } = await startStandaloneServer(server, {
    listen: { port: 0, host: '127.0.0.1' },
    context: async ({ req }) => ({ authorization: req.headers.authorization }),
  });
  return { url, close: () => server.stop() };
}

/** One GraphQL request over HTTP, with a bearer token when given. */
export async function post<T = any>(url: string, token: string | null, query: string, variables?: Record<string, unknown>): Promise<GqlResult<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as GqlResult<T>;
}

type Subschema = Exclude<NonNullable<IStitchSchemasOptions['subschemas']>[number], GraphQLSchema>;

/** A subschema for stitching: its schema introspected over HTTP, then each delegated request sent there with the caller's token. */
async function remote(url: string, serviceToken: string): Promise<Subschema> {
  const executor = async ({ document, variables, context }: { document: DocumentNode; variables?: Record<string, unknown>; context?: { token?: string } }) =>
    // JSON over the wire: errors arrive as plain objects, which the stitched schema reports as they are.
    (await post(url, context?.token ?? null, print(document), variables)) as ExecutionResult;
  return { schema: buildClientSchema(dataOf(await post(url, serviceToken, getIntrospectionQuery()))), executor: executor as Subschema['executor'] };
}

/**
 * Both subgraphs stitched into one schema: `me` comes from accounts, and the rest of a User from
 * stored-messages' `_entities`, as for any federation subgraph.
 */
export async function stitched(accountsUrl: string, messagesUrl: string, serviceToken: string): Promise<GraphQLSchema> {
  const messages = await remote(messagesUrl, serviceToken);
  return stitchSchemas({
    subschemas: [
      await remote(accountsUrl, serviceToken),
      {
        ...messages,
        merge: {
          User: {
            selectionSet: '{ id }',
            fieldName: '_entities',
            key: ({ id }: { id: string }) => ({ __typename: 'User', id }),
            argsFromKeys: (representations: readonly unknown[]) => ({ representations }),
          },
        },
      },
    ],
  });
}

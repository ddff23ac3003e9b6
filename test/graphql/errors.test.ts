import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { GraphQLError, GraphQLObjectType, GraphQLScalarType, GraphQLSchema, parse } from 'graphql';
import { compileQuery, isCompiledQuery } from 'graphql-jit';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createMaskError } from '../../src/graphql/errors.js';
import { TEST_SECRET } from '../env.js';
import { createTestDatabase, startTestApp, type GqlResult, type TestApp } from '../harness.js';
import { producerToken, uid, userToken } from '../support.js';

/**
 * CONTRACT.md §6: errors a client causes carry `extensions.code` through Yoga's masking; anything
 * unexpected is INTERNAL_SERVER_ERROR with no internal detail, and is logged with a request id.
 */

describe('coded errors survive masking', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('postgres');
  });
  afterAll(async () => t?.close());

  it('keeps the code, field, message and path of every kind of client error', async () => {
    const user = await t.userToken();
    const cases: [string, GqlResult, { code: string; field?: string; message: RegExp; path?: string[] }][] = [
      ['no token', await t.gql(null, '{ unreadCount }'), { code: 'UNAUTHENTICATED', message: /token/ }],
      [
        'no scope',
        await t.gql(user.token, 'mutation { broadcastMessage(input: { level: STORED_INFO, text: "x" }) { recipientCount } }'),
        { code: 'FORBIDDEN', message: /messages:send/, path: ['broadcastMessage'] },
      ],
      [
        'domain validation',
        await t.gql(user.token, 'mutation { addMessage(input: { level: STORED_INFO, text: "" }) { stored } }'),
        { code: 'BAD_USER_INPUT', field: 'input.text', message: /input\.text/, path: ['addMessage'] },
      ],
      ['malformed id', await t.gql(user.token, '{ message(id: "nope!") { id } }'), { code: 'BAD_USER_INPUT', field: 'id', message: /malformed id/, path: ['message'] }],
      [
        'scalar refusing a variable',
        await t.gql(user.token, 'query($s: DateTime) { messages(filter: { since: $s }) { totalCount } }', { s: 'yesterday' }),
        { code: 'BAD_USER_INPUT', field: 's', message: /DateTime/ },
      ],
      [
        'variable of the wrong type',
        await t.gql(user.token, 'query($n: Int) { messages(first: $n) { totalCount } }', { n: 'ten' }),
        { code: 'BAD_USER_INPUT', field: 'n', message: /Variable "\$n"/ },
      ],
      ['missing variable', await t.gql(user.token, 'query($id: ID!) { node(id: $id) { id } }', {}), { code: 'BAD_USER_INPUT', field: 'id', message: /was not provided/ }],
      ['syntax error', await t.gql(user.token, '{ unreadCount '), { code: 'GRAPHQL_PARSE_FAILED', message: /Syntax Error/ }],
      ['unknown field', await t.gql(user.token, '{ nope }'), { code: 'GRAPHQL_VALIDATION_FAILED', message: /nope/ }],
    ];
    for (const [label, r, want] of cases) {
      const e = r.errors?.[0];
      expect(e?.extensions?.code, `${label}: ${JSON.stringify(r)}`).toBe(want.code);
      expect(e?.extensions?.field, label).toBe(want.field);
      expect(e?.message, label).toMatch(want.message);
      expect(e?.message, label).not.toBe('Unexpected error.');
      if (want.path) expect(e?.path, label).toEqual(want.path);
    }
  });

  it('keeps the rest of a response around a coded error', async () => {
    const user = await t.userToken();
    const r = await t.gql(user.token, '{ unreadCount message(id: "nope!") { id } }');
    expect(r.data).toEqual({ unreadCount: 0, message: null });
    expect(r.errors).toHaveLength(1);
    expect(r.errors?.[0]).toMatchObject({ path: ['message'], extensions: { code: 'BAD_USER_INPUT', field: 'id' } });
  });
});

/** Words that would betray internals: SQL, drivers, stack frames, file paths. */
const INTERNALS = /select |insert |update |delete from|sm_user|sm_delivery|sm_message|relation|knex|mikro|postgres|pglite|pool|connection|ECONN|stack|\.ts:|node_modules|at [A-Za-z.<>]+ \(/i;

describe('unexpected errors are masked', () => {
  let db: { url: string; drop: () => Promise<void> };
  let app: App;
  let baseUrl: string;
  const logs: Record<string, any>[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    const logger = pino({ level: 'error' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
    app = await createApp(loadConfig({ NODE_ENV: 'test', AUTH_JWT_SECRET: TEST_SECRET, DATABASE_URL: db.url, LOG_LEVEL: 'silent' }), { logger });
    await new Promise<void>((resolve) => app.server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const post = async (token: string, query: string, requestId: string, variables?: Record<string, unknown>) => {
    const res = await fetch(`${baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-request-id': requestId },
      body: JSON.stringify({ query, variables }),
    });
    return { status: res.status, text: await res.text() };
  };

  function expectMasked(r: { text: string }, requestId: string, field: string) {
    expect(r.text, 'internal detail in the response').not.toMatch(INTERNALS);
    const body = JSON.parse(r.text) as GqlResult;
    expect(body.errors).toEqual([{ message: 'Unexpected error.', path: [field], extensions: { code: 'INTERNAL_SERVER_ERROR', requestId } }]);
    // The log has what the response hides, under the same request id.
    const logged = logs.filter((l) => l.requestId === requestId);
    expect(logged.length, `log lines for ${requestId}`).toBeGreaterThan(0);
    expect(logged[0].msg).toBe('unexpected error');
    expect(JSON.stringify(logged[0].err)).toMatch(/message/);
  }

  it('masks a storage failure (a table gone) and logs it with the request id', async () => {
    const { token: user } = await userToken();
    const { token: producer } = await producerToken();
    const ok = await post(user, '{ unreadCount }', 'before-break');
    expect(JSON.parse(ok.text)).toEqual({ data: { unreadCount: 0 } });

    // Break the schema under the running server, as a failed migration or a DBA mistake would.
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    await admin.query('alter table sm_delivery rename to sm_delivery_gone');
    try {
      const r = await post(producer, 'mutation($u: [ID!]!) { addMessageFor(input: { userIds: $u, level: STORED_INFO, text: "x" }) { recipientCount } }', 'req-table-gone', {
        u: [uid()],
      });
      expectMasked(r, 'req-table-gone', 'addMessageFor');
      expect(JSON.stringify(logs.find((l) => l.requestId === 'req-table-gone')?.err)).toMatch(/sm_delivery/);
    } finally {
      await admin.query('alter table sm_delivery_gone rename to sm_delivery');
      await admin.end();
    }
  });

  it('masks every operation once the store is closed, with no internal detail', async () => {
    const { token: user } = await userToken();
    await app.store.close();
    const ops: [string, string][] = [
      ['unreadCount', '{ unreadCount }'],
      ['messages', '{ messages { totalCount } }'],
      ['pendingMessages', '{ pendingMessages { id } }'],
      ['addMessage', 'mutation { addMessage(input: { level: STORED_INFO, text: "x" }) { stored } }'],
      ['markAllRead', 'mutation { markAllRead { count } }'],
    ];
    for (const [field, query] of ops) {
      const requestId = `req-closed-${field}`;
      const r = await post(user, query, requestId);
      expectMasked(r, requestId, field);
    }
  });
});

describe('createMaskError', () => {
  it('masks an uncoded error raised while executing (a value graphql-jit could not serialise) and logs it', async () => {
    const Broken = new GraphQLScalarType({ name: 'Broken', serialize: () => new Date(Number.NaN).toISOString() });
    const schema = new GraphQLSchema({ query: new GraphQLObjectType({ name: 'Query', fields: { at: { type: Broken, resolve: () => 1 } } }) });
    const compiled = compileQuery(schema, parse('{ at }'));
    if (!isCompiledQuery(compiled)) throw new Error('did not compile');
    const result = (await compiled.query(undefined, {}, {})) as { errors?: readonly GraphQLError[] };
    const raised = result.errors?.[0];
    expect(raised?.path).toEqual(['at']);
    const logged: object[] = [];
    const masked = createMaskError({ error: (obj) => logged.push(obj) })(raised, 'Unexpected error.') as GraphQLError;
    expect(masked.message).toBe('Unexpected error.');
    expect(masked.extensions).toMatchObject({ code: 'INTERNAL_SERVER_ERROR' });
    expect(masked.path).toEqual(['at']);
    expect(logged).toHaveLength(1);
  });

  it('keeps a coded error raised while executing, and gives client errors outside execution a code', () => {
    const mask = createMaskError({ error: () => {} });
    const coded = mask(new GraphQLError('not yours', { path: ['message'], extensions: { code: 'FORBIDDEN' } }), 'Unexpected error.') as GraphQLError;
    expect(coded.extensions.code).toBe('FORBIDDEN');
    const variable = mask(new GraphQLError('Variable "$n" got invalid value "ten"; Int cannot represent non-integer value: "ten"'), 'Unexpected error.') as GraphQLError;
    expect(variable.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'n' });
  });
});

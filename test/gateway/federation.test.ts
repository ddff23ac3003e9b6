import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { graphql } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_REPRESENTATIONS } from '../../src/graphql/federation.js';
import { printedSubgraphSchema } from '../../src/graphql/schema.js';
import { newProducer, newUser, sendTo, type Caller } from '../factories.js';
import { BACKENDS, dataOf, errorCode, startTestApp, type TestApp } from '../harness.js';
import { post, startAccounts, startGateway, stitched, type Running } from './subgraphs.js';

/**
 * CONTRACT.md §13: stored-messages is an Apollo Federation 2 subgraph. A real gateway composes it
 * with a second subgraph (`accounts`, which owns `me` and users' names) and answers
 * `{ me { name unreadCount } }` with the caller's token forwarded; a schema stitched from the same
 * two subgraphs answers it too. Nothing is mocked: three HTTP servers and the real storage.
 */

const ME = '{ me { id name unreadCount unreadMessages(first: 5) { totalCount edges { node { text } } pageInfo { hasNextPage } } messages { totalCount } } }';
const ENTITIES = `query($representations: [_Any!]!) {
  _entities(representations: $representations) { __typename ... on User { id unreadCount } ... on Message { text } }
}`;

describe.each(BACKENDS)('stored-messages as a federation subgraph on %s', (backend) => {
  let t: TestApp;
  let accounts: Running;
  let gateway: Running;
  let producer: Caller;
  let ada: Caller;
  let grace: Caller;
  const names = new Map<string, string>();
  const messagesUrl = () => `${t.baseUrl}/graphql`;

  beforeAll(async () => {
    t = await startTestApp(backend);
    producer = await newProducer(t);
    [ada, grace] = [await newUser(t), await newUser(t)];
    names.set(ada.sub, 'Ada Lovelace').set(grace.sub, 'Grace Hopper');
    await sendTo(producer, ada.sub, { text: 'first' });
    await sendTo(producer, ada.sub, { text: 'second' });
    await sendTo(producer, grace.sub, { text: 'for grace' });
    accounts = await startAccounts(names);
    gateway = await startGateway([{ name: 'accounts', url: accounts.url }, { name: 'messages', url: messagesUrl() }], producer.token);
  });
  afterAll(async () => {
    await gateway?.close();
    await accounts?.close();
    await t?.close();
  });

  it('_service answers the subgraph SDL: @link to Federation v2, Message and User keyed by id, PageInfo shareable', async () => {
    const { _service } = dataOf(await t.gql(producer.token, '{ _service { sdl } }'));
    expect(_service.sdl).toBe(printedSubgraphSchema());
    expect(_service.sdl).toMatch(/@link\(url: "https:\/\/specs\.apollo\.dev\/federation\/v2\.\d+"/);
    expect(_service.sdl).toMatch(/type Message implements Node\s+@key\(fields: "id"\)/);
    expect(_service.sdl).toMatch(/type User\s+@key\(fields: "id"\)/);
    expect(_service.sdl).toMatch(/type PageInfo\s+@shareable/);
  });

  it('the gateway answers { me { name unreadCount } } for each caller, the token forwarded to both subgraphs', async () => {
    expect(dataOf(await post(gateway.url, ada.token, ME)).me).toEqual({
      id: ada.sub,
      name: 'Ada Lovelace',
      unreadCount: 2,
      unreadMessages: { totalCount: 2, edges: [{ node: { text: 'second' } }, { node: { text: 'first' } }], pageInfo: { hasNextPage: false } },
      messages: { totalCount: 2 },
    });
    expect(dataOf(await post(gateway.url, grace.token, '{ me { name unreadCount } }')).me).toEqual({ name: 'Grace Hopper', unreadCount: 1 });
    // No token: accounts knows no one, so the plan never reaches stored-messages.
    expect(dataOf(await post(gateway.url, null, '{ me { name unreadCount } }')).me).toBeNull();
  });

  it('an entity resolves only for the caller: another user and another user’s message are null', async () => {
    const [own] = dataOf(await ada.raw('{ messages(first: 1) { edges { node { id } } } }')).messages.edges;
    const [theirs] = dataOf(await grace.raw('{ messages(first: 1) { edges { node { id } } } }')).messages.edges;
    const representations = [
      { __typename: 'User', id: grace.sub },
      { __typename: 'User', id: ada.sub },
      { __typename: 'Message', id: own.node.id },
      { __typename: 'Message', id: theirs.node.id },
    ];
    expect(dataOf(await ada.raw(ENTITIES, { representations }))._entities).toEqual([
      null,
      { __typename: 'User', id: ada.sub, unreadCount: 2 },
      { __typename: 'Message', text: 'second' },
      null,
    ]);
  });

  it('refuses malformed representations with BAD_USER_INPUT naming them', async () => {
    for (const representations of [[{ __typename: 'Nope', id: 'x' }], [{ __typename: 'User' }], ['User'], [{ __typename: 'Message', id: 'not an id' }]]) {
      const result = await ada.raw(ENTITIES, { representations });
      expect(errorCode(result)).toBe('BAD_USER_INPUT');
    }
    // Written inline too, where graphql-jit reads the literal.
    expect(errorCode(await ada.raw('{ _entities(representations: [{ __typename: "User", id: 5 }]) { __typename } }'))).toBe('BAD_USER_INPUT');
    expect(dataOf(await ada.raw(`{ _entities(representations: [{ __typename: "User", id: "${ada.sub}" }]) { __typename } }`))._entities).toEqual([{ __typename: 'User' }]);
    const tooMany = Array.from({ length: MAX_REPRESENTATIONS + 1 }, () => ({ __typename: 'User', id: ada.sub }));
    expect(errorCode(await ada.raw(ENTITIES, { representations: tooMany }))).toBe('BAD_USER_INPUT');
  });

  it('counts the cost per representation: a page of 100 through the gateway passes, 100 representations of it do not', async () => {
    const page = 'messages(first: 100) { edges { node { id text level createdAt read } } }';
    expect(dataOf(await post(gateway.url, ada.token, `{ me { ${page} } }`)).me.messages.edges).toHaveLength(2);
    const query = `query($representations: [_Any!]!) { _entities(representations: $representations) { ... on User { ${page} } } }`;
    const copies = (n: number) => ({ representations: Array.from({ length: n }, () => ({ __typename: 'User', id: ada.sub })) });
    expect(dataOf(await ada.raw(query, copies(10)))._entities).toHaveLength(10);
    const refused = await ada.raw(query, copies(MAX_REPRESENTATIONS));
    expect(errorCode(refused)).toBe('BAD_USER_INPUT');
    expect(refused.errors?.[0].message).toMatch(/100 representations cost \d+ with this selection; at most 10000 allowed/);
  });

  it('@graphql-tools/stitch: a schema stitched from both subgraphs answers the same, per caller', async () => {
    const schema = await stitched(accounts.url, messagesUrl(), producer.token);
    const ask = async (c: Caller) => dataOf((await graphql({ schema, source: '{ me { name unreadCount } }', contextValue: { token: c.token } })) as never);
    expect(await ask(ada)).toEqual({ me: { name: 'Ada Lovelace', unreadCount: 2 } });
    expect(await ask(grace)).toEqual({ me: { name: 'Grace Hopper', unreadCount: 1 } });
  });
});

describe('npm run schema:print -- --federation', () => {
  it('prints the subgraph SDL to standard output and leaves schema.graphql alone', async () => {
    const root = new URL('../../', import.meta.url);
    const before = readFileSync(new URL('schema.graphql', root), 'utf8');
    const { stdout } = await promisify(execFile)('npm', ['run', '--silent', 'schema:print', '--', '--federation'], { cwd: root });
    expect(stdout).toBe(`${printedSubgraphSchema()}\n`);
    expect(readFileSync(new URL('schema.graphql', root), 'utf8')).toBe(before);
  }, 60_000);
});

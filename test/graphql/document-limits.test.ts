import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MESSAGE, newProducer, newUser, sendMany, sendTo, unreadCount, type Caller } from '../factories.js';
import { startTestApp, type GqlResult, type TestApp } from '../harness.js';
import { wsClient, wsSubscribe } from '../live/helpers.js';

/**
 * CONTRACT.md §11 and security review item 1: documents past a limit (depth, aliases, tokens,
 * directives, fragment nesting, expanded size, cost) are refused with a code and no data before
 * anything runs, over HTTP and WebSocket; the server keeps answering; big legitimate queries pass.
 * The limits read the document only, so one backend is enough.
 */

const REFUSED_CODES = ['BAD_USER_INPUT', 'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED'];
const PAGE = `edges { node { id text data } }`;
const FULL_PAGE = `totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { ${MESSAGE} } }`;

/** `n` levels of `ofType` under an introspected field's type: depth 4 + n + 1. */
const ofTypes = (n: number) => `{ __schema { types { fields { type { ${'ofType { '.repeat(n)}name${' }'.repeat(n)} } } } } }`;
const inlineNested = (n: number) => `{ ${'... on Query { '.repeat(n)}__typename${' }'.repeat(n)} }`;
const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: unreadCount`).join(' ')} }`;
const directives = (n: number) => `{ ${'unreadCount @include(if: true) '.repeat(n)}}`;

/** K aliases at each of four fragment levels over pages of 100 messages: K^4 fields once expanded, from K·4 aliases. */
function fanOut(k: number): string {
  const times = (f: (i: number) => string) => Array.from({ length: k }, (_, i) => f(i)).join(' ');
  return [
    `{ ${times((i) => `m${i}: messages(first: 100) { ...C }`)} }`,
    `fragment C on MessageConnection { ${times((i) => `e${i}: edges { ...E }`)} }`,
    `fragment E on MessageEdge { ${times((i) => `n${i}: node { ...M }`)} }`,
    `fragment M on Message { ${times((i) => `t${i}: text`)} }`,
  ].join(' ');
}

function expectRefused(r: GqlResult, pattern: RegExp) {
  expect(r.data ?? null, JSON.stringify(r).slice(0, 300)).toBeNull();
  expect(REFUSED_CODES, JSON.stringify(r.errors).slice(0, 300)).toContain(r.errors?.[0]?.extensions?.code);
  expect(r.errors?.map((e) => e.message).join(' | ')).toMatch(pattern);
}

describe('document limits', () => {
  let t: TestApp;
  let user: Caller;
  beforeAll(async () => {
    t = await startTestApp('postgres');
    user = await newUser(t);
  });
  afterAll(async () => t?.close());

  const healthy = async () => expect((await fetch(`${t.baseUrl}/health`)).status).toBe(200);

  it('answers GraphiQL introspection query (depth counted, introspection included)', async () => {
    const r = await user.raw(getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, inputValueDeprecation: true }));
    expect(r.errors).toBeUndefined();
    expect(r.data.__schema.types.length).toBeGreaterThan(10);
  });

  it('refuses depth past 20, introspection included, and accepts 20', async () => {
    expect((await user.raw(ofTypes(15))).errors).toBeUndefined(); // depth 20
    expectRefused(await user.raw(ofTypes(16)), /depth limit of 20/);
    await healthy();
  });

  it('refuses a document nested deeper than the parser can recurse as the client\'s error, not a server error', async () => {
    // 3,320 levels fit in 10,000 tokens and overflow graphql-js' recursive parser.
    expectRefused(await user.raw(ofTypes(3_320)), /nests too deeply|depth limit of 20/);
    await healthy();
  });

  it('refuses inline fragments nested past 20 and accepts 20', async () => {
    expect((await user.raw(inlineNested(20))).data).toEqual({ __typename: 'Query' });
    expectRefused(await user.raw(inlineNested(21)), /nests fragments 21 deep/);
  });

  it('refuses more than 50 aliases and more than 50 directives', async () => {
    expect((await user.raw(aliases(50))).errors).toBeUndefined();
    expectRefused(await user.raw(aliases(51)), /Aliases limit of 50/);
    expect((await user.raw(directives(50))).errors).toBeUndefined();
    expectRefused(await user.raw(directives(51)), /Directives limit of 50/);
  });

  it('refuses documents of more than 10,000 tokens', async () => {
    const levels = (n: number) => `{ messages(filter: { levels: [${'INFO '.repeat(n)}] }) { totalCount } }`; // n + 16 tokens
    expect((await user.raw(levels(9_984))).data).toEqual({ messages: { totalCount: 0 } });
    expectRefused(await user.raw(levels(9_985)), /Token limit of 10000/);
  });

  it('refuses aliases fanned out through nested fragments before compiling them (review item 1)', async () => {
    // 8 aliases at each of 4 fragment levels: 409,600 values from a document of 600 bytes.
    const doc = fanOut(8);
    expect(doc.length).toBeLessThan(1_000);
    expectRefused(await user.raw(doc), /selects \d+ fields once its fragments are expanded; at most 1000/);
    await healthy();
  });

  it('refuses plain aliased pages past the cost limit, page sizes given as variables counted at their most', async () => {
    const many = `{ ${Array.from({ length: 50 }, (_, i) => `p${i}: messages(first: 100) { ${PAGE} }`).join(' ')} }`;
    expectRefused(await user.raw(many), /costs 20100 .* at most 10000/);
    const seven = `query($n: Int) { ${Array.from({ length: 7 }, (_, i) => `p${i}: messages(first: $n) { ${FULL_PAGE} }`).join(' ')} }`;
    expectRefused(await user.raw(seven, { n: 1 }), /costs 11256/);
    await healthy();
  });

  it('runs nothing of a refused document', async () => {
    const sender = await newUser(t);
    const doc = `mutation { addMessage(input: { level: STORED_INFO, text: "never" }) { stored } ${Array.from({ length: 51 }, (_, i) => `a${i}: markAllRead { count }`).join(' ')} }`;
    expectRefused(await sender.raw(doc), /Aliases limit of 50/);
    expect(await unreadCount(sender)).toBe(0);
  });

  it('applies the same limits over WebSocket', async () => {
    const client = wsClient(t.baseUrl, user.token);
    try {
      for (const [query, pattern] of [
        [ofTypes(16), /depth limit of 20/],
        [aliases(51), /Aliases limit of 50/],
        [fanOut(8), /fields once its fragments are expanded/],
      ] as const) {
        const sub = wsSubscribe(client, query);
        await sub.results.ended();
        const errors = sub.results.error as { message: string; extensions?: { code?: string } }[];
        expect(Array.isArray(errors), String(sub.results.error)).toBe(true);
        expect(errors.map((e) => e.message).join(' | ')).toMatch(pattern);
        expect(REFUSED_CODES).toContain(errors[0].extensions?.code);
        expect(sub.results.items).toEqual([]);
      }
    } finally {
      await client.dispose();
    }
  });
});

describe('answer size', () => {
  let t: TestApp;
  let reader: Caller;
  beforeAll(async () => {
    t = await startTestApp('postgres');
    const producer = await newProducer(t);
    reader = await newUser(t);
    // 100 messages of 10,000 characters: one page is about 1 MB of text.
    await sendMany(producer, reader.sub, 99, { prefix: 'x'.repeat(9_990) });
    await sendTo(producer, reader.sub, { text: 'last' });
  }, 120_000);
  afterAll(async () => t?.close());

  it('answers six full pages of the longest messages in one query', async () => {
    const doc = `{ ${Array.from({ length: 6 }, (_, i) => `p${i}: messages(first: 100) { ${FULL_PAGE} }`).join(' ')} }`;
    const r = await reader.raw(doc);
    expect(r.errors).toBeUndefined();
    expect(r.data.p5.edges).toHaveLength(100);
    expect(r.data.p0.edges[0].node.text).toBe('last');
  });

  it('refuses an answer past 16 MiB with a code and no data, and keeps serving', async () => {
    const texts = Array.from({ length: 20 }, (_, i) => `t${i}: text`).join(' ');
    const r = await reader.raw(`{ messages(first: 100) { edges { node { ${texts} } } } }`);
    expect(r.data ?? null).toBeNull();
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.errors?.[0]?.message).toMatch(/larger than 16 MiB/);
    expect((await fetch(`${t.baseUrl}/health`)).status).toBe(200);
    expect(await unreadCount(reader)).toBe(100);
  });
});

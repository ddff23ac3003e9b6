import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { counts, newUser, sendTo, newProducer, type Caller } from '../factories.js';
import { BACKENDS, startTestApp, type TestApp } from '../harness.js';

/**
 * Documents nested so deeply that graphql-js' recursive parser runs out of stack (found by the fuzz
 * test): a value literal a few thousand levels deep is a few kilobytes, under every size and token
 * limit. They are the client's mistake: refused as a syntax error (or past the token limit), no data, nothing changed.
 */
describe.each(BACKENDS)('deeply nested documents on %s', (backend) => {
  let t: TestApp;
  let user: Caller;
  beforeAll(async () => {
    t = await startTestApp(backend);
    user = await newUser(t);
    await sendTo(await newProducer(t), user.sub, { text: 'kept unread' });
  });
  afterAll(async () => t?.close());

  const list = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
  const object = (depth: number) => `${'{a: '.repeat(depth)}1${'}'.repeat(depth)}`;
  const documents: [string, string][] = [
    ['a list literal in a query', `{ messages(filter: { levels: ${list(3_000)} }) { totalCount } }`],
    ['an object literal in a mutation', `mutation { markRead(input: { ids: ${object(3_000)} }) { count } }`],
    ['a JSON literal in a send', `mutation { addMessage(input: { level: STORED_INFO, text: "deep", data: ${list(20_000)} }) { stored } }`],
    ['a selection set', `{ ${'messages { edges { node { '.repeat(5_000)}id${' } } }'.repeat(5_000)} }`],
  ];

  it.each(documents)('refuses %s as the client\'s document and changes nothing', async (_name, query) => {
    const before = await counts(user);
    const result = await user.raw(query);
    expect(result.data ?? null).toBeNull();
    expect(result.errors?.map((e) => e.extensions?.code)).toEqual(['GRAPHQL_PARSE_FAILED']);
    expect(await counts(user)).toEqual(before);
  });

  it('still parses a literal nested fifty levels deep as usual (data may nest 64)', async () => {
    const result = await user.raw(`mutation { addMessage(input: { level: STORED_INFO, text: "deep", data: ${list(50)} }) { stored } }`);
    expect(result.errors).toBeUndefined();
    expect(result.data.addMessage.stored).toBe(true);
  });
});

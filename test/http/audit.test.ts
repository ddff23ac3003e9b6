import { auditServer } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness.js';

/** GraphQL over HTTP conformance (graphql-http's server audits) of the running server, with a user's token. */
describe('GraphQL over HTTP audit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('postgres');
  });
  afterAll(async () => t?.close());

  it('passes every audit, MUST and SHOULD alike', async () => {
    const { token } = await t.userToken();
    // Every operation needs a token (CONTRACT.md §2): the audits' requests carry one.
    const fetchFn = (input: RequestInfo | URL, init: RequestInit = {}) => {
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${token}`);
      return fetch(input, { ...init, headers });
    };
    const results = await auditServer({ url: `${t.baseUrl}/graphql`, fetchFn });
    expect(results.length).toBeGreaterThanOrEqual(61);
    const failed = results.filter((r) => r.status !== 'ok').map((r) => `${r.status} ${r.name}: ${'reason' in r ? r.reason : ''}`);
    expect(failed).toEqual([]);
  });
});

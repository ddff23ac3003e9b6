import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness.js';

/**
 * Request parameters that are not valid JSON are the client's mistake: 400 with a coded error, never
 * a 200 INTERNAL_SERVER_ERROR. Parsing happens before any storage is touched, so one backend shows it.
 */
describe('malformed GraphQL-over-HTTP parameters', () => {
  let t: TestApp;
  let auth: string;
  beforeAll(async () => {
    t = await startTestApp('postgres');
    auth = `Bearer ${(await t.userToken()).token}`;
  });
  afterAll(async () => t?.close());

  const request = async (init: { method: 'GET' | 'POST'; search?: string; body?: string; contentType?: string }) => {
    const res = await fetch(`${t.baseUrl}/graphql${init.search ?? ''}`, {
      method: init.method,
      headers: { accept: 'application/graphql-response+json, application/json', authorization: auth, ...(init.contentType ? { 'content-type': init.contentType } : {}) },
      body: init.body,
    });
    return { status: res.status, body: (await res.json()) as { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] } };
  };
  const query = encodeURIComponent('{ unreadCount }');

  it.each(['variables', 'extensions'])('answers 400 naming %s when a GET query string holds malformed JSON there', async (param) => {
    for (const value of ['{', '{"a":', 'nope']) {
      const res = await request({ method: 'GET', search: `?query=${query}&${param}=${encodeURIComponent(value)}` });
      expect(res.status, value).toBe(400);
      expect(res.body.data).toBeUndefined();
      expect(res.body.errors).toEqual([{ message: `The "${param}" parameter is not valid JSON`, extensions: { code: 'BAD_REQUEST', field: param } }]);
    }
  });

  it('refuses a form-encoded POST with malformed variables as any form post (415), before reading them', async () => {
    const res = await request({ method: 'POST', contentType: 'application/x-www-form-urlencoded', body: `query=${query}&variables=%7B` });
    expect(res.status).toBe(415);
    expect(res.body.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
  });

  it.each([
    ['GET', 'variables', '[1]'],
    ['GET', 'variables', '"x"'],
    ['POST', 'variables', '[1]'],
    ['POST', 'variables', '"x"'],
    ['POST', 'variables', '1'],
    ['POST', 'extensions', '[1]'],
  ] as const)('answers 400 to %s %s that are JSON but not an object (%s)', async (method, param, value) => {
    const res =
      method === 'GET'
        ? await request({ method, search: `?query=${query}&${param}=${encodeURIComponent(value)}` })
        : await request({ method, contentType: 'application/json', body: `{"query":"{ unreadCount }","${param}":${value}}` });
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
  });

  it('still runs a GET whose parameters are well formed', async () => {
    const res = await request({ method: 'GET', search: `?query=${query}&variables=${encodeURIComponent('{}')}&extensions=${encodeURIComponent('{}')}` });
    expect(res).toEqual({ status: 200, body: { data: { unreadCount: 0 } } });
  });
});

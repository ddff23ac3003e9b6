import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SEND_SCOPE } from '../../src/auth.js';
import { TEST_SECRET } from '../env.js';
import { startTestApp, type GqlResult, type TestApp } from '../harness.js';
import { expiryOf, uid } from '../support.js';

/**
 * CONTRACT.md §2: every operation needs a valid bearer token; anything else is UNAUTHENTICATED
 * and changes nothing. Producers need the messages:send scope. HS256 secrets and JWKS (RS256/ES256)
 * are both checked against real servers: the app, and a JWKS endpoint on 127.0.0.1.
 */

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v), 'utf8').toString('base64url');
const now = () => Math.floor(Date.now() / 1000);
const secretKey = (s: string) => new TextEncoder().encode(s);

/** An HS256 token; `claims` are written as given (no sub unless listed). */
function hs256(claims: JWTPayload, o: { secret?: string; alg?: string; exp?: number } = {}): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: o.alg ?? 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime(o.exp ?? now() + 3600)
    .sign(secretKey(o.secret ?? TEST_SECRET));
}

/** A token with `alg: none` and no signature. */
const unsigned = (claims: JWTPayload) => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iat: now(), exp: now() + 3600, ...claims })}.`;

/** Runs an operation with exactly the given Authorization header (or none). */
async function call(t: TestApp, authorization: string | null, query: string, variables?: Record<string, unknown>): Promise<GqlResult> {
  const res = await fetch(`${t.baseUrl}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...(authorization === null ? {} : { authorization }),
    },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as GqlResult;
}

const STATE = '{ unreadCount pendingMessages { id } messages(first: 100) { totalCount edges { node { id read } } } }';

/** What an impostor holding a bad token tries: every write that would change the victim's messages. */
const WRITES: [string, (victim: string, messageId: string) => Record<string, unknown>][] = [
  ['mutation { addMessage(input: { level: STORED_INFO, text: "stored by impostor" }) { stored } }', () => ({})],
  ['mutation { addMessage(input: { level: INFO, text: "flash by impostor" }) { stored } }', () => ({})],
  ['mutation($u: [ID!]!) { addMessageFor(input: { userIds: $u, level: STORED_INFO, text: "x" }) { recipientCount } }', (v) => ({ u: [v] })],
  ['mutation { broadcastMessage(input: { level: STORED_INFO, text: "x" }) { recipientCount } }', () => ({})],
  ['mutation($ids: [ID!]!) { markRead(input: { ids: $ids }) { count } }', (_, id) => ({ ids: [id] })],
  ['mutation { markAllRead { count } }', () => ({})],
  ['mutation($ids: [ID!]!) { deleteMessages(input: { ids: $ids }) { count } }', (_, id) => ({ ids: [id] })],
  ['mutation { consumeMessages { unreadCount } }', () => ({})],
];

function expectUnauthenticated(r: GqlResult, label: string) {
  expect(r.errors?.[0]?.extensions?.code, `${label}: ${JSON.stringify(r)}`).toBe('UNAUTHENTICATED');
  expect(r.data ?? null, label).toBeNull();
}

/**
 * The victim gets one unread message from `producerToken`; then every read and write is tried with
 * each refused Authorization header, and the victim's messages must be exactly as before.
 */
async function expectRefusedAndHarmless(
  t: TestApp,
  who: { victimToken: string; victimSub: string; producerToken: string },
  headers: [string, string | null][],
) {
  const sent = await call(t, `Bearer ${who.producerToken}`, 'mutation($u: [ID!]!) { addMessageFor(input: { userIds: $u, level: STORED_INFO, text: "for the victim" }) { message { id } } }', {
    u: [who.victimSub],
  });
  expect(sent.errors).toBeUndefined();
  const messageId = sent.data.addMessageFor.message.id;
  const before = await call(t, `Bearer ${who.victimToken}`, STATE);
  expect(before.data.unreadCount).toBe(1);
  for (const [label, header] of headers) {
    expectUnauthenticated(await call(t, header, '{ unreadCount }'), `${label} (query)`);
    for (const [query, vars] of WRITES) expectUnauthenticated(await call(t, header, query, vars(who.victimSub, messageId)), `${label} ${query}`);
  }
  expect(await call(t, `Bearer ${who.victimToken}`, STATE)).toEqual(before);
}

describe('authentication with an HS256 secret', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('postgres');
  });
  afterAll(async () => t?.close());

  it('refuses missing, malformed, forged, unsigned and expired tokens with UNAUTHENTICATED, changing nothing', async () => {
    const victim = await t.userToken();
    const claims = { sub: victim.sub, scope: SEND_SCOPE };
    const good = await hs256(claims);
    const [head, body] = good.split('.');
    const headers: [string, string | null][] = [
      ['no header', null],
      ['empty header', ''],
      ['scheme only', 'Bearer'],
      ['scheme and space', 'Bearer '],
      ['basic auth', `Basic ${b64('user:password')}`],
      ['another scheme', `Token ${good}`],
      ['no scheme', good],
      ['two tokens', `Bearer ${good} ${good}`],
      ['not a JWT', 'Bearer not-a-jwt'],
      ['two parts', `Bearer ${head}.${body}`],
      ['garbage header part', `Bearer !!!.${body}.sig`],
      ['payload not JSON', `Bearer ${head}.${b64('not json')}.${good.split('.')[2]}`],
      ['tampered payload', `Bearer ${head}.${b64({ sub: victim.sub, scope: SEND_SCOPE, exp: now() + 7200 })}.${good.split('.')[2]}`],
      ['truncated signature', `Bearer ${good.slice(0, -4)}`],
      ['wrong secret', `Bearer ${await hs256(claims, { secret: 'another-secret-that-is-long-enough-0123' })}`],
      ['alg none', `Bearer ${unsigned(claims)}`],
      ['alg none, uppercase', `Bearer ${b64({ alg: 'NONE', typ: 'JWT' })}.${b64({ ...claims, exp: now() + 3600 })}.`],
      ['HS384 with the same secret', `Bearer ${await hs256(claims, { alg: 'HS384' })}`],
      ['HS512 with the same secret', `Bearer ${await hs256(claims, { alg: 'HS512' })}`],
      ['expired', `Bearer ${await hs256(claims, { exp: now() - 60 })}`],
      ['not yet valid', `Bearer ${await new SignJWT({ ...claims, nbf: now() + 3600 }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('2h').sign(secretKey(TEST_SECRET))}`],
    ];
    await expectRefusedAndHarmless(t, { victimToken: victim.token, victimSub: victim.sub, producerToken: (await t.producerToken()).token }, headers);
  });

  it('needs a sub of 1 to 255 code points', async () => {
    const victim = await t.userToken();
    const headers: [string, string | null][] = [
      ['no sub', `Bearer ${await hs256({ scope: SEND_SCOPE })}`],
      ['empty sub', `Bearer ${await hs256({ sub: '', scope: SEND_SCOPE })}`],
      ['numeric sub', `Bearer ${await hs256({ sub: 12345 as unknown as string, scope: SEND_SCOPE })}`],
      ['256 ASCII', `Bearer ${await hs256({ sub: 'a'.repeat(256), scope: SEND_SCOPE })}`],
      ['256 astral', `Bearer ${await hs256({ sub: '😀'.repeat(256), scope: SEND_SCOPE })}`],
      ['U+0000 in sub', `Bearer ${await hs256({ sub: `${victim.sub}\u0000`, scope: SEND_SCOPE })}`],
      ['lone surrogate in sub', `Bearer ${await hs256({ sub: `${victim.sub}\ud800`, scope: SEND_SCOPE })}`],
    ];
    await expectRefusedAndHarmless(t, { victimToken: victim.token, victimSub: victim.sub, producerToken: (await t.producerToken()).token }, headers);

    // At the limits: 255 code points, ASCII and astral (510 UTF-16 units), and a single character.
    for (const sub of ['a'.repeat(255), '😀'.repeat(255), 'x', `${uid()} with spaces ☢`]) {
      const r = await call(t, `Bearer ${await hs256({ sub })}`, '{ unreadCount }');
      expect(r, `sub of ${[...sub].length} code points`).toEqual({ data: { unreadCount: 0 } });
      const own = await call(t, `Bearer ${await hs256({ sub })}`, 'mutation { addMessage(input: { level: STORED_INFO, text: "mine" }) { stored } }');
      expect(own.errors).toBeUndefined();
      expect((await call(t, `Bearer ${await hs256({ sub })}`, '{ unreadCount }')).data?.unreadCount).toBe(1);
    }
  });

  it('needs a token for introspection and GET requests too', async () => {
    expectUnauthenticated(await call(t, null, '{ __typename }'), '__typename');
    expectUnauthenticated(await call(t, null, '{ __schema { queryType { name } } }'), '__schema');
    const res = await fetch(`${t.baseUrl}/graphql?query=${encodeURIComponent('{ unreadCount }')}`, { headers: { accept: 'application/graphql-response+json' } });
    expectUnauthenticated((await res.json()) as GqlResult, 'GET');
    const user = await t.userToken();
    const ok = await fetch(`${t.baseUrl}/graphql?query=${encodeURIComponent('{ unreadCount }')}`, {
      headers: { accept: 'application/graphql-response+json', authorization: `Bearer ${user.token}` },
    });
    expect(await ok.json()).toEqual({ data: { unreadCount: 0 } });
  });

  it('refuses a token once it expires, even right after it was accepted (verified tokens are not kept past exp)', async () => {
    const user = await t.userToken(undefined, { expiresIn: '10s' });
    expect(await call(t, `Bearer ${user.token}`, '{ unreadCount }')).toEqual({ data: { unreadCount: 0 } });
    // The server runs in this process: moving its clock past exp stands for waiting, and leaves timers alone.
    vi.useFakeTimers({ toFake: ['Date'], now: expiryOf(user.token) + 1000 });
    try {
      expectUnauthenticated(await call(t, `Bearer ${user.token}`, '{ unreadCount }'), 'expired after use');
    } finally {
      vi.useRealTimers();
    }
  });

  it('accepts the scheme in any case (RFC 6750)', async () => {
    const user = await t.userToken();
    for (const scheme of ['bearer', 'BEARER', 'Bearer']) {
      expect(await call(t, `${scheme} ${user.token}`, '{ unreadCount }')).toEqual({ data: { unreadCount: 0 } });
    }
  });

  it('needs the messages:send scope for addMessageFor and broadcastMessage (FORBIDDEN), and stores nothing without it', async () => {
    const target = await t.userToken();
    expect((await t.gql(target.token, '{ unreadCount }')).data.unreadCount).toBe(0); // known: broadcasts would reach it
    const scopes = [undefined, '', 'messages:read', 'messages:sender', 'messages:send:all', 'MESSAGES:SEND', 'xmessages:send', 'messages:send,openid'];
    for (const scope of scopes) {
      const token = await hs256({ sub: uid('not-a-producer'), ...(scope === undefined ? {} : { scope }) });
      const addFor = await call(t, `Bearer ${token}`, 'mutation($u: [ID!]!) { addMessageFor(input: { userIds: $u, level: STORED_INFO, text: "x" }) { recipientCount } }', {
        u: [target.sub],
      });
      expect(addFor.errors?.[0]?.extensions?.code, `scope ${JSON.stringify(scope)}`).toBe('FORBIDDEN');
      expect(addFor.data?.addMessageFor ?? null).toBeNull();
      const bc = await call(t, `Bearer ${token}`, 'mutation { broadcastMessage(input: { level: STORED_INFO, text: "x" }) { recipientCount } }');
      expect(bc.errors?.[0]?.extensions?.code, `scope ${JSON.stringify(scope)}`).toBe('FORBIDDEN');
    }
    expect((await t.gql(target.token, '{ unreadCount messages { totalCount } }')).data).toEqual({ unreadCount: 0, messages: { totalCount: 0 } });

    // Among other scopes, messages:send makes a producer.
    const producer = await hs256({ sub: uid('producer'), scope: `openid ${SEND_SCOPE} profile` });
    const ok = await call(t, `Bearer ${producer}`, 'mutation($u: [ID!]!) { addMessageFor(input: { userIds: $u, level: STORED_INFO, text: "x" }) { recipientCount } }', {
      u: [target.sub],
    });
    expect(ok).toEqual({ data: { addMessageFor: { recipientCount: 1 } } });
  });
});

describe('authentication with AUTH_ISSUER and AUTH_AUDIENCE', () => {
  let t: TestApp;
  const iss = 'https://issuer.example';
  const aud = 'stored-messages';
  beforeAll(async () => {
    t = await startTestApp('postgres', { AUTH_ISSUER: iss, AUTH_AUDIENCE: aud });
  });
  afterAll(async () => t?.close());

  it('accepts only tokens with the configured iss and aud', async () => {
    const victimSub = uid('victim');
    const victim = await hs256({ sub: victimSub, iss, aud });
    expect(await call(t, `Bearer ${victim}`, '{ unreadCount }')).toEqual({ data: { unreadCount: 0 } });
    const withAudList = await hs256({ sub: victimSub, iss, aud: ['other-api', aud] });
    expect(await call(t, `Bearer ${withAudList}`, '{ unreadCount }')).toEqual({ data: { unreadCount: 0 } });
    // The harness's tokens carry neither.
    expectUnauthenticated(await t.gql((await t.userToken()).token, '{ unreadCount }'), 'harness token');

    const claims = { sub: victimSub, scope: SEND_SCOPE };
    const producerToken = await hs256({ sub: uid('producer'), scope: SEND_SCOPE, iss, aud });
    await expectRefusedAndHarmless(t, { victimToken: victim, victimSub, producerToken }, [
      ['no iss, no aud', `Bearer ${await hs256(claims)}`],
      ['no iss', `Bearer ${await hs256({ ...claims, aud })}`],
      ['no aud', `Bearer ${await hs256({ ...claims, iss })}`],
      ['wrong iss', `Bearer ${await hs256({ ...claims, iss: 'https://evil.example', aud })}`],
      ['iss differing by a slash', `Bearer ${await hs256({ ...claims, iss: `${iss}/`, aud })}`],
      ['wrong aud', `Bearer ${await hs256({ ...claims, iss, aud: 'another-api' })}`],
      ['wrong aud list', `Bearer ${await hs256({ ...claims, iss, aud: ['a', 'b'] })}`],
    ]);
  });
});

describe('authentication with a JWKS endpoint (RS256 / ES256)', () => {
  let jwks: Server;
  let jwksUrl: string;
  let rsa: { privateKey: CryptoKey; publicKey: CryptoKey };
  let ec: { privateKey: CryptoKey; publicKey: CryptoKey };
  let stranger: { privateKey: CryptoKey; publicKey: CryptoKey };
  let t: TestApp;
  let both: TestApp;

  const rs256 = (claims: JWTPayload, o: { key?: CryptoKey; kid?: string; alg?: string; exp?: number } = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: o.alg ?? 'RS256', kid: o.kid ?? 'rsa-1', typ: 'JWT' })
      .setIssuedAt()
      .setExpirationTime(o.exp ?? now() + 3600)
      .sign(o.key ?? rsa.privateKey);
  const es256 = (claims: JWTPayload) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'ec-1', typ: 'JWT' }).setIssuedAt().setExpirationTime('1h').sign(ec.privateKey);

  beforeAll(async () => {
    rsa = await generateKeyPair('RS256', { extractable: true });
    ec = await generateKeyPair('ES256', { extractable: true });
    stranger = await generateKeyPair('RS256', { extractable: true });
    const keys: JWK[] = [
      { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
      { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
    ];
    jwks = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
    // An empty AUTH_JWT_SECRET counts as unset: only the JWKS is configured.
    t = await startTestApp('postgres', { AUTH_JWT_SECRET: '', AUTH_JWKS_URL: jwksUrl });
    both = await startTestApp('postgres', { AUTH_JWKS_URL: jwksUrl });
  });
  afterAll(async () => {
    await t?.close();
    await both?.close();
    await new Promise<void>((resolve) => (jwks?.listening ? jwks.close(() => resolve()) : resolve()));
  });

  it('accepts RS256 and ES256 tokens signed by keys of the JWKS, scope included', async () => {
    const userSub = uid('jwks-user');
    const user = await rs256({ sub: userSub });
    expect(await call(t, `Bearer ${user}`, '{ unreadCount }')).toEqual({ data: { unreadCount: 0 } });
    const producer = await es256({ sub: uid('jwks-producer'), scope: SEND_SCOPE });
    const sent = await call(t, `Bearer ${producer}`, 'mutation($u: [ID!]!) { addMessageFor(input: { userIds: $u, level: STORED_INFO, text: "via jwks" }) { recipientCount } }', {
      u: [userSub],
    });
    expect(sent).toEqual({ data: { addMessageFor: { recipientCount: 1 } } });
    expect(await call(t, `Bearer ${await es256({ sub: userSub })}`, '{ unreadCount }')).toEqual({ data: { unreadCount: 1 } });
  });

  it('refuses HS256, unknown keys, alg none and expired tokens when only a JWKS is configured, changing nothing', async () => {
    const victimSub = uid('jwks-victim');
    const victim = await rs256({ sub: victimSub });
    const claims = { sub: victimSub, scope: SEND_SCOPE };
    const rsaPem = await exportSPKI(rsa.publicKey);
    const headers: [string, string | null][] = [
      ['HS256 with the test secret', `Bearer ${await hs256(claims)}`],
      ['HS256 keyed with the RSA public key (algorithm confusion)', `Bearer ${await hs256(claims, { secret: rsaPem })}`],
      ['signed by a key outside the JWKS, known kid', `Bearer ${await rs256(claims, { key: stranger.privateKey })}`],
      ['signed by a key outside the JWKS, unknown kid', `Bearer ${await rs256(claims, { key: stranger.privateKey, kid: 'stranger' })}`],
      ['RS256 header on the EC key id', `Bearer ${await rs256(claims, { kid: 'ec-1' })}`],
      ['alg none', `Bearer ${unsigned(claims)}`],
      ['expired', `Bearer ${await rs256(claims, { exp: now() - 60 })}`],
    ];
    const producerToken = await rs256({ sub: uid('jwks-producer'), scope: SEND_SCOPE });
    await expectRefusedAndHarmless(t, { victimToken: victim, victimSub, producerToken }, headers);
  });

  it('accepts both kinds when both a secret and a JWKS are configured', async () => {
    const sub = uid('both');
    expect(await call(both, `Bearer ${await hs256({ sub })}`, '{ unreadCount }')).toEqual({ data: { unreadCount: 0 } });
    expect(await call(both, `Bearer ${await rs256({ sub })}`, '{ unreadCount }')).toEqual({ data: { unreadCount: 0 } });
    expect(await call(both, `Bearer ${await es256({ sub })}`, '{ unreadCount }')).toEqual({ data: { unreadCount: 0 } });
    expectUnauthenticated(await call(both, `Bearer ${await hs256({ sub }, { secret: await exportSPKI(rsa.publicKey) })}`, '{ unreadCount }'), 'confusion');
    expectUnauthenticated(await call(both, `Bearer ${await rs256({ sub }, { key: stranger.privateKey })}`, '{ unreadCount }'), 'stranger key');
  });

  it('refuses tokens as UNAUTHENTICATED, without internal detail, when the JWKS endpoint is unreachable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const down = await startTestApp('postgres', { AUTH_JWT_SECRET: '', AUTH_JWKS_URL: `http://127.0.0.1:${port}/jwks.json` });
    try {
      const r = await call(down, `Bearer ${await rs256({ sub: uid() })}`, '{ unreadCount }');
      expectUnauthenticated(r, 'JWKS down');
      expect(JSON.stringify(r)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|fetch failed|stack/i);
    } finally {
      await down.close();
    }
  });
});

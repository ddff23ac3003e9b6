import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeJwt, jwtVerify } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_SECRET } from './env.js';
import { createTestDatabase, dataOf, errorCode, startTestApp, type TestApp } from './harness.js';
import { userToken } from './support.js';
import { runSource, startSource } from './processes.js';

/**
 * CONTRACT.md §12: `stored-messages <command>` (here from source: `npm run cli -- …`), reading the
 * server's environment. token prints a JWT the server accepts; --help exits 0, bad arguments 2.
 */

const cli = (args: string[], env: Record<string, string> = {}) => runSource('src/cli.ts', args, env);
const key = (secret: string) => new TextEncoder().encode(secret);
const SEND_FOR = 'mutation($u: [ID!]!) { addMessageFor(input: { userIds: $u, level: STORED_INFO, text: "from the cli" }) { recipientCount } }';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'sm-cli-'));
});
afterAll(async () => rm(scratch, { recursive: true, force: true }));

describe('stored-messages token', () => {
  it('prints only a JWT signed with AUTH_JWT_SECRET, carrying sub, scope, exp, iss and aud', async () => {
    const env = { AUTH_JWT_SECRET: TEST_SECRET, AUTH_ISSUER: 'https://id.example', AUTH_AUDIENCE: 'stored-messages' };
    const r = await cli(['token', '--sub', 'alice', '--scope', 'messages:send', '--scope', 'extra:one', '--ttl', '2h'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const { payload, protectedHeader } = await jwtVerify(r.stdout.trim(), key(TEST_SECRET), { issuer: env.AUTH_ISSUER, audience: env.AUTH_AUDIENCE });
    expect(protectedHeader.alg).toBe('HS256');
    expect(payload).toMatchObject({ sub: 'alice', scope: 'messages:send extra:one' });
    expect(payload.exp! - payload.iat!).toBe(7200);
  }, 120_000);

  it('is valid one hour by default, with no scope', async () => {
    const r = await cli(['token', '--sub', 'bob'], { AUTH_JWT_SECRET: TEST_SECRET });
    expect(r.code, r.stderr).toBe(0);
    const payload = decodeJwt(r.stdout.trim());
    expect(payload.exp! - payload.iat!).toBe(3600);
    expect(payload.scope).toBeUndefined();
  }, 120_000);

  it('signs with the development secret under DATA_DIR when none is configured', async () => {
    const dataDir = path.join(scratch, 'dev');
    const r = await cli(['token', '--sub', 'demo-user'], { DATA_DIR: dataDir });
    expect(r.code, r.stderr).toBe(0);
    const secret = (await readFile(path.join(dataDir, 'dev-secret'), 'utf8')).trim();
    expect((await jwtVerify(r.stdout.trim(), key(secret))).payload.sub).toBe('demo-user');
  }, 120_000);

  it.each([
    ['in production without AUTH_JWT_SECRET', { NODE_ENV: 'production' }],
    ['with only AUTH_JWKS_URL (its tokens come from the identity provider)', { AUTH_JWKS_URL: 'https://id.example/jwks.json' }],
  ])('fails with exit code 1 naming AUTH_JWT_SECRET %s', async (_, env) => {
    const r = await cli(['token', '--sub', 'alice'], { ...env, DATA_DIR: path.join(scratch, 'never') });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('AUTH_JWT_SECRET');
    expect(r.stdout).toBe('');
  }, 120_000);
});

describe('a token from the CLI against a running server', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('postgres');
  });
  afterAll(async () => t?.close());

  it('authenticates a user, and a producer with --scope messages:send', async () => {
    const user = await cli(['token', '--sub', 'cli-user'], { AUTH_JWT_SECRET: TEST_SECRET });
    const producer = await cli(['token', '--sub', 'cli-producer', '--scope', 'messages:send'], { AUTH_JWT_SECRET: TEST_SECRET });
    expect(errorCode(await t.gql(user.stdout.trim(), SEND_FOR, { u: ['cli-user'] }))).toBe('FORBIDDEN');
    expect(dataOf(await t.gql(producer.stdout.trim(), SEND_FOR, { u: ['cli-user'] })).addMessageFor.recipientCount).toBe(1);
    expect(dataOf(await t.gql(user.stdout.trim(), '{ unreadCount }')).unreadCount).toBe(1);
  }, 120_000);
});

describe('arguments', () => {
  it.each([
    [[], /^no command given/],
    [['send-everything'], /^unknown command "send-everything"/],
    [['token'], /--sub is required/],
    [['token', '--sub', ''], /--sub: the user id must be 1 to 255 characters/],
    [['token', '--sub', 'a', '--ttl', 'soon'], /--ttl: "soon" is not a duration/],
    [['token', '--sub', 'a', '--ttl', '0'], /--ttl: "0" is not a duration/],
    [['token', '--sub', 'a', '--secret', 'x'], /Unknown option '--secret'/],
    [['token', '--sub'], /argument missing/],
    [['serve', 'now'], /Unexpected argument 'now'/],
    [['migrate', '--force'], /Unknown option '--force'/],
  ])('refuses %j with exit code 2 and a usage line', async (args, message) => {
    const r = await cli(args, { AUTH_JWT_SECRET: TEST_SECRET });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/^Usage: stored-messages /m);
    expect(r.stdout).toBe('');
  }, 120_000);

  it.each([
    [['--help'], 'Usage: stored-messages <command>'],
    [['help'], 'Usage: stored-messages <command>'],
    [['token', '--help'], 'Usage: stored-messages token --sub ID'],
    [['migrate', '-h'], 'Usage: stored-messages migrate'],
    [['serve', '--help'], 'Usage: stored-messages serve'],
  ])('%j prints the usage and exits 0', async (args, usage) => {
    const r = await cli(args);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.startsWith(usage)).toBe(true);
  }, 120_000);
});

describe('stored-messages migrate and serve', () => {
  it('migrate applies the migrations to DATABASE_URL, then finds none pending', async () => {
    const db = await createTestDatabase();
    try {
      const first = await cli(['migrate'], { DATABASE_URL: db.url });
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toMatch(/^applied Migration\d+/);
      const again = await cli(['migrate'], { DATABASE_URL: db.url });
      expect(again.stdout.trim()).toBe('no pending migrations');
    } finally {
      await db.drop();
    }
  }, 120_000);

  it('migrate run by three processes at once applies each migration once, and every one succeeds', async () => {
    const db = await createTestDatabase();
    try {
      const runs = await Promise.all([0, 1, 2].map(() => cli(['migrate'], { DATABASE_URL: db.url })));
      for (const r of runs) expect(r.code, r.stderr).toBe(0);
      expect(runs.filter((r) => r.stdout.startsWith('applied ')).length).toBe(1);
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ n: number; distinct: number }>('select count(*)::int as n, count(distinct name)::int as distinct from sm_migrations');
        expect(rows[0].n).toBe(rows[0].distinct);
        expect(rows[0].n).toBeGreaterThan(0);
      } finally {
        await client.end();
      }
    } finally {
      await db.drop();
    }
  }, 120_000);

  it('migrate needs no AUTH_JWT_SECRET in production: it verifies no tokens', async () => {
    const db = await createTestDatabase();
    try {
      const r = await cli(['migrate'], { DATABASE_URL: db.url, NODE_ENV: 'production' });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^applied Migration\d+/);
    } finally {
      await db.drop();
    }
  }, 120_000);

  it('serve starts the server as npm start does, and exits 0 on SIGTERM', async () => {
    const db = await createTestDatabase();
    const server = startSource('src/cli.ts', ['serve'], { DATABASE_URL: db.url, AUTH_JWT_SECRET: TEST_SECRET, HOST: '127.0.0.1', PORT: '0' });
    try {
      const [, url] = await server.waitFor(/listening on (http:\S+)\/graphql/);
      expect((await fetch(`${url}/health`)).status).toBe(200);
      await server.waitFor(/Development tokens/);
      expect(await server.stop('SIGTERM')).toBe(0);
    } finally {
      await server.stop('SIGKILL');
      await db.drop();
    }
  }, 120_000);

  it('serve drains after SIGTERM for SHUTDOWN_DRAIN_SECONDS: /ready 503, requests still served, then exit 0', async () => {
    const db = await createTestDatabase();
    const env = { DATABASE_URL: db.url, AUTH_JWT_SECRET: TEST_SECRET, HOST: '127.0.0.1', PORT: '0', SHUTDOWN_DRAIN_SECONDS: '4' };
    const server = startSource('src/cli.ts', ['serve'], env);
    try {
      const [, url] = await server.waitFor(/listening on (http:\S+)\/graphql/);
      expect((await fetch(`${url}/ready`)).status).toBe(200);
      const exited = server.stop('SIGTERM');
      await server.waitFor(/\/ready answers 503/);
      expect((await fetch(`${url}/ready`)).status).toBe(503);
      expect((await fetch(`${url}/health`)).status).toBe(200);
      const { token } = await userToken('draining-user');
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ unreadCount }' }),
      });
      expect(await res.json()).toEqual({ data: { unreadCount: 0 } });
      expect(await exited).toBe(0);
    } finally {
      await server.stop('SIGKILL');
      await db.drop();
    }
  }, 120_000);
});

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_ADMIN_URL, REDIS_URL, TEST_SECRET } from './env.js';
import { runSource, type Ended } from './processes.js';

/**
 * A setting that points at nothing usable stops `npm start` and `npm run migrate` with one or two
 * lines naming the setting and the fix: no stack trace (unless LOG_LEVEL=debug), exit code 1.
 */

let scratch: string;
/** A file where DATA_DIR expects a directory: even root cannot create a directory under it. */
let fileInTheWay: string;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'sm-startup-'));
  fileInTheWay = path.join(scratch, 'not-a-directory');
  await writeFile(fileInTheWay, '');
});
afterAll(async () => rm(scratch, { recursive: true, force: true }));

/** A loopback port with nothing listening on it (taken, then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const withDatabase = (url: URL | string) => ({ DATABASE_URL: String(url) });
const adminUrl = (change: (url: URL) => void) => {
  const url = new URL(PG_ADMIN_URL);
  change(url);
  return url;
};
/** A reachable PostgreSQL the server only reads from (no migrations): for failures that come after storage. */
const readOnlyDatabase = () => ({ ...withDatabase(PG_ADMIN_URL), MIGRATE_ON_START: 'false' });

const serve = (env: Record<string, string>) => runSource('src/main.ts', [], { AUTH_JWT_SECRET: TEST_SECRET, ...env });
const migrate = (env: Record<string, string>) => runSource('src/migrate.ts', [], env);

/** Exit code 1 and at most three lines, naming `setting` and containing `words`, without a stack trace. */
function expectNamed(r: Ended, setting: string, words: RegExp) {
  const output = `${r.stdout}${r.stderr}`.trim();
  expect(r.code, output).toBe(1);
  expect(output.split('\n').length, output).toBeLessThanOrEqual(3);
  expect(output).toMatch(new RegExp(`^${setting}: `));
  expect(output).toMatch(words);
  expect(output).not.toMatch(/^\s+at /m);
}

// Each case is its own process, mostly waiting for tsx to load: side by side (vitest's maxConcurrency bounds how many).
describe.concurrent.each([
  ['npm start', serve],
  ['npm run migrate', migrate],
])('%s with a DATABASE_URL that does not work', (_, run) => {
  it('names DATABASE_URL when nothing listens at its host and port', async () => {
    const port = await freePort();
    const r = await run(withDatabase(adminUrl((u) => (u.port = String(port)))));
    expectNamed(r, 'DATABASE_URL', new RegExp(`127\\.0\\.0\\.1:${port} \\(connection refused\\)`));
  }, 120_000);

  it('names DATABASE_URL when its host accepts the connection and never answers', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    try {
      const r = await run(withDatabase(adminUrl((u) => (u.port = String(port)))));
      expectNamed(r, 'DATABASE_URL', new RegExp(`127\\.0\\.0\\.1:${port} \\(no answer in time\\)`));
    } finally {
      silent.close();
    }
  }, 120_000);

  it('names DATABASE_URL when its database does not exist', async () => {
    const name = `sm_missing_${randomBytes(4).toString('hex')}`;
    const r = await run(withDatabase(adminUrl((u) => (u.pathname = `/${name}`))));
    expectNamed(r, 'DATABASE_URL', new RegExp(`database "${name}" does not exist.*\\n.*createdb`));
  }, 120_000);

  it('names DATABASE_URL when PostgreSQL refuses its user', async () => {
    const role = `sm_no_role_${randomBytes(4).toString('hex')}`;
    const r = await run(withDatabase(adminUrl((u) => (u.username = role))));
    expectNamed(r, 'DATABASE_URL', new RegExp(`refused the login of ${role} \\(role "${role}" does not exist\\).*\\n.*user name and password`));
  }, 120_000);
});

describe.concurrent('npm start with REDIS_URL where Redis does not answer', () => {
  // The storage case carries a password: it must not be printed.
  it.each([
    ['for storage (STORAGE_BACKEND=redis)', { STORAGE_BACKEND: 'redis' }, ':hunter2-secret@'],
    ['for live events only', readOnlyDatabase(), ''],
  ])('names REDIS_URL %s, and stops instead of retrying', async (_, env, credentials) => {
    const port = await freePort();
    const r = await serve({ ...env, REDIS_URL: `redis://${credentials}127.0.0.1:${port}` });
    expectNamed(r, 'REDIS_URL', new RegExp(`Redis at redis://(\\*+@)?127\\.0\\.0\\.1:${port} \\(connection refused\\)`));
    expect(r.stderr + r.stdout).not.toContain('hunter2');
  }, 120_000);
});

describe.concurrent('npm start that cannot listen', () => {
  let blocker: Server;
  let port: number;
  beforeAll(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    port = (blocker.address() as { port: number }).port;
  });
  afterAll(async () => new Promise((resolve) => blocker.close(resolve)));

  it('names PORT once, without the WebSocket server adding its own trace', async () => {
    const r = await serve({ ...readOnlyDatabase(), HOST: '127.0.0.1', PORT: String(port) });
    expectNamed(r, 'PORT', new RegExp(`127\\.0\\.0\\.1:${port} is already in use`));
    expect(r.stderr).not.toMatch(/EADDRINUSE|Please check your implementation/);
  }, 120_000);

  it('names HOST, not DATABASE_URL, when HOST is a name that does not resolve', async () => {
    const r = await serve({ ...readOnlyDatabase(), HOST: 'no-such-host.invalid', PORT: String(port) });
    expectNamed(r, 'HOST', /cannot listen on no-such-host\.invalid \(host name not found\)/);
  }, 120_000);

  it('adds the stack trace with LOG_LEVEL=debug', async () => {
    const r = await serve({ ...readOnlyDatabase(), HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'debug' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^PORT: /);
    expect(r.stderr).toMatch(/^\s+at /m);
  }, 120_000);
});

describe.concurrent('a DATA_DIR that cannot be written', () => {
  it.each([
    ['for the development secret (npm start without AUTH_JWT_SECRET)', () => runSource('src/main.ts', [], { DATA_DIR: path.join(fileInTheWay, 'data') })],
    ['for the embedded database (npm start)', () => serve({ DATA_DIR: path.join(fileInTheWay, 'data') })],
    ['for the embedded database (npm run migrate)', () => migrate({ DATA_DIR: path.join(fileInTheWay, 'data') })],
  ])('names DATA_DIR %s', async (_, run) => {
    const r = await run();
    expectNamed(r, 'DATA_DIR', /cannot write to .*not-a-directory\/data.* \(a part of the path is a file, not a directory\)/);
  }, 120_000);
});

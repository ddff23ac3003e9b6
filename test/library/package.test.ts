import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_SECRET } from '../env.js';
import { createTestDatabase } from '../harness.js';
import { repoRoot } from '../processes.js';

const run = promisify(execFile);
const tsc = path.join(repoRoot, 'node_modules/typescript/bin/tsc');

/** A consumer of the package: plain JavaScript, no tsx, importing it by name. */
const CONSUMER_JS = `
import { createStoredMessages } from 'stored-messages';
const stored = await createStoredMessages({ databaseUrl: process.env.DATABASE_URL, authJwtSecret: process.env.AUTH_JWT_SECRET, logLevel: 'silent' });
const sent = await stored.messages.addMessageFor({ userIds: ['built-user'], level: 'STORED_INFO', text: 'from dist' });
const read = await stored.messages.markRead('built-user', [sent.message.id]);
console.log(JSON.stringify({ id: sent.message.id, count: read.count, message: stored.schema.getType('Message')?.name, endpoint: stored.handler.graphqlEndpoint }));
await stored.close();
`;

/** The same in TypeScript, checked against the declarations the package's exports map names. */
const CONSUMER_TS = `
import { createStoredMessages, type Message, type StoredMessages } from 'stored-messages';
const stored: StoredMessages = await createStoredMessages({ storeLevels: ['STORED_INFO'], migrateOnStart: false });
const message: Message = (await stored.messages.addMessage('u', { level: 'INFO', text: 'x' })).message;
const when: Date = message.createdAt;
// @ts-expect-error unknown level names do not type-check
await stored.messages.addMessage('u', { level: 'LOUD', text: 'x' });
export { when };
`;

/**
 * The package as a user installs it: `npm run build`'s output (built here into a scratch directory
 * beside a copy of package.json), imported by name through the exports map by plain node.
 */
describe('the built package', () => {
  let dir: string;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'stored-messages-package-'));
    db = await createTestDatabase();
    await run(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', path.join(dir, 'dist')], { cwd: repoRoot });
    await copyFile(path.join(repoRoot, 'package.json'), path.join(dir, 'package.json'));
    await symlink(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'));
  }, 240_000);
  afterAll(async () => {
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs under plain node by package name, and the process ends by itself after close()', async () => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', CONSUMER_JS], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: db.url, AUTH_JWT_SECRET: TEST_SECRET },
      // Killed (and so failed) when something keeps the process alive after close().
      timeout: 60_000,
    });
    const out = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(out).toMatchObject({ count: 1, message: 'Message', endpoint: '/graphql' });
    expect(Buffer.from(out.id, 'base64url').toString()).toMatch(/^Message:\d+$/);
  }, 90_000);

  it('runs its command line (the package bin) from the build: migrate, send, cleanup, --help', async () => {
    const cli = (args: string[]) =>
      run(process.execPath, [path.join(dir, 'dist/src/cli.js'), ...args], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '', DATABASE_URL: db.url, LOG_LEVEL: 'error' },
        timeout: 60_000,
      });
    expect((await cli(['migrate'])).stdout).toMatch(/^(applied Migration\d+|no pending migrations)/);
    const sent = await cli(['send', '--to', 'built-cli-user', '--text', 'from the built command line']);
    expect(Buffer.from(sent.stdout.trim(), 'base64url').toString()).toMatch(/^Message:\d+$/);
    expect((await cli(['cleanup'])).stdout).toMatch(/^reclaimed \d+ expired deliveries and messages\n$/);
    expect((await cli(['send', '--help'])).stdout).toMatch(/^Usage: stored-messages send/);
    await expect(cli(['send', '--to', 'x'])).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/--text is required/) });
  }, 180_000);

  it('gives TypeScript consumers its declarations', async () => {
    await writeFile(path.join(dir, 'consumer.ts'), CONSUMER_TS);
    const tsconfig = { compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] }, files: ['consumer.ts'] };
    await writeFile(path.join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
    await expect(run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: dir })).resolves.toBeDefined();
  }, 120_000);
});

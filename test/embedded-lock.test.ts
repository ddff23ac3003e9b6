import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSource, startSource } from './processes.js';

/**
 * The embedded database's files belong to one process at a time: a second process (a CLI command, a
 * second `npm start`) on the same DATA_DIR is refused with a line naming DATA_DIR, and gets in once the
 * first has stopped, or died (its lock goes stale).
 */

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'sm-lock-'));
});
afterAll(async () => rm(scratch, { recursive: true, force: true }));

const env = (dataDir: string) => ({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' });
const send = (dataDir: string, text: string) => runSource('src/cli.ts', ['send', '--to', 'alice', '--text', text], env(dataDir));

describe('the embedded database under DATA_DIR', () => {
  it('refuses a second process while a server holds it, and lets it in after the server stopped', async () => {
    const dataDir = path.join(scratch, 'stopped');
    const server = startSource('src/main.ts', [], env(dataDir));
    try {
      await server.waitFor(/listening on http:/);
      const refused = await send(dataDir, 'while running');
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^DATA_DIR: the embedded database in .* is in use by another process\./m);
      expect(refused.stdout).toBe('');
    } finally {
      expect(await server.stop('SIGTERM')).toBe(0);
    }
    const after = await send(dataDir, 'after the server stopped');
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toMatch(/^[\w-]+\n$/);
  }, 180_000);

  it('lets the next process in once a killed holder\'s lock has gone stale', async () => {
    const dataDir = path.join(scratch, 'killed');
    const server = startSource('src/main.ts', [], env(dataDir));
    await server.waitFor(/listening on http:/);
    await server.stop('SIGKILL');
    const after = await send(dataDir, 'after a crash');
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toMatch(/^[\w-]+\n$/);
  }, 180_000);
});

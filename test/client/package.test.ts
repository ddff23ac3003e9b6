import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { generate } from '@graphql-codegen/cli';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import config from '../../codegen.js';

/**
 * What stored-messages/client ships: generated types that match schema.graphql, code that imports
 * nothing of the server, and a build that plain `node` can load.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLIENT = join(ROOT, 'client');
const run = promisify(execFile);

/** The only packages a browser app gets through stored-messages/client. */
const ALLOWED_PACKAGES = ['graphql-ws', '@graphql-typed-document-node/core'];

describe('stored-messages/client', () => {
  it('client/generated.ts is what codegen makes of schema.graphql and client/operations.graphql (npm run client:codegen)', async () => {
    const [output] = (await generate({ ...config, cwd: ROOT }, false)) as { filename: string; content: string }[];
    expect(relative(ROOT, join(ROOT, output.filename))).toBe(join('client', 'generated.ts'));
    expect(await readFile(join(CLIENT, 'generated.ts'), 'utf8')).toBe(output.content);
  });

  it('imports only its own modules and graphql-ws', async () => {
    const files = (await readdir(CLIENT)).filter((f) => f.endsWith('.ts'));
    expect(files).toContain('watch-inbox.ts');
    const outside: string[] = [];
    for (const file of files) {
      const { importedFiles } = ts.preProcessFile(await readFile(join(CLIENT, file), 'utf8'), true, true);
      for (const { fileName } of importedFiles) {
        const ownModule = /^\.\/[\w-]+\.js$/.test(fileName);
        if (!ownModule && !ALLOWED_PACKAGES.includes(fileName)) outside.push(`${file} -> ${fileName}`);
      }
    }
    expect(outside).toEqual([]);
  });

  it('docs/clients.md shows test/client/inbox-example.ts as it is (importing the package, not the folder)', async () => {
    const docs = await readFile(join(ROOT, 'docs/clients.md'), 'utf8');
    const block = /<!-- same as test\/client\/inbox-example.ts -->\n```ts\n([\s\S]*?)```/.exec(docs)?.[1];
    const example = await readFile(join(ROOT, 'test/client/inbox-example.ts'), 'utf8');
    expect(block).toBe(example.replace("'../../client/index.js'", "'stored-messages/client'"));
  });

  it('builds with browser types only and loads in plain node', async () => {
    // Inside node_modules, so the build's imports resolve to this repository's packages.
    const out = await mkdtemp(join(ROOT, 'node_modules', '.client-build-'));
    try {
      await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(CLIENT, 'tsconfig.json'), '--outDir', out]);
      const probe = `const c = await import(${JSON.stringify(join(out, 'index.js'))});
        console.log(JSON.stringify([typeof c.watchInbox, typeof c.createRequest, String(c.UnreadCountDocument).trim()]));`;
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', probe]);
      expect(JSON.parse(stdout)).toEqual(['function', 'function', 'query UnreadCount {\n  unreadCount\n}']);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 120_000);
});

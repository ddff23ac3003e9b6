import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/**
 * Builds the web inbox (web/inbox.ts, with lit and graphql-ws bundled) into one ES module,
 * dist/inbox/inbox.js, the file GET /inbox.js serves and `stored-messages/inbox` exports, and fails
 * when it grows past the budget. `npm run build` runs it; `npm start` runs it with `--if-stale`.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const INBOX_MODULE = join(ROOT, 'dist', 'inbox', 'inbox.js');
/** The budget for the module, gzipped. */
export const INBOX_BUDGET_BYTES = 30 * 1024;
// What the module is built from: a change to any of these makes it stale.
const SOURCES = ['web', 'client'].map((d) => join(ROOT, d));

export interface BuildInboxOptions {
  /** Build only when the module is missing or older than a source file (default false: always). */
  ifStale?: boolean;
}

/** Builds the module when asked (or stale); answers its gzipped size. Throws past the budget. */
export async function buildInbox(o: BuildInboxOptions = {}): Promise<{ built: boolean; gzipBytes: number }> {
  const built = !o.ifStale || isStale();
  if (built) {
    // Loaded only to build: an install without devDependencies can still start with a module built before.
    const { build } = await import('vite');
    await build({
      configFile: false,
      // Whatever NODE_ENV the caller runs under (vitest: test): lit's production build, resolved as in a release.
      mode: 'production',
      root: ROOT,
      logLevel: 'warn',
      // Explicit, since Vite derives them from NODE_ENV (vitest runs this under `test`, which means development).
      resolve: { conditions: ['browser', 'module', 'import', 'production', 'default'] },
      build: {
        lib: { entry: join(ROOT, 'web', 'inbox.ts'), formats: ['es'], fileName: () => 'inbox.js' },
        outDir: join(ROOT, 'dist', 'inbox'),
        // The declarations from `tsc -p web/tsconfig.json` live beside it.
        emptyOutDir: false,
        target: 'es2022',
        minify: true,
        // Library mode keeps whitespace for the sake of later bundlers; this module is served as it is.
        rolldownOptions: { output: { minify: true } },
      },
    });
  }
  const gzipBytes = gzipSync(readFileSync(INBOX_MODULE)).length;
  if (gzipBytes > INBOX_BUDGET_BYTES) throw new Error(`dist/inbox/inbox.js is ${gzipBytes} bytes gzipped, over the ${INBOX_BUDGET_BYTES}-byte budget`);
  return { built, gzipBytes };
}

function isStale(): boolean {
  let builtAt: number;
  try {
    builtAt = statSync(INBOX_MODULE).mtimeMs;
  } catch {
    return true;
  }
  return SOURCES.some((dir) => readdirSync(dir, { recursive: true, encoding: 'utf8' }).some((f) => statSync(join(dir, f)).mtimeMs > builtAt));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const ifStale = process.argv.includes('--if-stale');
  try {
    const { built, gzipBytes } = await buildInbox({ ifStale });
    console.log(`dist/inbox/inbox.js: ${built ? 'built' : 'up to date'}, ${(gzipBytes / 1024).toFixed(1)} KB gzipped (budget ${INBOX_BUDGET_BYTES / 1024} KB)`);
  } catch (err) {
    // `npm start` after an install without devDependencies: serve everything else; /inbox.js answers 404.
    if (!ifStale || (err as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    console.warn(`dist/inbox/inbox.js cannot be built here (${(err as Error).message.split('\n')[0]}): GET /inbox.js will answer 404 until \`npm run build:inbox\` runs`);
  }
}

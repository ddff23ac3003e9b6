import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The layering of src/ (docs/how-it-works.md, "Layers"): a module may import its own layer or a
 * lower-ranked one. Layers of equal rank are siblings and may not import each other.
 */
const LAYERS: { name: string; rank: number; paths: string[] }[] = [
  { name: 'entry', rank: 5, paths: ['main.ts', 'cli.ts', 'migrate.ts', 'process-tuning.ts', 'dev-secret.ts', 'commands/', 'library.ts', 'library/'] },
  { name: 'app', rank: 4, paths: ['app.ts', 'app-jobs.ts', 'app-plugins.ts', 'startup-errors.ts', 'web-assets.ts', 'demo-page.ts', 'observability/'] },
  { name: 'graphql', rank: 3, paths: ['graphql/'] },
  { name: 'realtime', rank: 3, paths: ['realtime/'] },
  { name: 'webhooks', rank: 3, paths: ['webhooks/'] },
  { name: 'storage', rank: 3, paths: ['storage/', 'migrations/'] },
  { name: 'auth', rank: 2, paths: ['auth.ts'] },
  { name: 'config', rank: 2, paths: ['config.ts'] },
  { name: 'redis', rank: 1, paths: ['redis/'] },
  { name: 'domain', rank: 0, paths: ['domain/'] },
];

/** Imports that break the rule today, each `from -> to` (paths under src/). */
const KNOWN_EXCEPTIONS = new Set<string>([]);

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

const layerOf = (path: string) => LAYERS.find((l) => l.paths.some((p) => (p.endsWith('/') ? path.startsWith(p) : path === p)));

/** Why `from` may not import `to` (paths under src/), or null when it may. */
function violation(from: string, to: string): string | null {
  const a = layerOf(from);
  const b = layerOf(to);
  if (!a || !b) return `${from} imports ${to}: ${!a ? from : to} is in no layer (add it to LAYERS)`;
  if (a === b || b.rank < a.rank) return null;
  const why = b.rank === a.rank ? `sibling layer ${b.name}` : `higher layer ${b.name}`;
  return `${from} (${a.name}) imports ${to} (${why})`;
}

/** Every module under src/, as a path under src/. */
const sourceFiles = () => readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => f.split('\\').join('/'));

/** Every relative import of every module, as paths under src/ with the .ts source suffix. */
function relativeImports(files: string[]): { from: string; to: string }[] {
  return files.flatMap((from) => {
    const { importedFiles } = ts.preProcessFile(readFileSync(join(SRC, from), 'utf8'), true, true);
    return importedFiles
      .map((i) => i.fileName)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => ({ from, to: posix.normalize(posix.join(posix.dirname(from), spec)).replace(/\.js$/, '.ts') }));
  });
}

describe('architecture: imports point down', () => {
  const files = sourceFiles();
  const imports = relativeImports(files);

  it('finds the imports it checks', () => {
    expect(imports.length).toBeGreaterThan(100);
    expect(imports).toContainEqual({ from: 'app.ts', to: 'domain/messages.ts' });
  });

  it('refuses upward, sibling and unplaced imports', () => {
    expect(violation('domain/messages.ts', 'app.ts')).toMatch(/higher layer app/);
    expect(violation('graphql/context.ts', 'realtime/live.ts')).toMatch(/sibling layer realtime/);
    expect(violation('graphql/context.ts', 'somewhere.ts')).toMatch(/in no layer/);
    expect(violation('storage/orm/store.ts', 'domain/message.ts')).toBeNull();
  });

  it('every module imports only its own layer or lower ones', () => {
    const problems = imports
      .filter(({ from, to }) => !KNOWN_EXCEPTIONS.has(`${from} -> ${to}`))
      .map(({ from, to }) => violation(from, to))
      .filter((p) => p !== null);
    expect(problems).toEqual([]);
  });

  it('every known exception still exists (delete it from KNOWN_EXCEPTIONS once it is gone)', () => {
    const present = new Set(imports.map(({ from, to }) => `${from} -> ${to}`));
    expect([...KNOWN_EXCEPTIONS].filter((e) => !present.has(e))).toEqual([]);
  });

  it('every module under src/ sits in a layer', () => {
    expect(files.filter((f) => !layerOf(f))).toEqual([]);
  });
});

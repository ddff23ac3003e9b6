// `npm run schema:print` writes schema.graphql from the code; `npm run schema:check` fails when it drifted;
// `npm run schema:print -- --federation` prints the federation subgraph SDL to stdout and writes nothing.
import { readFile, writeFile } from 'node:fs/promises';
import { printedSchema, printedSubgraphSchema } from '../src/graphql/schema.js';

const file = new URL('../schema.graphql', import.meta.url);
const printed = printedSchema();
if (process.argv.includes('--federation')) {
  process.stdout.write(`${printedSubgraphSchema()}\n`);
} else if (process.argv.includes('--check')) {
  const committed = await readFile(file, 'utf8').catch(() => '');
  if (committed !== printed) {
    console.error('schema.graphql is out of date: run `npm run schema:print` and commit it.');
    process.exit(1);
  }
  console.log('schema.graphql matches the code');
} else {
  await writeFile(file, printed);
  console.log('wrote schema.graphql');
}

/**
 * Imported first by bench/run.ts, before anything loads graphql-js: the app is measured in-process,
 * and graphql-js decides once, when it loads, whether process.env.NODE_ENV is 'production' (the
 * Dockerfile sets it). Outside production it checks every `instanceOf` for a second copy of itself,
 * CPU that a deployed server does not spend.
 * An explicit NODE_ENV in the environment wins. It also applies the V8 settings main.ts applies
 * (src/process-tuning.ts).
 */
import '../../src/process-tuning.js';
process.env.NODE_ENV ??= 'production';

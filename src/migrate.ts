import { migrate } from './commands/migrate.js';

// `npm run migrate` (dist/src/migrate.js in production): the same as `stored-messages migrate`.
process.exit(await migrate(process.env));

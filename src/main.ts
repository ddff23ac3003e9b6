import './process-tuning.js'; // first: V8 settings for a serving process (see the file)
import { serve } from './commands/serve.js';

// `npm start` (dist/src/main.js in production): the same as `stored-messages serve`.
process.exit(await serve(process.env));

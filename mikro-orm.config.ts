// Used by the MikroORM CLI (`npm run migration:create`, `npm run migration:check`).
import { ormOptions } from './src/storage/orm/orm-config.js';

export default ormOptions(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test');

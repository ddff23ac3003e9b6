import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261130122528 } from './Migration20261130122528.js';
import { Migration20261130150306 } from './Migration20261130150306.js';
import { Migration20261130170500 } from './Migration20261130170500.js';
import { Migration20261201120000 } from './Migration20261201120000.js';
import { Migration20261207003426 } from './Migration20261207003426.js';
import { Migration20261207120000 } from './Migration20261207120000.js';
import { Migration20261207150000 } from './Migration20261207150000.js';
import { Migration20261207180000 } from './Migration20261207180000.js';
import { Migration20261207200000 } from './Migration20261207200000.js';
import { Migration20261208090000 } from './Migration20261208090000.js';
import { Migration20261208110000 } from './Migration20261208110000.js';
import { Migration20261208130000 } from './Migration20261208130000.js';
import { Migration20261208150000 } from './Migration20261208150000.js';

/** Every migration, in order. `npm run migration:create` writes a new file; add it here. */
export const migrationsList: MigrationObject[] = [
  { name: 'Migration20261130122528', class: Migration20261130122528 },
  { name: 'Migration20261130150306', class: Migration20261130150306 },
  { name: 'Migration20261130170500', class: Migration20261130170500 },
  { name: 'Migration20261201120000', class: Migration20261201120000 },
  { name: 'Migration20261207003426', class: Migration20261207003426 },
  { name: 'Migration20261207120000', class: Migration20261207120000 },
  { name: 'Migration20261207150000', class: Migration20261207150000 },
  { name: 'Migration20261207180000', class: Migration20261207180000 },
  { name: 'Migration20261207200000', class: Migration20261207200000 },
  { name: 'Migration20261208090000', class: Migration20261208090000 },
  { name: 'Migration20261208110000', class: Migration20261208110000 },
  { name: 'Migration20261208130000', class: Migration20261208130000 },
  { name: 'Migration20261208150000', class: Migration20261208150000 },
];

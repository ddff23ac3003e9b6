import { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { startEmbeddedDatabase } from './embedded.js';
import { OrmLeases } from './orm/leases.js';
import { applyMigrations } from './orm/migrations.js';
import { Db } from './orm/db.js';
import { ormOptions } from './orm/orm-config.js';
import { AUTOVACUUM } from './orm/sql/maintenance.js';
import { OrmWebhookOutbox } from './orm/outbox.js';
import { OrmMessageStore } from './orm/store.js';
import { openRedisStore, resolveRedisTarget } from './redis/index.js';
import type { Leases } from '../domain/leases.js';
import type { MessageStore } from '../domain/message-store.js';
import type { WebhookOutbox, WebhookSignals } from '../domain/webhooks.js';

/**
 * Cleanup runs between two ANALYZEs (and VACUUMs of every table) where nothing else refreshes planner
 * statistics or reclaims dead rows: the embedded PGlite, and a PostgreSQL server with autovacuum off
 * (every 10 minutes at the default interval).
 */
const ANALYZE_EVERY_CLEANUPS = 10;
/** And when sends have doubled sm_delivery since the last ANALYZE (orm/upkeep.ts: analyzeOnGrowth). */
const ANALYZE_ON_GROWTH = 2;
/** MikroORM's own connections at most: migrations at start, and the EntityManager where one is used. */
const ORM_POOL_MAX = 2;

/** The store, and the leases of periodic jobs and the webhook outbox on the same database or Redis (closed with the store). */
export interface Storage extends MessageStore {
  readonly leases: Leases;
  /** The events written with each change when `webhookSignals` is set (empty otherwise), for the dispatcher. */
  readonly webhooks: WebhookOutbox;
}

export interface StorageOptions {
  logger: Logger;
  /** Keep the embedded database in memory instead of under DATA_DIR (tests). */
  embeddedInMemory?: boolean;
  /** Told the size of each group-committed batch of direct sends (metrics). */
  onSendBatch?: (size: number) => void;
  /** The signals written to the webhook outbox with each change (WEBHOOK_EVENTS); null or absent: webhooks off, nothing written. */
  webhookSignals?: WebhookSignals;
}

/**
 * Opens the configured backend: STORAGE_BACKEND=orm (PostgreSQL at DATABASE_URL, or the embedded
 * PGlite when it is unset) or redis (REDIS_URL / REDIS_CLUSTER_NODES, keys under REDIS_PREFIX).
 * Applies migrations when MIGRATE_ON_START allows.
 * The returned store's close() releases everything it opened.
 */
export async function openStorage(config: Config, o: StorageOptions): Promise<Storage> {
  if (config.storageBackend === 'redis') {
    const target = resolveRedisTarget(config.redisUrl, config.redisClusterNodes);
    if (!target) throw new Error('STORAGE_BACKEND=redis needs REDIS_URL or REDIS_CLUSTER_NODES');
    return openRedisStore(target, { prefix: config.redisPrefix, logger: o.logger, onSendBatch: o.onSendBatch, webhookSignals: o.webhookSignals });
  }
  const embedded = config.databaseUrl ? null : await startEmbeddedDatabase(o.embeddedInMemory ? null : config.dataDir);
  try {
    // MikroORM runs the migrations (and owns the entities); the store's statements go through a pool of its own.
    const orm = await MikroORM.init(ormOptions(embedded ?? config.databaseUrl!, { poolMax: embedded ? 1 : ORM_POOL_MAX }));
    const db = new Db(embedded ?? config.databaseUrl!, { max: embedded ? 1 : config.databasePoolMax, logger: o.logger });
    try {
      if (config.migrateOnStart) await applyMigrations(orm, config.databaseUrl);
      const [{ autovacuum }] = await db.sql(AUTOVACUUM);
      // What autovacuum would do, the store does from its cleanup runs (orm/upkeep.ts).
      const upkeep = embedded !== null || autovacuum !== 'on';
      const store = new OrmMessageStore(orm, db, {
        onClose: async () => embedded?.close(),
        analyzeEveryCleanups: upkeep ? ANALYZE_EVERY_CLEANUPS : undefined,
        analyzeOnGrowth: upkeep ? ANALYZE_ON_GROWTH : undefined,
        vacuum: upkeep,
        onSendBatch: o.onSendBatch,
        webhookSignals: o.webhookSignals,
      });
      return Object.assign(store, { leases: new OrmLeases(db), webhooks: new OrmWebhookOutbox(db) });
    } catch (err) {
      await db.end();
      await orm.close(true);
      throw err;
    }
  } catch (err) {
    await embedded?.close();
    throw err;
  }
}

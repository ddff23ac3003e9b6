import type { Leases } from '../../domain/leases.js';
import type { Db } from './db.js';
import { ACQUIRE_LEASE, RELEASE_LEASE } from './sql/leases.js';

/** Leases in sm_lease, on the store's pool: one statement per call, once per job round (not on any request's path). */
export class OrmLeases implements Leases {
  constructor(private readonly db: Db) {}

  async acquire(job: string, holder: string, ttlMs: number): Promise<boolean> {
    return (await this.db.sql(ACQUIRE_LEASE, { job, holder, ttlMs })).length > 0;
  }

  async release(job: string, holder: string): Promise<void> {
    await this.db.sql(RELEASE_LEASE, { job, holder });
  }
}

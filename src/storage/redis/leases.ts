import type { Leases } from '../../domain/leases.js';
import type { RedisClient } from '../../redis/connection.js';
import { LuaScripts } from '../../redis/scripts.js';
import type { RedisKeys } from './keys.js';

const SOURCE = {
  dir: new URL('./lua/', import.meta.url),
  scripts: { acquire: 'lease-acquire.lua', release: 'lease-release.lua' },
} as const;

/**
 * Leases as keys `<p>{lease}:<job>` holding the holder's id and lapsing with the key (Redis's clock).
 * Compare-then-write runs in one script, so a lease that lapses meanwhile is never overwritten.
 */
export class RedisLeases implements Leases {
  private readonly lua: LuaScripts<keyof typeof SOURCE.scripts>;

  constructor(
    client: RedisClient,
    private readonly keys: RedisKeys,
  ) {
    this.lua = new LuaScripts(client, 'leases', SOURCE);
  }

  async acquire(job: string, holder: string, ttlMs: number): Promise<boolean> {
    return (await this.lua.run('acquire', [this.keys.lease(job)], [holder, Math.ceil(ttlMs)])) === 1;
  }

  async release(job: string, holder: string): Promise<void> {
    await this.lua.run('release', [this.keys.lease(job)], [holder]);
  }
}

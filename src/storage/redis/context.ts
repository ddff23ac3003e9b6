import type { RedisClient } from './connection.js';
import { RedisKeys } from './keys.js';
import { Scripts, type Reply, type ScriptCall, type ScriptName } from './scripts.js';

/**
 * What the store's parts share: the client, the key layout, the scripts, and the two ways of
 * running a per-user script.
 *
 * Standalone Redis: the script also gets the global keys and delivers the user's pending broadcasts
 * itself, in the same atomic step. Redis Cluster: a script may only touch one slot, so the caller
 * reads the broadcast top from the global slot first and passes it in; when the user is further
 * behind, the script answers 'behind' with their watermark and is retried with the broadcasts the
 * user lacks. Catching up is idempotent (a watermark), so a retry or a concurrent caller is harmless.
 */
export class RedisContext {
  readonly keys: RedisKeys;
  readonly scripts: Scripts;

  constructor(
    readonly client: RedisClient,
    readonly cluster: boolean,
    prefix: string,
  ) {
    this.keys = new RedisKeys(prefix);
    this.scripts = new Scripts(client);
  }

  /** Runs a per-user script (lua/user.ts) after the broadcast catch-up; answers its result. */
  async userOp(userId: string, name: ScriptName, args: readonly (string | number)[], top?: string): Promise<Reply> {
    if (!this.cluster) {
      const { keys, args: all } = this.localCall(userId, name, args);
      return (await this.scripts.run(name, keys, all)).slice(2);
    }
    const u = this.keys.user(userId);
    const g = this.keys.g;
    let T = top ?? (await this.scripts.run('smSince', [g.seq, g.b, g.bm, g.bp], ['']))[0];
    let w0 = T;
    let list: string[] = [];
    for (let attempt = 0; attempt < 10; attempt++) {
      const r = await this.scripts.run(name, u, [userId, 'G', T, w0, list.length / 2, ...list, ...args]);
      if (r[0] === 'behind') {
        w0 = r[1];
        [T, ...list] = await this.scripts.run('smSince', [g.seq, g.b, g.bm, g.bp], [w0]);
        continue;
      }
      // The per-user step comes first, then the global index: see cleanup.ts for why this order.
      if (r[1] !== '') await this.client.zadd(g.ux, 'LT', r[1], userId);
      return r.slice(2);
    }
    throw new Error('broadcast catch-up did not settle');
  }

  /**
   * Many per-user scripts as one pipeline (one write, one round trip), answering each one's result in
   * order. On a cluster, where a pipeline may not span nodes, they run concurrently one by one.
   */
  async userOps(ops: readonly { userId: string; name: ScriptName; args: readonly (string | number)[] }[]): Promise<Reply[]> {
    if (this.cluster) return Promise.all(ops.map((o) => this.userOp(o.userId, o.name, o.args)));
    const replies = await this.scripts.runPipelined(ops.map((o) => this.localCall(o.userId, o.name, o.args)));
    return replies.map((r) => r.slice(2));
  }

  /** A per-user script on a single server: the user's keys and the global ones; its reply starts with two fields to drop. */
  private localCall(userId: string, name: ScriptName, args: readonly (string | number)[]): ScriptCall {
    const g = this.keys.g;
    return { name, keys: [...this.keys.user(userId), g.seq, g.b, g.bm, g.bp, g.ux, g.jq], args: [userId, 'L', ...args] };
  }

  /** Message bodies by id (null when gone): one MGET on a single server, one GET per slot group on a cluster. */
  async bodies(ids: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (!ids.length) return out;
    const keys = ids.map((id) => this.keys.body(id));
    const raws = this.cluster ? await Promise.all(keys.map((k) => this.client.get(k))) : await this.client.mget(keys);
    ids.forEach((id, i) => {
      const raw = raws[i];
      if (raw !== null && raw !== undefined) out.set(id, raw);
    });
    return out;
  }
}

import type { RedisClient } from '../../redis/connection.js';
import { RedisKeys } from './keys.js';
import { StoreScripts, type Reply, type UserScriptName } from './scripts.js';
import { encodeUserArgs, type UserArgs } from './user-args.js';

/** One per-user script call. */
export type UserOp = { [N in UserScriptName]: { userId: string; name: N; args: UserArgs[N] } }[UserScriptName];

/** The per-user scripts that write the webhook outbox (lua/lib/webhooks.lua); on a cluster the caller indexes their stream. */
const WEBHOOK_WRITERS: ReadonlySet<UserScriptName> = new Set(['setState', 'markAll', 'snooze', 'wake', 'delete', 'retract', 'deliver']);

/** Catch-up rounds before a per-user script gives up on a cluster (each round fetches what the user lacks). */
const CATCH_UP_ROUNDS = 10;
const PING_TIMEOUT_MS = 2000;

/**
 * What the store's parts share: the client, the key layout, the scripts, and the two ways of
 * running a per-user script.
 *
 * Standalone Redis: the script also gets the global keys and delivers the user's pending broadcasts
 * itself, in the same atomic step. Redis Cluster: a script may only touch one slot, so the caller
 * reads the broadcast top from the global slot first and passes it in; when the user is further
 * behind, the script answers 'behind' with their watermark and is retried with the broadcasts the
 * user lacks. Catching up is idempotent (a watermark), so a retry or a concurrent caller is harmless.
 *
 * Webhooks on a cluster: a user's script may not write the {global} index of webhook streams, so a
 * writer's stream is indexed before its step (a process dying between the two loses nothing: the
 * dispatcher finds an empty stream and drops it) and again after it when the script reports that it
 * made the stream non-empty ('ok+': a dispatcher may have dropped the entry meanwhile; outbox.ts).
 * Both only add an entry that is missing (NX): a claim's lease and a retry's time stay.
 */
export class RedisContext {
  readonly keys: RedisKeys;
  readonly scripts: StoreScripts;

  constructor(
    readonly client: RedisClient,
    readonly cluster: boolean,
    prefix: string,
    o: { webhooks?: boolean } = {},
  ) {
    this.keys = new RedisKeys(prefix);
    this.scripts = new StoreScripts(client, this.keys, { webhooks: o.webhooks ?? false });
  }

  /**
   * Runs a per-user script after the broadcast catch-up; answers its result (after 'ok', minexp).
   * `indexed`: the caller indexed the user's webhook stream before already (indexWebhooks, for many users at once).
   */
  async userOp<N extends UserScriptName>(userId: string, name: N, args: UserArgs[N], top?: string, o: { indexed?: boolean } = {}): Promise<Reply> {
    const own = encodeUserArgs[name](args);
    const wh = this.scripts.webhooks;
    if (!this.cluster) return (await this.scripts.run(name, this.localKeys(userId), [userId, 'local', wh, ...own])).slice(2);
    const keys = this.keys.user(userId);
    const indexed = wh !== '' && WEBHOOK_WRITERS.has(name);
    if (indexed && !o.indexed) await this.indexWebhooks([userId]);
    // A caller that read the top itself skips the retractions (rtop ''): the user's next script removes them.
    let { top: T, rtop: RT } = top !== undefined ? { top, rtop: '' } : await this.scripts.broadcastsSince({ after: '', rafter: '' });
    let [from, rfrom] = [T, RT];
    let [list, retracted] = [[] as string[], [] as string[]];
    for (let round = 0; round < CATCH_UP_ROUNDS; round++) {
      const r = await this.scripts.run(name, keys, [userId, 'cluster', wh, T, from, list.length / 2, ...list, RT, rfrom, retracted.length, ...retracted, ...own]);
      if (r[0] === 'behind') {
        // 'r<watermark>': the user's retractions are behind; else their broadcasts are.
        if (r[1].startsWith('r')) rfrom = r[1].slice(1);
        else from = r[1];
        const more = await this.scripts.broadcastsSince({ after: from, rafter: rfrom });
        [T, list, retracted] = [more.top, more.list, more.retracted];
        if (RT !== '') RT = more.rtop;
        continue;
      }
      // The per-user step comes first, then the global schedule: see cleanup.ts for why this order.
      if (r[1] !== '') await this.client.zadd(this.keys.global.usersDue, 'LT', r[1], userId);
      if (indexed && r[0] === 'ok+') await this.indexWebhooks([userId]);
      return r.slice(2);
    }
    throw new Error('broadcast catch-up did not settle');
  }

  /**
   * Many per-user scripts as one pipeline (one write, one round trip), answering each one's result in
   * order. On a cluster, where a pipeline may not span nodes, they run concurrently one by one.
   */
  async userOps(ops: readonly UserOp[]): Promise<Reply[]> {
    if (this.cluster) {
      await this.indexWebhooks(ops.filter((o) => WEBHOOK_WRITERS.has(o.name)).map((o) => o.userId));
      return Promise.all(ops.map((o) => this.userOp(o.userId, o.name, o.args as never, undefined, { indexed: true })));
    }
    const calls = ops.map((o) => ({
      name: o.name,
      keys: this.localKeys(o.userId),
      args: [o.userId, 'local', this.scripts.webhooks, ...(encodeUserArgs[o.name] as (a: unknown) => (string | number)[])(o.args)],
    }));
    return (await this.scripts.pipeline(calls)).map((r) => r.slice(2));
  }

  /** A per-user script's keys on a single server: the user's, then the global ones the prelude reads. */
  private localKeys(userId: string): string[] {
    const g = this.keys.global;
    return [...this.keys.user(userId), g.sequence, g.broadcasts, g.broadcastMeta, g.broadcastsPending, g.usersDue, g.journalDue, g.webhooksDue];
  }

  /** On a cluster with webhooks on, the users' webhook streams indexed due now unless they are, in one command. Nothing otherwise. */
  async indexWebhooks(userIds: readonly string[]): Promise<void> {
    if (!this.cluster || this.scripts.webhooks === '' || !userIds.length) return;
    const now = Date.now();
    await this.client.zadd(this.keys.global.webhooksDue, 'NX', ...userIds.flatMap((u) => [now, u]));
  }

  /** Throws when Redis does not answer a PING within PING_TIMEOUT_MS (readiness probe). */
  async ping(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('redis ping timed out')), PING_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.client.ping(), timeout]);
    } finally {
      clearTimeout(timer);
    }
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

/**
 * Key layout under REDIS_PREFIX (which may not contain braces, so the first `{...}` of every key is
 * ours and picks its Redis Cluster hash slot):
 *
 * - `<p>{u:<user id>}:<s|a|n|m|r|x|t|k|u>`: one user's state, all in that user's slot (see lua/lib.ts).
 * - `<p>{g}:<name>`: global state (id sequence, broadcasts, known users, reclaim indexes, send
 *   journal, idempotency records), all in one slot so each global step is one atomic script.
 * - `<p>{m:<message id>}`: a message body, stored once whatever the number of recipients.
 */
export const USER_KEY_NAMES = ['s', 'a', 'n', 'm', 'r', 'x', 't', 'k', 'u'] as const;

export interface GlobalKeys {
  seq: string;
  b: string;
  bm: string;
  bp: string;
  ux: string;
  k: string;
  mx: string;
  j: string;
  jq: string;
}

export class RedisKeys {
  readonly g: GlobalKeys;
  /** The body key less the id and the closing brace (the standalone send script completes it). */
  readonly bodyPrefix: string;
  /** A user's keys less the id and `}:<name>` (the standalone delivery script completes them). */
  readonly userKeyPrefix: string;

  constructor(readonly prefix: string) {
    if (/[{}]/.test(prefix)) throw new Error('REDIS_PREFIX must not contain braces');
    const g = (name: string) => `${prefix}{g}:${name}`;
    this.g = { seq: g('seq'), b: g('b'), bm: g('bm'), bp: g('bp'), ux: g('ux'), k: g('k'), mx: g('mx'), j: g('j'), jq: g('jq') };
    this.bodyPrefix = `${prefix}{m:`;
    this.userKeyPrefix = `${prefix}{u:`;
  }

  /** The keys of one user (USER_KEY_NAMES), in the order the scripts expect. */
  user(userId: string): string[] {
    const base = `${this.userKeyPrefix}${userId}}:`;
    return USER_KEY_NAMES.map((n) => base + n);
  }

  body(messageId: string): string {
    return `${this.bodyPrefix}${messageId}}`;
  }

  /** Idempotency record; the scope's length keeps scope/key pairs unambiguous. */
  idem(scope: string, key: string): string {
    return `${this.prefix}{g}:i:${scope.length}:${scope}:${key}`;
  }

  /** A same-slot placeholder for scripts whose idempotency key is optional. */
  get noIdem(): string {
    return `${this.prefix}{g}:i:-`;
  }
}

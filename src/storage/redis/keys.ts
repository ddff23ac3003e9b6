import { userTag } from '../../redis/keys.js';

/**
 * Key layout under REDIS_PREFIX (which may not contain braces, so the first `{...}` of every key is
 * ours and picks its Redis Cluster hash slot); docs/redis.md has the table, lua/lib/base.lua and
 * lua/lib/deliver.lua describe each key's contents.
 *
 * - `<p>{user:<id>}:<name>`: one user's state, all in that user's slot (the one rule: userTag).
 * - `<p>{global}:<name>`: global state (id sequence, broadcasts, known users, reclaim schedules,
 *   send journal, idempotency records), all in one slot so each global step is one atomic script.
 * - `<p>{message:<id>}`: a message body, stored once whatever the number of recipients.
 * - `<p>{lease}:<job>`: the lease of a periodic job (lua/lease-acquire.lua), in a slot of its own.
 */
/** A user's keys in the order the scripts take them (lua/lib/base.lua USER_KEY_SUFFIXES). */
export const USER_KEYS = [
  'state',
  'deliveries',
  'unread',
  'meta',
  'read-at',
  'expiries',
  'tombstones',
  'read-marks',
  'unread-below',
  'unseen',
  'unseen-below',
  'seen-at',
  'seen-marks',
  'unarchived',
  'unarchived-below',
  'archived-at',
  'archived-marks',
  'snoozes',
  'snoozed',
  'wakes',
  'prefs',
  'groups',
  'categories',
  'webhooks',
] as const;
export type UserKeyName = (typeof USER_KEYS)[number];

export interface GlobalKeys {
  sequence: string;
  broadcasts: string;
  broadcastMeta: string;
  broadcastsPending: string;
  usersDue: string;
  knownUsers: string;
  bodiesDue: string;
  journal: string;
  journalDue: string;
  /** user -> when their next snoozed delivery wakes (wakeDue). */
  wakeDue: string;
  /** Retracted message ids (lua/lib/retract.lua); a broadcast's scored by its retraction number. */
  retractions: string;
  /** broadcast id -> the users known when it was sent (a retraction's recipientCount). */
  broadcastRecipients: string;
  /** The broadcasts' webhook stream (list; its record counter is `sequence`'s webhook-seq): lua/lib/webhooks.lua. */
  webhooks: string;
  /** Webhook streams with events -> when the first is due (user id, or '' for the broadcasts'): outbox.ts. */
  webhooksDue: string;
}

export class RedisKeys {
  readonly global: GlobalKeys;
  /** The body key less the id and the closing brace (the standalone send scripts complete it). */
  readonly bodyPrefix: string;

  constructor(readonly prefix: string) {
    if (/[{}]/.test(prefix)) throw new Error('REDIS_PREFIX must not contain braces');
    const g = (name: string) => `${prefix}{global}:${name}`;
    this.global = {
      sequence: g('sequence'),
      broadcasts: g('broadcasts'),
      broadcastMeta: g('broadcast-meta'),
      broadcastsPending: g('broadcasts-pending'),
      usersDue: g('users-due'),
      knownUsers: g('known-users'),
      bodiesDue: g('bodies-due'),
      journal: g('journal'),
      journalDue: g('journal-due'),
      wakeDue: g('wake-due'),
      retractions: g('retractions'),
      broadcastRecipients: g('broadcast-recipients'),
      webhooks: g('webhooks'),
      webhooksDue: g('webhooks-due'),
    };
    this.bodyPrefix = `${prefix}{message:`;
  }

  /** The keys of one user (USER_KEYS), in the order the scripts expect. */
  user(userId: string): string[] {
    const base = `${this.prefix}${userTag(userId)}:`;
    return USER_KEYS.map((n) => base + n);
  }

  /** One of a user's keys by name. */
  userKey(userId: string, name: UserKeyName): string {
    return `${this.prefix}${userTag(userId)}:${name}`;
  }

  /** Held by the journalled send of a group key (its SHA-1) that is delivering (group-order.ts). */
  groupSending(digest: string): string {
    return `${this.prefix}{global}:group-sending:${digest}`;
  }

  /** A same-slot placeholder for sends without a group key. */
  get noGroupSending(): string {
    return `${this.prefix}{global}:group-sending:-`;
  }

  body(messageId: string): string {
    return `${this.bodyPrefix}${messageId}}`;
  }

  /** A direct message's addressed users (JSON), beside its body: whom a retraction visits. */
  recipients(messageId: string): string {
    return `${this.bodyPrefix}${messageId}}:to`;
  }

  /** Idempotency record; the scope's length keeps scope/key pairs unambiguous. */
  idempotency(scope: string, key: string): string {
    return `${this.prefix}{global}:idempotency:${scope.length}:${scope}:${key}`;
  }

  /** A periodic job's lease (one instance runs the job at a time). */
  lease(job: string): string {
    return `${this.prefix}{lease}:${job}`;
  }

  /** A same-slot placeholder for scripts whose idempotency key is optional. */
  get noIdempotency(): string {
    return `${this.prefix}{global}:idempotency:-`;
  }
}

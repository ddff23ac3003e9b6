import type { NewMessage } from '../../domain/message.js';
import { IDEMPOTENCY_TTL_SECONDS, type IdempotencyClaim } from '../../domain/message-store.js';
import type { RedisClient } from '../../redis/connection.js';
import { LuaScripts, type ScriptCall } from '../../redis/scripts.js';
import { encodeBody, messageJson, metaArgs, specTail } from './codec.js';
import type { RedisKeys } from './keys.js';

/** Every storage script answers a flat array of strings (or one string, made an array). */
export type Reply = string[];

/** Library files some scripts need besides lib/base, read-state, delivery and deliver (each script carries only what it uses). */
const WALK = ['lib/walk.lua'];
const SEND = ['lib/send.lua'];

/**
 * The storage scripts, one `.lua` file each under lua/ with its keys and arguments in its header;
 * every one gets lua/lib/base.lua, webhooks.lua, read-state.lua, delivery.lua, states.lua, forget.lua, retract.lua and
 * deliver.lua first (the prelude's catch-up removes retracted broadcasts), then the lib files it names.
 */
const SOURCE = {
  dir: new URL('./lua/', import.meta.url),
  lib: ['lib/base.lua', 'lib/webhooks.lua', 'lib/read-state.lua', 'lib/delivery.lua', 'lib/states.lua', 'lib/forget.lua', 'lib/retract.lua', 'lib/deliver.lua'],
  scripts: {
    // Per-user scripts (run through RedisContext.userOp, after the broadcast catch-up).
    list: { file: 'list.lua', lib: WALK },
    get: 'get.lua',
    count: 'count.lua',
    setState: { file: 'set-state.lua', lib: ['lib/change.lua'] },
    markAll: { file: 'mark-all.lua', lib: WALK },
    snooze: { file: 'snooze.lua', lib: ['lib/snooze.lua', 'lib/change.lua'] },
    wake: { file: 'wake.lua', lib: ['lib/snooze.lua'] },
    delete: 'delete.lua',
    retract: 'retract-user.lua',
    retracted: 'retracted.lua',
    oldestUnread: { file: 'oldest-unread.lua', lib: WALK },
    deliver: 'deliver.lua',
    sentTo: 'sent-to.lua',
    setPreference: 'set-preference.lua',
    cleanUser: 'clean-user.lua',
    nextDue: 'next-due.lua',
    // Sends and global steps.
    sendDirect: { file: 'send-direct.lua', lib: SEND },
    broadcast: { file: 'broadcast.lua', lib: SEND },
    sendBatch: 'send-batch.lua',
    deliverChunk: 'deliver-chunk.lua',
    beginSend: { file: 'begin-send.lua', lib: SEND },
    finishSend: 'finish-send.lua',
    journalDue: 'journal-due.lua',
    registerUser: 'register-user.lua',
    ensureUser: 'ensure-user.lua',
    broadcastsSince: 'broadcasts-since.lua',
    due: 'due.lua',
    forgetBodies: 'forget-bodies.lua',
    retractGlobal: 'retract.lua',
    remember: { file: 'remember.lua', lib: SEND },
    forgetResult: 'forget-result.lua',
  },
} as const;

export type ScriptName = keyof typeof SOURCE.scripts;
export type UserScriptName = 'list' | 'get' | 'count' | 'setState' | 'markAll' | 'snooze' | 'wake' | 'delete' | 'retract' | 'retracted' | 'oldestUnread' | 'deliver' | 'sentTo' | 'setPreference';

/** A journalled send's kind. */
export type SendKind = 'direct' | 'broadcast';

/** One direct send of a batch (sendBatch). */
export interface BatchedSend {
  message: NewMessage;
  users: readonly string[];
}

/** Typed wrappers of the global and send scripts: named parameters in, the script's reply out. */
export class StoreScripts {
  private readonly lua: LuaScripts<ScriptName>;

  /** '1' when the scripts write the webhook outbox (lua/lib/webhooks.lua), else ''. */
  readonly webhooks: string;

  constructor(
    client: RedisClient,
    private readonly keys: RedisKeys,
    o: { webhooks: boolean },
  ) {
    this.lua = new LuaScripts(client, 'storage', SOURCE);
    this.webhooks = o.webhooks ? '1' : '';
  }

  /** The full text of a script as Redis receives it (tests recognise it by its SHA-1). */
  source(name: ScriptName): string {
    return this.lua.sources[name];
  }

  async run(name: ScriptName, keys: readonly string[], args: readonly (string | number)[] = []): Promise<Reply> {
    return asReply(await this.lua.run(name, keys, args));
  }

  async pipeline(calls: readonly (ScriptCall & { name: ScriptName })[]): Promise<Reply[]> {
    return (await this.lua.pipeline(calls)).map(asReply);
  }

  /** send-direct.lua: a whole send to a few users, atomically (single server). */
  sendDirect(o: { users: readonly string[]; message: NewMessage; idempotency?: IdempotencyClaim }): Promise<Reply> {
    const keys = [...this.sendKeys(o.idempotency), this.keys.global.webhooksDue, ...o.users.flatMap((u) => this.keys.user(u))];
    return this.run('sendDirect', keys, [...this.sendArgs(o.message, o.idempotency), this.webhooks, ...o.users]);
  }

  /** broadcast.lua: a broadcast in one step (single server). */
  broadcast(o: { message: NewMessage; idempotency?: IdempotencyClaim }): Promise<Reply> {
    const g = this.keys.global;
    return this.run('broadcast', [...this.sendKeys(o.idempotency), g.webhooks, g.webhooksDue], [...this.sendArgs(o.message, o.idempotency), this.webhooks]);
  }

  /** send-batch.lua: many direct sends without idempotency keys (single server). */
  sendBatch(o: { sends: readonly BatchedSend[] }): Promise<Reply> {
    const g = this.keys.global;
    const args: (string | number)[] = [this.keys.prefix, this.keys.bodyPrefix, this.webhooks];
    for (const { message, users } of o.sends) args.push(encodeBody(message), ...metaArgs(message), specTail(message), users.length, ...users);
    return this.run('sendBatch', [g.sequence, g.broadcasts, g.broadcastMeta, g.broadcastsPending, g.usersDue, g.knownUsers, g.bodiesDue, g.webhooksDue], args);
  }

  /** deliver-chunk.lua: delivers a journalled send to some users (single server); spec: lua/lib/delivery.lua parse_spec. */
  deliverChunk(o: { id: string; spec: string; users: readonly string[] }): Promise<Reply> {
    const g = this.keys.global;
    const keys = [g.sequence, g.broadcasts, g.broadcastMeta, g.broadcastsPending, g.usersDue, g.knownUsers, g.webhooksDue];
    return this.run('deliverChunk', keys, [o.id, o.spec, this.keys.prefix, this.webhooks, ...o.users]);
  }

  /** begin-send.lua: the first, global step of a journalled send; groupLock: its group-sending key or '' (group-order.ts). */
  beginSend(o: { kind: SendKind; users: readonly string[]; message: NewMessage; entry: string; idempotency?: IdempotencyClaim; groupLock: string; groupMs: number }): Promise<Reply> {
    const g = this.keys.global;
    const idem = o.idempotency;
    return this.run(
      'beginSend',
      [g.sequence, g.broadcastsPending, g.knownUsers, this.idempotencyKey(idem), g.journal, g.journalDue, o.groupLock || this.keys.noGroupSending],
      [o.kind, idem ? '1' : '0', idem?.fingerprint ?? '', idem ? messageJson(o.message) : '', o.entry, IDEMPOTENCY_TTL_SECONDS, o.groupLock ? o.groupMs : '', ...o.users],
    );
  }

  /** finish-send.lua: the last, global step of a journalled send. */
  finishSend(o: { id: string; kind: SendKind; spec: string; expiresAt: string; idempotencyKey: string; groupLock: string; recipients: number | null; indexUsers: readonly string[] }): Promise<Reply> {
    const g = this.keys.global;
    return this.run(
      'finishSend',
      [
        ...[g.sequence, g.broadcasts, g.broadcastMeta, g.broadcastsPending, g.usersDue, g.bodiesDue, o.idempotencyKey || this.keys.noIdempotency],
        ...[g.journal, g.journalDue, g.webhooks, g.webhooksDue, o.groupLock || this.keys.noGroupSending],
      ],
      [o.id, o.kind, o.spec, o.expiresAt, o.idempotencyKey ? '1' : '0', o.recipients ?? '', this.webhooks, ...o.indexUsers],
    );
  }

  /** journal-due.lua: id, entry pairs of sends left midway for at least `ageMs`. */
  journalDue(o: { ageMs: number; limit: number }): Promise<Reply> {
    const g = this.keys.global;
    return this.run('journalDue', [g.journal, g.journalDue], [o.ageMs, o.limit]);
  }

  /** register-user.lua (Cluster): the user's registration watermark. */
  async registerUser(o: { userId: string }): Promise<string> {
    const g = this.keys.global;
    return (await this.run('registerUser', [g.sequence, g.broadcastsPending, g.knownUsers], [o.userId]))[0];
  }

  /** ensure-user.lua (single server). */
  async ensureUser(o: { userId: string }): Promise<void> {
    const g = this.keys.global;
    await this.run('ensureUser', [this.keys.userKey(o.userId, 'state'), g.sequence, g.broadcastsPending, g.knownUsers], [o.userId]);
  }

  /** broadcasts-since.lua (Cluster): the broadcast and retraction tops, the broadcasts (id, meta pairs) after `after` and the retracted ones after `rafter` ('' = none). */
  async broadcastsSince(o: { after: string; rafter: string }): Promise<{ top: string; rtop: string; list: string[]; retracted: string[] }> {
    const g = this.keys.global;
    const [top, rtop, n, ...rest] = await this.run('broadcastsSince', [g.sequence, g.broadcasts, g.broadcastMeta, g.broadcastsPending, g.retractions], [o.after, o.rafter]);
    return { top, rtop, list: rest.slice(0, 2 * Number(n)), retracted: rest.slice(2 * Number(n)) };
  }

  /** retract.lua: the global step of a retraction. */
  retractGlobal(o: { id: string; schedule: string }): Promise<Reply> {
    const g = this.keys.global;
    return this.run('retractGlobal', [g.sequence, g.broadcasts, g.broadcastMeta, g.retractions, g.bodiesDue, g.broadcastRecipients, o.schedule, g.webhooks, g.webhooksDue], [o.id, this.webhooks]);
  }

  /** due.lua: what a schedule (users-due, bodies-due) holds that is due now. */
  due(o: { schedule: 'usersDue' | 'bodiesDue'; limit: number }): Promise<Reply> {
    return this.run('due', [this.keys.global[o.schedule]], [o.limit]);
  }

  /** forget-bodies.lua */
  async forgetBodies(o: { ids: readonly string[] }): Promise<void> {
    const g = this.keys.global;
    await this.run('forgetBodies', [g.bodiesDue, g.broadcasts, g.broadcastMeta, g.broadcastRecipients], o.ids);
  }

  /** remember.lua */
  remember(o: { claim: IdempotencyClaim; result: string }): Promise<Reply> {
    return this.run('remember', [this.idempotencyKey(o.claim)], [o.claim.fingerprint, o.result, IDEMPOTENCY_TTL_SECONDS]);
  }

  /** forget-result.lua */
  async forgetResult(o: { claim: IdempotencyClaim }): Promise<void> {
    await this.run('forgetResult', [this.idempotencyKey(o.claim)], [o.claim.fingerprint]);
  }

  /** clean-user.lua: [reclaimed, trimmed, next due]. */
  cleanUser(o: { userId: string; maxDeliveries: number; maxTrim: number }): Promise<Reply> {
    return this.run('cleanUser', this.keys.user(o.userId), [o.maxDeliveries, o.maxTrim]);
  }

  /** next-due.lua: when the cleanup is next due for the user ('' = never). */
  async nextDue(o: { userId: string }): Promise<string> {
    return (await this.run('nextDue', this.keys.user(o.userId)))[0];
  }

  idempotencyKey(claim: IdempotencyClaim | undefined): string {
    return claim ? this.keys.idempotency(claim.scope, claim.key) : this.keys.noIdempotency;
  }

  /** KEYS[1..8] of send-direct.lua and broadcast.lua. */
  private sendKeys(idem: IdempotencyClaim | undefined): string[] {
    const g = this.keys.global;
    return [g.sequence, g.broadcasts, g.broadcastMeta, g.broadcastsPending, g.usersDue, g.knownUsers, g.bodiesDue, this.idempotencyKey(idem)];
  }

  /** ARGV[1..10] of send-direct.lua and broadcast.lua (ARGV[11], webhooks, follows); the message JSON is kept only under an idempotency key (for replays). */
  private sendArgs(message: NewMessage, idem: IdempotencyClaim | undefined): (string | number)[] {
    return [
      idem ? '1' : '0',
      idem?.fingerprint ?? '',
      idem ? messageJson(message) : '',
      encodeBody(message),
      ...metaArgs(message),
      this.keys.bodyPrefix,
      IDEMPOTENCY_TTL_SECONDS,
      specTail(message),
    ];
  }
}

const asReply = (reply: unknown): Reply => (Array.isArray(reply) ? (reply as Reply) : [reply as string]);

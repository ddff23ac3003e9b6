import { isMessageId, type NewMessage } from '../../domain/message.js';
import {
  IDEMPOTENCY_TTL_SECONDS,
  IdempotencyMismatch,
  type DeliveredSchedule,
  type IdempotencyClaim,
  type Recipients,
  type ScheduledPage,
  type ScheduledRecord,
  type SendResult,
} from '../../domain/message-store.js';
import { parseScheduleCursor, reviveScheduledMessage, scheduleCursor, scheduledMessageJson, scheduledRecord } from '../../domain/schedules.js';
import { LuaScripts } from '../../redis/scripts.js';
import type { RedisContext } from './context.js';
import { parseUserReply } from './replies.js';
import type { Reply } from './scripts.js';

/**
 * How long a claim lasts by default: a caller that died after claiming is replaced once it ends. A live
 * caller outlasting it does no harm (the retaker's send replays: see deliverDue), so it only bounds the delay.
 */
const CLAIM_LEASE_MS = 5_000;
/** Deliveries one deliverDue call sends at most (a broadcast counts one; at least one schedule), so a batch of large sends stops early. */
const DELIVERIES_MAX = 20_000;
/** The idempotency scope of scheduled deliveries (no ':', so never a caller's scope). */
const DELIVERY_SCOPE = 'schedule';
const SCHEDULE_FIELDS = 6; // id, message, users, deliver-at, recipients, state: schedule-lib.lua

const SOURCE = {
  dir: new URL('./lua/', import.meta.url),
  lib: ['schedule-lib.lua'],
  scripts: {
    add: 'schedule-add.lua',
    page: 'schedule-page.lua',
    claim: 'schedule-claim.lua',
    finish: 'schedule-finish.lua',
    cancel: 'schedule-cancel.lua',
    cleanup: 'schedule-cleanup.lua',
  },
} as const;

/** A pending-index member (schedule-lib.lua): lexicographic order is (deliverAt, id). */
const member = (ms: number, id: string) => `${String(ms).padStart(15, '0')}:${id.padStart(18, '0')}`;

/** Schedules in a script's reply: SCHEDULE_FIELDS strings each. */
function parseSchedules(r: readonly string[]): { record: ScheduledRecord; users: string[] | null; message: NewMessage }[] {
  const out = [];
  for (let i = 0; i + SCHEDULE_FIELDS <= r.length; i += SCHEDULE_FIELDS) {
    const [id, json, users, deliverAt, recipients] = r.slice(i, i + SCHEDULE_FIELDS);
    const message = reviveScheduledMessage(JSON.parse(json));
    const list = users === '' ? null : (JSON.parse(users) as string[]);
    out.push({ record: scheduledRecord(id, message, new Date(Number(deliverAt)), Number(recipients), list === null), users: list, message });
  }
  return out;
}

/**
 * Scheduled messages on Redis (keys in docs/redis.md, all in the `{global}` slot; scripts
 * lua/schedule-*.lua). deliverDue claims due schedules atomically with a lease, delivers each through
 * the store's ordinary send with an idempotency claim derived from the schedule's id, then marks them
 * delivered. A caller that dies midway leaves its claims to lapse; whoever retakes one sends it again
 * with the same claim, which replays the first send if it happened: delivered once. Signalled once too:
 * by the caller that marks it delivered (a replay's recipients read again: see resent).
 */
export class RedisSchedules {
  private readonly lua: LuaScripts<keyof typeof SOURCE.scripts>;
  private readonly keys: { prefix: string; pending: string; claimed: string; done: string; sequence: string; knownUsers: string };

  constructor(
    private readonly ctx: RedisContext,
    private readonly send: (message: NewMessage, to: Recipients, idem: IdempotencyClaim) => Promise<SendResult>,
    private readonly o: { leaseMs?: number } = {},
  ) {
    this.lua = new LuaScripts(ctx.client, 'schedules', SOURCE);
    const g = (name: string) => `${ctx.keys.prefix}{global}:${name}`;
    const { sequence, knownUsers } = ctx.keys.global;
    this.keys = { prefix: g('schedule:'), pending: g('schedules-pending'), claimed: g('schedules-claimed'), done: g('schedules-done'), sequence, knownUsers };
  }

  async schedule(message: NewMessage, to: Recipients, deliverAt: Date, idem?: IdempotencyClaim): Promise<ScheduledRecord & { replayed: boolean }> {
    const k = this.keys;
    const users = 'everyone' in to ? null : [...new Set(to.userIds)];
    const ms = deliverAt.getTime();
    const r = await this.run('add', [k.sequence, k.knownUsers, k.pending, this.ctx.scripts.idempotencyKey(idem)], [
      k.prefix,
      idem ? '1' : '0',
      idem?.fingerprint ?? '',
      JSON.stringify(scheduledMessageJson(message)),
      users ? JSON.stringify(users) : '',
      users ? users.length : '',
      ms,
      String(ms).padStart(15, '0'),
      IDEMPOTENCY_TTL_SECONDS,
    ]);
    if (r[0] === 'mismatch') throw new IdempotencyMismatch('idempotency key reused with different input');
    return { ...parseSchedules(r.slice(1))[0].record, replayed: r[0] === 'replay' };
  }

  async scheduled(query: { limit: number; cursor: string | null }): Promise<ScheduledPage> {
    const after = parseScheduleCursor(query.cursor);
    const [total, ...rest] = await this.run('page', [this.keys.pending], [this.keys.prefix, after ? member(after.afterMs, after.afterId) : '', query.limit + 1]);
    const found = parseSchedules(rest).map((s) => s.record);
    const items = found.slice(0, query.limit).map((s) => ({ cursor: scheduleCursor(s), scheduled: s }));
    return { items, hasNextPage: found.length > query.limit, totalCount: Number(total) };
  }

  async cancelScheduled(id: string): Promise<{ cancelled: boolean; scheduled: ScheduledRecord } | null> {
    if (!isMessageId(id)) return null;
    const r = await this.run('cancel', [this.keys.pending, this.keys.done], [this.keys.prefix, id]);
    if (r[0] === 'unknown') return null;
    return { cancelled: r[0] === 'cancelled', scheduled: parseSchedules(r.slice(1))[0].record };
  }

  /**
   * Claims, sends (all of a batch at once), then marks delivered what was sent, and answers what this
   * call marked: only the caller that marks a schedule signals it, so its live events fire once, also
   * when a retaken send replays (its first deliverer died, or outlived its lease, before marking it).
   * A send that fails stays claimed and is retried once its lease lapses; the batch still answers the
   * others, unless none was sent.
   */
  async deliverDue(now: Date, limit: number): Promise<DeliveredSchedule[]> {
    const k = this.keys;
    const claimed = parseSchedules(await this.run('claim', [k.pending, k.claimed], [k.prefix, member(now.getTime() + 1, '').slice(0, 16), limit, this.o.leaseMs ?? CLAIM_LEASE_MS, DELIVERIES_MAX]));
    const sent = await Promise.allSettled(
      claimed.map((s) => this.send(s.message, s.users ? { userIds: s.users } : { everyone: true }, { scope: DELIVERY_SCOPE, key: s.record.id, fingerprint: DELIVERY_SCOPE })),
    );
    const delivered: (DeliveredSchedule & { users: string[] | null })[] = [];
    sent.forEach((r, i) => r.status === 'fulfilled' && delivered.push({ scheduled: claimed[i].record, result: r.value, users: claimed[i].users }));
    const failed = sent.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed && !delivered.length) throw failed.reason;
    if (!delivered.length) return [];
    const marked = new Set(await this.run('finish', [k.claimed, k.done], [k.prefix, ...delivered.flatMap((d) => [d.scheduled.id, d.result.message.id])]));
    const mine = delivered.filter((d) => marked.has(d.scheduled.id));
    return Promise.all(mine.map(async ({ scheduled, result, users }) => ({ scheduled, result: result.replayed ? await this.resent(result, users) : result })));
  }

  /**
   * A replayed send as its signals need it: the broadcast as it is (each live consumer resolves its own
   * view), or each user who still has the message unread, with their counts now.
   */
  private async resent(result: SendResult, users: string[] | null): Promise<SendResult> {
    if (users === null) return { ...result, replayed: false };
    const replies = await this.ctx.userOps(users.map((userId) => ({ userId, name: 'sentTo' as const, args: { messageId: result.message.id } })));
    const recipients = users.flatMap((userId, i) => {
      const d = parseUserReply(replies[i][0]);
      return d ? [{ userId, ...d }] : [];
    });
    return { ...result, recipients, replayed: false };
  }

  /** Finished schedules older than the idempotency TTL; how many went. */
  async cleanup(limit: number): Promise<number> {
    return Number((await this.run('cleanup', [this.keys.done], [this.keys.prefix, Date.now() - IDEMPOTENCY_TTL_SECONDS * 1000, limit]))[0]);
  }

  private async run(name: keyof typeof SOURCE.scripts, keys: string[], args: (string | number)[]): Promise<Reply> {
    const reply = await this.lua.run(name, keys, args);
    return Array.isArray(reply) ? (reply as Reply) : [String(reply)];
  }
}

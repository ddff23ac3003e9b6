import type { RedisContext } from './context.js';
import { parseUserReply, type UserDelivery } from './replies.js';
import type { SendKind } from './scripts.js';

/** A journalled send in progress (see send.ts for the guarantee). */
export interface JournalEntry {
  id: string;
  /** Delivery time (ms), allocated with the id. */
  deliveredAt: string;
  kind: SendKind;
  /** The encoded body (codec.ts). */
  body: string;
  level: string;
  createdAt: string;
  /** ms, '' = never. */
  expiresAt: string;
  /** category, critical and group key (codec.ts specTail); absent in entries journalled before categories. */
  tail?: string;
  users: string[];
  /** The idempotency record to mark done, or ''. */
  idempotencyKey: string;
  /** The group-sending key to give back when done (group-order.ts), or ''; absent in entries journalled before it. */
  groupLock?: string;
}

/**
 * Steps a journalled send can be stopped at, so tests can interrupt the real send code where a
 * process could die. Production passes none.
 */
export interface JournalHooks {
  /** Before each delivery script of send `id` (a chunk of users on a single server, one user on a cluster); a throw stops the send there. */
  beforeDelivery?(step: { id: string; users: readonly string[] }): void | Promise<void>;
  /** Before the last step (a broadcast's publication); a throw stops the send there. */
  beforeFinish?(step: { id: string }): void | Promise<void>;
}

const DELIVERY_CONCURRENCY = 64;
/** Users per delivery script on a single server (a script blocks Redis while it runs). */
const LOCAL_CHUNK = 100;
/** Delivery scripts sent before waiting for their answers (single server). */
const CHUNKS_IN_FLIGHT = 8;

/**
 * Completes a journalled send, idempotently: writes the body, delivers to each recipient, then
 * publishes/indexes and clears the journal entry in one global step. Answers what each recipient's
 * delivery did (null: their preference skipped them). `entry` may be an id, read from the journal (recovery).
 */
export async function completeJournal(
  ctx: RedisContext,
  entry: JournalEntry | string,
  o: { top?: string; registered?: string[]; hooks?: JournalHooks } = {},
): Promise<Map<string, UserDelivery | null>> {
  const counts = new Map<string, UserDelivery | null>();
  const e = typeof entry === 'string' ? await readEntry(ctx, entry) : entry;
  if (!e) return counts;
  const hooks = o.hooks ?? {};
  const spec = `${e.level}|${e.createdAt}|${e.deliveredAt}|${e.expiresAt}${e.tail ?? ''}`;
  await ctx.client.set(ctx.keys.body(e.id), e.body);
  // Whom a retraction visits, gone with the message's expiry (lua/lib/retract.lua keep_recipients).
  if (e.kind === 'direct') await (e.expiresAt ? ctx.client.set(ctx.keys.recipients(e.id), JSON.stringify(e.users), 'PXAT', e.expiresAt) : ctx.client.set(ctx.keys.recipients(e.id), JSON.stringify(e.users)));
  if (e.kind === 'direct' && !ctx.cluster) {
    // A single server: chunks of users per script, each atomic and idempotent per user. A few chunks
    // are in flight at once, so Redis runs one while the next is on its way.
    const chunks: string[][] = [];
    for (let i = 0; i < e.users.length; i += LOCAL_CHUNK) chunks.push(e.users.slice(i, i + LOCAL_CHUNK));
    for (let i = 0; i < chunks.length; i += CHUNKS_IN_FLIGHT) {
      await Promise.all(
        chunks.slice(i, i + CHUNKS_IN_FLIGHT).map(async (users) => {
          await hooks.beforeDelivery?.({ id: e.id, users });
          const replies = await ctx.scripts.deliverChunk({ id: e.id, spec, users });
          users.forEach((user, j) => counts.set(user, parseUserReply(replies[j])));
        }),
      );
    }
  } else if (e.kind === 'direct' && e.users.length) {
    const registered = o.registered ?? ((await ctx.client.hmget(ctx.keys.global.knownUsers, ...e.users)) as (string | null)[]);
    const top = o.top ?? (await ctx.scripts.broadcastsSince({ after: '', rafter: '' })).top;
    for (let i = 0; i < e.users.length; i += DELIVERY_CONCURRENCY) {
      // Their webhook streams indexed before their steps, in one command (context.ts).
      await ctx.indexWebhooks(e.users.slice(i, i + DELIVERY_CONCURRENCY));
      await Promise.all(
        e.users.slice(i, i + DELIVERY_CONCURRENCY).map(async (user, j) => {
          await hooks.beforeDelivery?.({ id: e.id, users: [user] });
          const [, reply] = await ctx.userOp(user, 'deliver', { id: e.id, spec, registered: registered[i + j] ?? top }, top, { indexed: true });
          counts.set(user, parseUserReply(reply));
        }),
      );
    }
  }
  await hooks.beforeFinish?.({ id: e.id });
  await ctx.scripts.finishSend({
    id: e.id,
    kind: e.kind,
    spec,
    expiresAt: e.expiresAt,
    idempotencyKey: e.idempotencyKey,
    groupLock: e.groupLock ?? '',
    recipients: e.kind === 'direct' ? [...counts.values()].filter((d) => d !== null).length : null,
    // On a single server the delivery scripts indexed the recipients' expiries already.
    indexUsers: e.kind === 'direct' && ctx.cluster ? e.users : [],
  });
  return counts;
}

/** The JSON begin-send.lua journals (it prepends the delivery time): the entry less id and time. */
export function encodeEntry(e: Omit<JournalEntry, 'id' | 'deliveredAt'>): string {
  return JSON.stringify({ kind: e.kind, body: e.body, level: e.level, createdAt: e.createdAt, expiresAt: e.expiresAt, tail: e.tail, users: e.users, idempotencyKey: e.idempotencyKey, groupLock: e.groupLock });
}

function parseEntry(id: string, raw: string): JournalEntry {
  const bar = raw.indexOf('|');
  return { ...(JSON.parse(raw.slice(bar + 1)) as Omit<JournalEntry, 'id' | 'deliveredAt'>), id, deliveredAt: raw.slice(0, bar) };
}

async function readEntry(ctx: RedisContext, id: string): Promise<JournalEntry | null> {
  const raw = await ctx.client.hget(ctx.keys.global.journal, id);
  return raw === null ? null : parseEntry(id, raw);
}

/** Completes up to `limit` journal entries older than `ageMs` (left by a process that died midway). */
export async function recoverJournal(ctx: RedisContext, limit: number, ageMs = 5000): Promise<number> {
  const due = await ctx.scripts.journalDue({ ageMs, limit });
  for (let i = 0; i < due.length; i += 2) await completeJournal(ctx, parseEntry(due[i], due[i + 1]));
  return due.length / 2;
}

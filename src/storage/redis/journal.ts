import type { RedisContext } from './context.js';

/** A journalled send in progress (see send.ts for the guarantee). */
export interface JournalEntry {
  id: string;
  /** Delivery time (ms), allocated with the id. */
  t: string;
  kind: 'd' | 'b';
  body: string;
  level: string;
  createdAt: string;
  expiresAt: string;
  users: string[];
  /** The idempotency record to mark done, or ''. */
  idemKey: string;
}

const DELIVERY_CONCURRENCY = 64;
/** Users per delivery script on a single server (a script blocks Redis while it runs). */
const LOCAL_CHUNK = 100;
/** Delivery scripts sent before waiting for their answers (single server). */
const CHUNKS_IN_FLIGHT = 8;

/**
 * Completes a journalled send, idempotently: writes the body, delivers to each recipient, then
 * publishes/indexes and clears the journal entry in one global step. Answers each recipient's
 * unread count after their delivery. `entry` may be an id, read from the journal (recovery).
 */
export async function completeJournal(
  ctx: RedisContext,
  entry: JournalEntry | string,
  known?: { top: string; registered: string[] },
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const e = typeof entry === 'string' ? await readEntry(ctx, entry) : entry;
  if (!e) return counts;
  const g = ctx.keys.g;
  const meta = `${e.level}|${e.createdAt}|${e.t}|${e.expiresAt}`;
  await ctx.client.set(ctx.keys.body(e.id), e.body);
  if (e.kind === 'd' && !ctx.cluster) {
    // A single server: chunks of users per script, each atomic and idempotent per user. A few chunks are
    // in flight at once, so Redis runs one while the next is on its way (one at a time, W2 spent as much
    // in round trips and in building each chunk's keys as in the scripts); Redis still runs them one by one.
    const chunks: string[][] = [];
    for (let i = 0; i < e.users.length; i += LOCAL_CHUNK) chunks.push(e.users.slice(i, i + LOCAL_CHUNK));
    for (let i = 0; i < chunks.length; i += CHUNKS_IN_FLIGHT) {
      await Promise.all(
        chunks.slice(i, i + CHUNKS_IN_FLIGHT).map(async (chunk) => {
          const unread = await ctx.scripts.run('smDeliverMany', [g.seq, g.b, g.bm, g.bp, g.ux, g.k], [e.id, meta, ctx.keys.userKeyPrefix, ...chunk]);
          chunk.forEach((user, j) => counts.set(user, Number(unread[j])));
        }),
      );
    }
  } else if (e.kind === 'd' && e.users.length) {
    const registered = known?.registered ?? ((await ctx.client.hmget(g.k, ...e.users)) as (string | null)[]);
    const top = known?.top ?? (await ctx.scripts.run('smSince', [g.seq, g.b, g.bm, g.bp], ['']))[0];
    for (let i = 0; i < e.users.length; i += DELIVERY_CONCURRENCY) {
      await Promise.all(
        e.users.slice(i, i + DELIVERY_CONCURRENCY).map(async (user, j) => {
          const [, unread] = await ctx.userOp(user, 'smDeliver', [e.id, meta, registered[i + j] ?? top], top);
          counts.set(user, Number(unread));
        }),
      );
    }
  }
  await ctx.scripts.run(
    'smFinish',
    [g.seq, g.b, g.bm, g.bp, g.ux, g.mx, e.idemKey || ctx.keys.noIdem, g.j, g.jq],
    // On a single server the delivery scripts indexed the recipients' expiries already.
    [e.id, e.kind, meta, e.expiresAt, e.idemKey ? '1' : '0', ...(e.kind === 'd' && ctx.cluster ? e.users : [])],
  );
  return counts;
}

async function readEntry(ctx: RedisContext, id: string): Promise<JournalEntry | null> {
  const raw = await ctx.client.hget(ctx.keys.g.j, id);
  return raw === null ? null : parseEntry(id, raw);
}

function parseEntry(id: string, raw: string): JournalEntry {
  const bar = raw.indexOf('|');
  const p = JSON.parse(raw.slice(bar + 1)) as { k: 'd' | 'b'; b: string; l: string; c: string; e: string; u: string[]; i: string };
  return { id, t: raw.slice(0, bar), kind: p.k, body: p.b, level: p.l, createdAt: p.c, expiresAt: p.e, users: p.u, idemKey: p.i };
}

/** Completes up to `limit` journal entries older than `ageMs` (left by a process that died midway). */
export async function recoverJournal(ctx: RedisContext, limit: number, ageMs = 5000): Promise<number> {
  const g = ctx.keys.g;
  const due = await ctx.scripts.run('smJournalDue', [g.j, g.jq], [ageMs, limit]);
  for (let i = 0; i < due.length; i += 2) await completeJournal(ctx, parseEntry(due[i], due[i + 1]));
  return due.length / 2;
}

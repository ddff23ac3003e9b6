import { randomBytes } from 'node:crypto';
import type { SignalName } from '../../domain/signals.js';
import type { OutboxClaim, OutboxItem, WebhookOutbox } from '../../domain/webhooks.js';
import { LuaScripts } from '../../redis/scripts.js';
import type { RedisContext } from './context.js';
import { parseEventId, recordEvents, recordSeq, type StreamEvent } from './webhook-records.js';

const SOURCE = {
  dir: new URL('./lua/', import.meta.url),
  scripts: { claim: 'webhook-claim.lua', settle: 'webhook-settle.lua' },
} as const;

/** Rounds of dropping records with no wanted event before a claim leaves a stream for the next one. */
const SKIP_ROUNDS = 3;
/** Streams whose records pending() reads per round trip. */
const PENDING_CHUNK = 100;
/** Records pending() reads of a stream at most; a longer backlog is counted from them and its length. */
const PENDING_SAMPLE = 200;

/** A failed attempt's delivery so far, as webhook-settle.lua keeps it per event. */
interface Attempt {
  attempts: number;
  delivered: string[];
  dueAt: number;
}

/** A stream's event with what settle kept of it. */
type Stored = StreamEvent & { acked: boolean; attempt?: Attempt };

/** What webhook-settle.lua keeps under webhook-head: per record still in the stream, its acknowledged events and attempts. */
type Head = Record<string, { n: number; a: Record<string, 1>; r: Record<string, string> }>;

/**
 * The webhook outbox on Redis (docs/redis.md "Webhooks"). The store's scripts append one record per
 * change to its stream (lua/lib/webhooks.lua): a user's list in their slot, the broadcasts' in {global}.
 * The {global} zset webhooks-due holds each stream with events at the time its first event is due.
 *
 * The index rule: a stream with events is indexed. A writer that makes a stream non-empty indexes it
 * unless it is indexed (in its script on a single server; around its step on a cluster: context.ts), so
 * it never shortens a claim's lease or a retry's wait; only a dispatcher drops an entry, after finding
 * the stream empty, then looks at the stream again and indexes it back when an event landed meanwhile. Claims lease whole streams in one step on the
 * zset (webhook-claim.lua), so two processes never hold one stream; the events are then read from the
 * stream's own slot, turned into bodies by webhook-records.ts.
 */
export class RedisWebhookOutbox implements WebhookOutbox {
  private readonly lua: LuaScripts<keyof typeof SOURCE.scripts>;
  private epochRead?: Promise<string>;

  constructor(
    private readonly ctx: RedisContext,
    private readonly wanted: ReadonlySet<SignalName>,
  ) {
    this.lua = new LuaScripts(ctx.client, 'webhooks', SOURCE);
  }

  async claim(o: { now: Date; streams: number; perStream: number; leaseMs: number }): Promise<OutboxClaim[]> {
    const now = o.now.getTime();
    const streams = (await this.lua.run('claim', [this.ctx.keys.global.webhooksDue], [now, o.streams, o.leaseMs])) as string[];
    const claims = await Promise.all(streams.map((stream) => this.claimStream(stream, now, o.perStream, o.leaseMs)));
    return claims.filter((c): c is OutboxClaim => c !== null);
  }

  async acknowledge(ids: readonly string[]): Promise<void> {
    await Promise.all([...byStream(ids)].map(([stream, events]) => this.settle(stream, events.flatMap((e) => [e.seq, e.k, e.n, '']))));
  }

  async retry(id: string, o: { attempts: number; delivered: readonly string[]; dueAt: Date }): Promise<void> {
    const e = parseEventId(id);
    if (!e) return;
    const attempt: Attempt = { attempts: o.attempts, delivered: [...o.delivered], dueAt: o.dueAt.getTime() };
    // Its stream waits until then (a writer indexing it earlier makes the claim look and put it back: claimStream).
    await this.settle(e.stream, [e.seq, e.k, e.n, JSON.stringify(attempt)]);
  }

  async release(ids: readonly string[]): Promise<void> {
    await Promise.all([...byStream(ids).keys()].map((stream) => this.settle(stream, [], { release: true })));
  }

  /**
   * Events not yet acknowledged: every indexed stream's first records read and counted as claim reads
   * them. Exact when nothing runs meanwhile and no stream holds more than PENDING_SAMPLE records; a
   * longer stream's rest is counted at the events per record of its first ones (a record holds one to
   * three events); under load, on a Cluster above all, a snapshot taken stream by stream (an event
   * landing or acknowledged during the count may be missed or counted).
   */
  async pending(): Promise<number> {
    const streams = await this.ctx.client.zrange(this.ctx.keys.global.webhooksDue, 0, -1);
    let count = 0;
    for (let i = 0; i < streams.length; i += PENDING_CHUNK) {
      const read = await Promise.all(
        streams.slice(i, i + PENDING_CHUNK).map(async (s) => {
          const [events, length] = await Promise.all([this.events(s, PENDING_SAMPLE), this.ctx.client.llen(this.streamKeys(s).list)]);
          const open = events.filter((e) => !e.acked).length;
          return length > PENDING_SAMPLE ? Math.round((open * length) / PENDING_SAMPLE) : open;
        }),
      );
      for (const n of read) count += n;
    }
    return count;
  }

  /** A claimed stream's first due events, or null (empty, not due yet, or nothing wanted). */
  private async claimStream(stream: string, now: number, perStream: number, leaseMs: number): Promise<OutboxClaim | null> {
    for (let round = 0; round < SKIP_ROUNDS; round++) {
      const events = await this.events(stream, perStream);
      if (events.length === 0) {
        await this.dropIfEmpty(stream);
        return null;
      }
      const open = events.filter((e) => !e.acked);
      const skipped = events.filter((e) => e.n === 0);
      if (skipped.length) {
        // Records with no wanted event: settled now, or they would hold the stream's head for ever. The
        // stream stays where the claim put it (indexed due now, a second claimer could take it).
        const left = await this.settle(stream, skipped.flatMap((e) => [e.seq, e.k, e.n, '']), { index: false });
        if (left === 0) {
          await this.dropIfEmpty(stream);
          return null;
        }
        if (!open.length) continue;
      }
      if (!open.length) return null;
      const first = open[0];
      if (first.attempt && first.attempt.dueAt > now) {
        await this.ctx.client.zadd(this.ctx.keys.global.webhooksDue, 'XX', first.attempt.dueAt, stream);
        return null;
      }
      const taken = open.slice(0, perStream);
      const last = taken[taken.length - 1];
      // The events this claim took, so an acknowledgement knows whether the next one is still leased.
      await this.ctx.client.hset(this.streamKeys(stream).hash, 'webhook-lease', `${last.seq}:${last.k}:${now + leaseMs}`);
      const items: OutboxItem[] = taken.map((e) => ({ event: e.event, attempts: e.attempt?.attempts ?? 0, delivered: e.attempt?.delivered ?? [] }));
      return { stream, items };
    }
    return null;
  }

  /**
   * The events of a stream's first `records` records, with their state; a record with no
   * wanted event stands as one acknowledged placeholder (n 0), so settle drops it.
   */
  private async events(stream: string, records: number): Promise<Stored[]> {
    const { list, hash } = this.streamKeys(stream);
    const [raw, headJson] = await Promise.all([this.ctx.client.lrange(list, 0, records - 1), this.ctx.client.hget(hash, 'webhook-head')]);
    if (!raw.length) return [];
    const head = JSON.parse(headJson ?? '{}') as Head;
    const epoch = await this.epoch();
    return raw.flatMap((record): Stored[] => {
      const events = recordEvents(stream, record, this.wanted, epoch);
      if (!events.length) return [{ event: null as never, seq: recordSeq(record), k: 0, n: 0, acked: true }];
      const h = head[events[0].seq];
      return events.map((e) => {
        const retry = h?.r[String(e.k)];
        return { ...e, acked: h?.a[String(e.k)] === 1, attempt: retry ? (JSON.parse(retry) as Attempt) : undefined };
      });
    });
  }

  /**
   * webhook-settle.lua on a stream, then its place in the index: dropped when empty, at its first event's
   * retry time, due now when that event is not under a claim's lease (acknowledged or released before
   * the lease ends), else left until the lease ends (`index` false: left as it is). Answers the stream's length.
   */
  private async settle(stream: string, args: (string | number)[], o: { release?: boolean; index?: boolean } = {}): Promise<number> {
    const { list, hash } = this.streamKeys(stream);
    const now = Date.now();
    const [left, retryAt, due] = (await this.lua.run('settle', [list, hash], [now, o.release ? '1' : '', ...args])) as [number, string, string];
    const index = this.ctx.keys.global.webhooksDue;
    if (o.index === false) return Number(left);
    if (Number(left) === 0) await this.dropIfEmpty(stream);
    else if (retryAt !== '') await this.ctx.client.zadd(index, retryAt, stream);
    else if (due === '1') await this.ctx.client.zadd(index, 'LT', now, stream);
    return Number(left);
  }

  /** The index rule's drop of a stream found empty: back in the index when an event landed meanwhile. */
  private async dropIfEmpty(stream: string): Promise<void> {
    const due = this.ctx.keys.global.webhooksDue;
    await this.ctx.client.zrem(due, stream);
    if ((await this.ctx.client.llen(this.streamKeys(stream).list)) > 0) await this.ctx.client.zadd(due, 'NX', Date.now(), stream);
  }

  private streamKeys(stream: string): { list: string; hash: string } {
    const { keys } = this.ctx;
    if (stream === '') return { list: keys.global.webhooks, hash: keys.global.sequence };
    return { list: keys.userKey(stream, 'webhooks'), hash: keys.userKey(stream, 'state') };
  }

  /** The keyspace's random part of event ids, chosen by the first outbox that needs it. */
  private epoch(): Promise<string> {
    this.epochRead ??= (async () => {
      const seq = this.ctx.keys.global.sequence;
      await this.ctx.client.hsetnx(seq, 'webhook-epoch', randomBytes(8).toString('hex'));
      return (await this.ctx.client.hget(seq, 'webhook-epoch'))!;
    })();
    return this.epochRead;
  }
}

/** Event ids grouped by stream, as webhook-settle.lua takes them; ids not of this outbox are ignored. */
function byStream(ids: readonly string[]): Map<string, { seq: string; k: number; n: number }[]> {
  const out = new Map<string, { seq: string; k: number; n: number }[]>();
  for (const id of ids) {
    const e = parseEventId(id);
    if (!e) continue;
    const list = out.get(e.stream) ?? [];
    list.push(e);
    out.set(e.stream, list);
  }
  return out;
}

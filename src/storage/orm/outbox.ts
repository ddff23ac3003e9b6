/** The webhook outbox on PostgreSQL and the embedded database (sm_webhook, sql/webhooks.ts). */
import type { StoreChange } from '../../domain/changes.js';
import { webhookBodies, type OutboxClaim, type WebhookBody, type WebhookOutbox, type WebhookSignals } from '../../domain/webhooks.js';
import { jsonList, type Db, type Sql } from './db.js';
import {
  CLAIM_WEBHOOKS,
  DELETE_WEBHOOKS,
  LOCK_WEBHOOK_STREAMS,
  PENDING_WEBHOOKS,
  RECORD_WEBHOOKS,
  RELEASE_WEBHOOKS,
  RETRY_WEBHOOK,
  SETTLE_WEBHOOK_STREAMS,
  type WebhookRow,
} from './sql/webhooks.js';

/**
 * What the store writes to the outbox: the webhook bodies of each change it commits, in the change's own
 * transaction (a rolled-back change leaves none), one statement for all the changes of a transaction.
 * `on` false (webhooks off): nothing is written and no operation runs differently.
 */
export class OutboxWriter {
  constructor(private readonly wanted: WebhookSignals) {}

  get on(): boolean {
    return this.wanted !== null;
  }

  /** Writes the changes' bodies, in order, in the caller's transaction (nothing when there are none). */
  async record(sql: Sql, changes: readonly StoreChange[]): Promise<void> {
    if (!this.wanted) return;
    const bodies: WebhookBody[] = [];
    for (const change of changes) bodies.push(...webhookBodies(change, this.wanted));
    if (bodies.length) await sql(RECORD_WEBHOOKS, { bodies: JSON.stringify(bodies) });
  }
}

/**
 * WebhookOutbox on the store's database: claims are leases of streams (CLAIM_WEBHOOKS). Its
 * statements run unprepared: a plan made while the outbox was empty would stay on as it grows (no
 * autovacuum refreshes its statistics), and the dispatcher runs few of them.
 */
export class OrmWebhookOutbox implements WebhookOutbox {
  constructor(private readonly db: Db) {}

  async claim(o: { now: Date; streams: number; perStream: number; leaseMs: number }): Promise<OutboxClaim[]> {
    if (o.streams < 1 || o.perStream < 1) return [];
    const rows = await this.db.unprepared(CLAIM_WEBHOOKS, o);
    rows.sort((a, b) => Number(a.seq) - Number(b.seq));
    const streams = new Map<string, OutboxClaim>();
    for (const r of rows) {
      const claim = streams.get(r.stream) ?? { stream: r.stream, items: [] };
      streams.set(r.stream, claim);
      claim.items.push({ event: toEvent(r), attempts: r.attempts, delivered: r.delivered });
    }
    return [...streams.values()];
  }

  async acknowledge(ids: readonly string[]): Promise<void> {
    if (!ids.length) return;
    await this.db.tx(async (sql) => {
      const streams = jsonList((await sql(DELETE_WEBHOOKS, byIds(ids))).map((r) => r.stream));
      await sql(LOCK_WEBHOOK_STREAMS, { streams });
      await sql(SETTLE_WEBHOOK_STREAMS, { streams });
    });
  }

  async retry(id: string, o: { attempts: number; delivered: readonly string[]; dueAt: Date }): Promise<void> {
    const seq = seqOf(id);
    if (seq !== null) await this.db.unprepared(RETRY_WEBHOOK, { seq, id, attempts: o.attempts, delivered: jsonList(o.delivered), dueAt: o.dueAt });
  }

  async release(ids: readonly string[]): Promise<void> {
    if (ids.length) await this.db.unprepared(RELEASE_WEBHOOKS, byIds(ids));
  }

  async pending(): Promise<number> {
    return (await this.db.sql(PENDING_WEBHOOKS))[0].n;
  }
}

/** The seq in an event id (`msg_<seq>_<nonce>`, CLAIM_WEBHOOKS); null for an id this outbox never made. */
const seqOf = (id: string) => /^msg_(\d{1,18})_[0-9a-f]+$/.exec(id)?.[1] ?? null;
const byIds = (ids: readonly string[]) => ({ seqs: jsonList(ids.map(seqOf).filter((s) => s !== null)), ids: jsonList(ids) });

function toEvent(r: WebhookRow) {
  const body = r.body as unknown as Omit<WebhookBody, 'until'> & { until: string | null };
  return { ...body, until: body.until === null ? null : new Date(body.until), id: r.id, occurredAt: new Date(r.occurred_ms) };
}

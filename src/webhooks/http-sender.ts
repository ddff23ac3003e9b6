import { errors, Pool } from 'undici';
import type { DeliveryOutcome, WebhookSender } from '../domain/webhook-dispatch.js';
import type { WebhookEvent } from '../domain/webhooks.js';
import { signatureHeaders, webhookBody } from './payload.js';

/** More of an answer than this is not read: the connection closes instead of serving the next attempt. */
const MAX_ANSWER_BYTES = 64 * 1024;

export interface HttpSenderOptions {
  /** The signing key (config.ts' webhookKey). */
  key: Buffer;
  /** An attempt with no complete answer within this long fails (CONTRACT.md: 10 s). */
  timeoutMs: number;
  /** Connections kept open to each endpoint: as many as streams delivered at once. */
  maxSockets: number;
  /** A stored message's id as the API shows it (the GraphQL global id). */
  publicId: (messageId: string) => string;
}

/**
 * The HTTP side of delivery: signed POSTs over kept-alive connections, an undici Pool per endpoint
 * origin (it costs the server's thread far less per POST than node:http's client); a 2xx acknowledges,
 * anything else fails.
 */
export class HttpSender implements WebhookSender {
  private readonly pools = new Map<string, Pool>();

  constructor(private readonly o: HttpSenderOptions) {}

  async deliver(event: WebhookEvent, urls: readonly string[], signal: AbortSignal): Promise<DeliveryOutcome> {
    const body = webhookBody(event, this.o.publicId);
    const headers = { 'content-type': 'application/json', 'user-agent': 'stored-messages-webhooks', ...signatureHeaders(this.o.key, event.id, body) };
    const answers = await Promise.all(urls.map((url) => this.post(url, headers, body, signal)));
    const outcome: DeliveryOutcome = { acknowledged: [], failures: [] };
    answers.forEach((reason, k) => (reason === null ? outcome.acknowledged.push(urls[k]) : outcome.failures.push({ url: urls[k], reason })));
    return outcome;
  }

  /** Closes the kept-alive connections, failing what is still under way on them. */
  close(): void {
    for (const pool of this.pools.values()) void pool.destroy().catch(() => {});
    this.pools.clear();
  }

  /** One POST: null when it was acknowledged, else why not. */
  private async post(url: string, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<string | null> {
    const target = new URL(url);
    const deadline = Date.now() + this.o.timeoutMs;
    const late = `no answer within ${this.o.timeoutMs} ms`;
    try {
      const request = { method: 'POST' as const, path: target.pathname + target.search, headers, body, signal, headersTimeout: this.o.timeoutMs };
      const answer = await this.poolFor(target.origin).request(request);
      // The whole exchange is timed, not only silences between packets: an endpoint trickling its body fails too.
      let timedOut = false;
      const timer = setTimeout(() => ((timedOut = true), answer.body.destroy()), Math.max(0, deadline - Date.now()));
      try {
        // Reading the answer to its end lets the connection serve the next attempt.
        await answer.body.dump({ limit: MAX_ANSWER_BYTES });
      } finally {
        clearTimeout(timer);
      }
      if (timedOut) return late;
      return answer.statusCode >= 200 && answer.statusCode < 300 ? null : `HTTP ${answer.statusCode}`;
    } catch (err) {
      if (err instanceof errors.HeadersTimeoutError) return late;
      return err instanceof Error ? err.message : String(err);
    }
  }

  private poolFor(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) this.pools.set(origin, (pool = new Pool(origin, { connections: this.o.maxSockets })));
    return pool;
  }
}

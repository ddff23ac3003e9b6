import http from 'node:http';
import https from 'node:https';
import type { DeliveryOutcome, WebhookSender } from '../domain/webhook-dispatch.js';
import type { WebhookEvent } from '../domain/webhooks.js';
import { signatureHeaders, webhookBody } from './payload.js';

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

/** The HTTP side of delivery: signed POSTs over kept-alive connections; a 2xx acknowledges, anything else fails. */
export class HttpSender implements WebhookSender {
  private readonly agents: { 'http:': http.Agent; 'https:': https.Agent };

  constructor(private readonly o: HttpSenderOptions) {
    const agent = { keepAlive: true, maxSockets: o.maxSockets };
    this.agents = { 'http:': new http.Agent(agent), 'https:': new https.Agent(agent) };
  }

  async deliver(event: WebhookEvent, urls: readonly string[], signal: AbortSignal): Promise<DeliveryOutcome> {
    const body = webhookBody(event, this.o.publicId);
    const headers = { 'content-type': 'application/json', 'user-agent': 'stored-messages-webhooks', ...signatureHeaders(this.o.key, event.id, body) };
    const answers = await Promise.all(urls.map((url) => this.post(url, headers, body, signal)));
    const outcome: DeliveryOutcome = { acknowledged: [], failures: [] };
    answers.forEach((reason, k) => (reason === null ? outcome.acknowledged.push(urls[k]) : outcome.failures.push({ url: urls[k], reason })));
    return outcome;
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.agents['http:'].destroy();
    this.agents['https:'].destroy();
  }

  /** One POST: null when it was acknowledged, else why not. */
  private post(url: string, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<string | null> {
    return new Promise((resolve) => {
      const target = new URL(url);
      const client = target.protocol === 'https:' ? https : http;
      const req = client.request(target, {
        method: 'POST',
        agent: this.agents[target.protocol as 'http:' | 'https:'],
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        signal,
      });
      // The whole exchange is timed, not only silences between packets: an endpoint trickling bytes fails too.
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${this.o.timeoutMs} ms`)), this.o.timeoutMs);
      const settle = (reason: string | null) => {
        clearTimeout(timer);
        resolve(reason);
      };
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        // Reading the answer to its end lets the connection serve the next attempt.
        res.resume();
        res.on('end', () => settle(status >= 200 && status < 300 ? null : `HTTP ${status}`));
        res.on('error', (err) => settle(err.message));
      });
      req.on('error', (err) => settle(err.message));
      // Whatever ended the exchange without an answer (a reset mid-body): the first settle wins.
      req.on('close', () => settle('the connection closed before a complete answer'));
      req.end(body);
    });
  }
}

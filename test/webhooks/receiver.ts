import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { waitFor } from '../support.js';

/**
 * A real local webhook endpoint: records every POST (headers, raw body, parsed body) and answers what
 * the test's `answer` says (200 by default; 'hang' keeps the request open until the receiver closes;
 * 'trickle' answers 200 at once, then its body a byte every 100 ms, never ending).
 * Signatures are checked with the `standardwebhooks` package, independently of the server's code.
 */

/** The JSON body of CONTRACT.md §10. */
export interface WebhookJson {
  id: string;
  type: string;
  userId: string | null;
  messageIds: string[];
  unreadCount: number | null;
  unseenCount: number | null;
  until: string | null;
  category: string | null;
  broadcast: boolean;
  occurredAt: string;
}

export interface Received {
  headers: Record<string, string>;
  raw: string;
  body: WebhookJson;
  /** When it arrived (Date.now()). */
  at: number;
  /** What the receiver answered (0: no complete answer, it hung or trickled). */
  status: number;
}

export type Answer = number | 'hang' | 'trickle';

export interface Receiver {
  url: string;
  received: Received[];
  /** Decides each request's answer (default 200); replace it at any time. */
  answer: (body: WebhookJson) => Answer;
  /** The requests about `userId` (null: broadcasts), in arrival order. */
  of(userId: string | null): Received[];
  /** Waits until `count` requests about `userId` arrived; answers them. */
  waitFor(userId: string | null, count: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const hanging = new Set<ServerResponse>();
  const received: Received[] = [];
  const receiver: Receiver = {
    url: '',
    received,
    answer: () => 200,
    of: (userId) => received.filter((r) => r.body.userId === userId),
    async waitFor(userId, count, timeoutMs = 15_000) {
      await waitFor(() => receiver.of(userId).length >= count, { timeoutMs, what: `${count} webhooks about ${userId}` });
      return receiver.of(userId);
    },
    close: async () => {
      for (const res of hanging) res.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const body = JSON.parse(raw) as WebhookJson;
      const answer = receiver.answer(body);
      received.push({ headers: req.headers as Record<string, string>, raw, body, at: Date.now(), status: typeof answer === 'number' ? answer : 0 });
      if (answer === 'hang') return void hanging.add(res);
      if (answer === 'trickle') {
        hanging.add(res);
        res.writeHead(200, { 'content-type': 'text/plain' });
        const drip = setInterval(() => res.write('.'), 100);
        return void res.on('close', () => clearInterval(drip));
      }
      res.writeHead(answer).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return receiver;
}

/** Verifies a request's signature with `standardwebhooks` for `secret` (either form) and answers the body it vouches for. */
export function verified(secret: string, r: Received): WebhookJson {
  const webhook = secret.startsWith('whsec_') ? new Webhook(secret) : new Webhook(Buffer.from(secret, 'utf8'), { format: 'raw' });
  return webhook.verify(r.raw, r.headers) as WebhookJson;
}

/** A `whsec_` secret as Standard Webhooks' providers issue them: 32 random bytes, base64. */
export const whsecSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

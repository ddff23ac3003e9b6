import pino from 'pino';
import type { WebhookTimings } from '../../src/domain/webhook-dispatch-policy.js';
import { newProducer, newUser, type Caller } from '../factories.js';
import { startTestApp, type Backend, type TestApp } from '../harness.js';
import { startReceiver, whsecSecret, type Receiver } from './receiver.js';

/** Timings short enough for tests: retries after 0.3 s then 0.6 s, a 1 s timeout, polling every 200 ms. */
export const FAST: Partial<WebhookTimings> = { retryDelaysMs: [300, 600], jitter: 0, timeoutMs: 1_000, pollMs: 200 };

export interface WebhookWorld {
  t: TestApp;
  /** The endpoints, in WEBHOOK_URLS order. */
  receivers: Receiver[];
  secret: string;
  producer: Caller;
  /** The app's log lines at warn and above, parsed. */
  logs: Record<string, unknown>[];
  /** The app's /metrics sample of `name` (0 when absent). */
  metric(name: string): Promise<number>;
  close(): Promise<void>;
}

/** A real app on `backend` with webhooks to `endpoints` fresh local receivers (a whsec_ secret unless given). */
export async function startWebhookWorld(
  backend: Backend,
  o: { endpoints?: number; secret?: string; events?: string; timings?: Partial<WebhookTimings> } = {},
): Promise<WebhookWorld> {
  const receivers = await Promise.all(Array.from({ length: o.endpoints ?? 1 }, () => startReceiver()));
  const secret = o.secret ?? whsecSecret();
  const env = { WEBHOOK_URLS: receivers.map((r) => r.url).join(','), WEBHOOK_SECRET: secret, ...(o.events ? { WEBHOOK_EVENTS: o.events } : {}) };
  const logs: Record<string, unknown>[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const t = await startTestApp(backend, env, { webhookTimings: o.timings ?? FAST, logger });
  return {
    t,
    logs,
    async metric(name) {
      const text = await (await fetch(`${t.baseUrl}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith(`${name} `));
      return line ? Number(line.split(' ')[1]) : 0;
    },
    receivers,
    secret,
    producer: await newProducer(t),
    async close() {
      await t.close();
      await Promise.all(receivers.map((r) => r.close()));
    },
  };
}

/** A fresh user of the world's app. */
export const userIn = (w: WebhookWorld) => newUser(w.t);

/** The types of the webhooks about `userId` so far, in arrival order. */
export const typesOf = (r: Receiver, userId: string | null) => r.of(userId).map((x) => x.body.type);

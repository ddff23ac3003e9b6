import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { knownUser, newProducer, sendTo } from '../factories.js';
import { startTestApp, type Backend } from '../harness.js';
import { REDIS_URL } from '../env.js';
import { runSource } from '../processes.js';

/**
 * CONTRACT.md §12: with OTEL_EXPORTER_OTLP_ENDPOINT set, every operation is a span and its storage
 * calls are child spans, exported over OTLP/HTTP (JSON). The collector here is a real HTTP server.
 */

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: Record<string, unknown> }[];
  status?: { code?: number; message?: string };
}

/** A local OTLP/HTTP receiver: every span posted to /v1/traces, and the service names they came with; answering `status`. */
async function startCollector(status = 200): Promise<{ url: string; spans: OtlpSpan[]; services: Set<string>; close(): Promise<void> }> {
  const spans: OtlpSpan[] = [];
  const services = new Set<string>();
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      if (req.url === '/v1/traces' && req.headers['content-type'] === 'application/json') {
        for (const rs of JSON.parse(body).resourceSpans ?? []) {
          const service = rs.resource?.attributes?.find((a: { key: string }) => a.key === 'service.name')?.value?.stringValue;
          if (service) services.add(service);
          for (const ss of rs.scopeSpans ?? []) spans.push(...ss.spans);
        }
      }
      res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, spans, services, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const attribute = (span: OtlpSpan, key: string) => {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value ? Object.values(value)[0] : undefined;
};

describe.each<Backend>(['postgres', 'redis'])('OpenTelemetry traces on %s', (backend) => {
  let collector: Awaited<ReturnType<typeof startCollector>>;
  beforeAll(async () => {
    collector = await startCollector();
  });
  afterAll(async () => collector?.close());

  it('exports each operation as a span with its storage calls as children, flushed when the app closes', async () => {
    const t = await startTestApp(backend, { OTEL_EXPORTER_OTLP_ENDPOINT: `${collector.url}/`, OTEL_SERVICE_NAME: 'sm-under-test' });
    let messageId: string;
    try {
      const producer = await newProducer(t);
      const user = await knownUser(t);
      messageId = (await sendTo(producer, user.sub)).message.id;
      expect((await t.gql(user.token, 'mutation { broadcastMessage(input: { level: STORED_INFO, text: "x" }) { recipientCount } }')).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    } finally {
      await t.close();
    }
    expect(messageId).toBeTruthy();
    expect(collector.services).toEqual(new Set(['sm-under-test']));

    const [mutation, ...others] = collector.spans.filter((s) => s.name === 'mutation addMessageFor');
    expect(others).toEqual([]);
    expect(mutation.kind).toBe(2); // SERVER
    expect(attribute(mutation, 'graphql.operation.type')).toBe('mutation');
    expect(attribute(mutation, 'stored_messages.outcome')).toBe('ok');
    expect(mutation.parentSpanId ?? '').toBe('');

    const children = collector.spans.filter((s) => s.parentSpanId === mutation.spanId);
    const send = children.find((s) => s.name === 'storage send');
    expect(send).toBeDefined();
    expect(send!.traceId).toBe(mutation.traceId);
    expect(send!.kind).toBe(3); // CLIENT
    expect(attribute(send!, 'db.system.name')).toBe(backend === 'redis' ? 'redis' : 'postgresql');

    const refused = collector.spans.find((s) => s.name === 'mutation broadcastMessage');
    expect(refused?.status?.code).toBe(2); // ERROR
    expect(refused?.status?.message).toBe('FORBIDDEN');
    expect(collector.spans.filter((s) => s.parentSpanId === refused!.spanId && s.name === 'storage send')).toEqual([]);
  });
});

describe('a collector that refuses the spans', () => {
  it('is logged as a warning, not dropped silently', async () => {
    const collector = await startCollector(400);
    const lines: { level: number; msg: string }[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    try {
      const t = await startTestApp('redis', { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url }, { logger });
      try {
        await knownUser(t);
      } finally {
        await t.close();
      }
      expect(collector.spans.length).toBeGreaterThan(0);
      expect(lines.filter((l) => l.msg === 'the OTLP collector did not take a batch of spans')).toHaveLength(1);
    } finally {
      await collector.close();
    }
  });
});

describe('without OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  // In a process of its own: this file's other tests load the SDK into the test process.
  const probe = (endpoint: string | null) => `
    import { createRequire } from 'node:module';
    import { createApp } from './src/app.js';
    import { loadConfig } from './src/config.js';
    const env = { NODE_ENV: 'test', LOG_LEVEL: 'silent', STORAGE_BACKEND: 'redis', REDIS_URL: process.env.REDIS_URL, REDIS_PREFIX: 'smtest:probe:', AUTH_JWT_SECRET: 'x'.repeat(32) };
    const app = await createApp(loadConfig(${endpoint ? `{ ...env, OTEL_EXPORTER_OTLP_ENDPOINT: '${endpoint}' }` : 'env'}));
    await app.close();
    const loaded = Object.keys(createRequire(import.meta.url).cache).filter((p) => p.includes('@opentelemetry/sdk-trace'));
    console.log('sdk modules: ' + loaded.length);
  `;

  it('never loads the OpenTelemetry SDK (and does with it, so the probe can tell)', async () => {
    for (const [endpoint, expected] of [[null, /sdk modules: 0$/m], ['http://127.0.0.1:9', /sdk modules: [1-9]\d*$/m]] as const) {
      const ended = await runSource('--input-type=module', ['-e', probe(endpoint)], { REDIS_URL });
      expect(ended.stderr).toBe('');
      expect(ended.stdout).toMatch(expected);
    }
  });
});

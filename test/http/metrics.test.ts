import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { addOwnRaw, knownUser, newProducer, sendTo, sendToRaw } from '../factories.js';
import { startTestApp, type TestApp } from '../harness.js';
import { MESSAGE_ADDED, subscribeOver, waitForNoSubscriber, waitForSubscriber } from '../live/helpers.js';
import { uid, waitFor } from '../support.js';

/** CONTRACT.md §12: GET /metrics in Prometheus text format, behind METRICS_TOKEN when it is set. */

type Samples = Map<string, number>;

/** GET /metrics as `name{labels}` -> value (labels as the server prints them, in label-name order). */
async function scrape(t: TestApp, headers: Record<string, string> = {}): Promise<Samples> {
  const res = await fetch(`${t.baseUrl}/metrics`, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const samples: Samples = new Map();
  for (const line of (await res.text()).split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*(?:\{.*\})?) (\S+)$/.exec(line);
    if (m) samples.set(m[1], Number(m[2]));
  }
  return samples;
}

const key = (name: string, labels: Record<string, string> = {}) => {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  return pairs.length ? `${name}{${pairs.join(',')}}` : name;
};

/** How much each sample moved between two scrapes (absent counts as 0). */
const moved = (before: Samples, after: Samples, name: string, labels?: Record<string, string>) => (after.get(key(name, labels)) ?? 0) - (before.get(key(name, labels)) ?? 0);

const OPS = 'stored_messages_operations_total';

describe('GET /metrics (open: no METRICS_TOKEN)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('postgres');
  });
  afterAll(async () => t?.close());

  it('has every contracted family, webhooks pending at 0 with webhooks off, and the process metrics', async () => {
    const s = await scrape(t);
    expect(s.get('stored_messages_webhook_pending')).toBe(0);
    expect(s.get(key('stored_messages_subscriptions_active', { transport: 'ws' }))).toBe(0);
    expect(s.get(key('stored_messages_subscriptions_active', { transport: 'sse' }))).toBe(0);
    expect(s.get('stored_messages_messages_stored_total')).toBe(0);
    expect(s.has('process_cpu_user_seconds_total')).toBe(true);
    expect(s.has('nodejs_heap_size_used_bytes')).toBe(true);
    const text = await (await fetch(`${t.baseUrl}/metrics`)).text();
    expect(text).toContain('# TYPE stored_messages_operations_total counter');
    expect(text).toContain('# TYPE stored_messages_operation_duration_seconds histogram');
    expect(text).toContain('# TYPE stored_messages_storage_duration_seconds histogram');
    expect(text).toMatch(/# HELP stored_messages_webhook_pending .*not yet delivered/);
  });

  it('counts operations by root field and outcome, times them, and counts stored messages once each', async () => {
    const producer = await newProducer(t);
    const user = await knownUser(t);
    const before = await scrape(t);

    await sendTo(producer, user.sub);
    await sendTo(producer, [user.sub, uid('other')]);
    const key1 = { idempotencyKey: uid('key') };
    await sendTo(producer, user.sub, key1);
    await sendTo(producer, user.sub, key1);
    await user.q('{ unreadCount messages { totalCount } }');
    expect((await sendToRaw(user, user.sub)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await addOwnRaw(user, { text: '' })).errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect((await t.gql(null, '{ unreadCount }')).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');

    const after = await scrape(t);
    expect(moved(before, after, OPS, { operation: 'addMessageFor', outcome: 'ok' })).toBe(4);
    expect(moved(before, after, OPS, { operation: 'addMessageFor', outcome: 'FORBIDDEN' })).toBe(1);
    expect(moved(before, after, OPS, { operation: 'addMessage', outcome: 'BAD_USER_INPUT' })).toBe(1);
    expect(moved(before, after, OPS, { operation: 'unreadCount', outcome: 'UNAUTHENTICATED' })).toBe(1);
    expect(moved(before, after, OPS, { operation: 'messages+unreadCount', outcome: 'ok' })).toBe(1);
    expect(moved(before, after, 'stored_messages_operation_duration_seconds_count', { operation: 'addMessageFor' })).toBe(5);
    expect(moved(before, after, 'stored_messages_operation_duration_seconds_sum', { operation: 'addMessageFor' })).toBeGreaterThan(0);
    // Three sends stored a message; the fourth replayed the idempotency key.
    expect(moved(before, after, 'stored_messages_messages_stored_total')).toBe(3);
    expect(moved(before, after, 'stored_messages_storage_duration_seconds_count', { call: 'send' })).toBe(4);
    expect(moved(before, after, 'stored_messages_storage_duration_seconds_count', { call: 'unreadCount' })).toBeGreaterThanOrEqual(1);
  });

  it('prints duration histograms as Prometheus does: cumulative buckets in bound order, +Inf equal to the count', async () => {
    const producer = await newProducer(t);
    const user = await knownUser(t);
    await sendTo(producer, user.sub);
    const s = await scrape(t);
    for (const [name, labels] of [
      ['stored_messages_operation_duration_seconds', 'operation="addMessageFor"'],
      ['stored_messages_storage_duration_seconds', 'call="send"'],
    ]) {
      const buckets = [...s].filter(([k]) => k.startsWith(`${name}_bucket{le=`) && k.endsWith(`,${labels}}`));
      expect(buckets.map(([k]) => /le="([^"]+)"/.exec(k)![1])).toEqual(['0.0005', '0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf']);
      const counts = buckets.map(([, v]) => v);
      expect(counts).toEqual([...counts].sort((a, b) => a - b));
      expect(counts.at(-1)).toBe(s.get(`${name}_count{${labels}}`));
      expect(counts.at(-1)).toBeGreaterThanOrEqual(1);
    }
  });

  it.each(['ws', 'sse'] as const)('keeps subscriptions_active over %s: up while a subscription is open, down once it ends', async (transport) => {
    const user = await knownUser(t);
    const gauge = key('stored_messages_subscriptions_active', { transport });
    const before = await scrape(t);
    const sub = subscribeOver(transport, t.baseUrl, user.token, MESSAGE_ADDED);
    try {
      await waitForSubscriber(t.app, user.sub);
      const during = await scrape(t);
      expect(during.get(gauge)).toBe((before.get(gauge) ?? 0) + 1);
      expect(moved(before, during, OPS, { operation: 'messageAdded', outcome: 'ok' })).toBe(1);
    } finally {
      sub.close();
    }
    await waitForNoSubscriber(t.app, user.sub);
    await waitFor(async () => (await scrape(t)).get(gauge) === before.get(gauge));
  });

  it('counts every direct send in exactly one group-commit batch', async () => {
    const producer = await newProducer(t);
    const users = await Promise.all(Array.from({ length: 12 }, () => knownUser(t)));
    const before = await scrape(t);
    await Promise.all(users.map((u) => sendTo(producer, u.sub, { text: 'batched' })));
    const after = await scrape(t);
    expect(moved(before, after, 'stored_messages_send_batch_size_sum')).toBe(12);
    const batches = moved(before, after, 'stored_messages_send_batch_size_count');
    expect(batches).toBeGreaterThanOrEqual(1);
    expect(batches).toBeLessThanOrEqual(12);
  });

  it('observes the lag of each event a subscription delivers', async () => {
    const producer = await newProducer(t);
    const user = await knownUser(t);
    const sub = subscribeOver('ws', t.baseUrl, user.token, MESSAGE_ADDED);
    try {
      await waitForSubscriber(t.app, user.sub);
      const before = await scrape(t);
      await sendTo(producer, user.sub, { text: 'live' });
      await sub.results.take(1);
      const after = await scrape(t);
      // One observation per event of the send the feed delivered (its ARCHIVE_STORED and INBOX_STORED).
      expect(moved(before, after, 'stored_messages_live_event_lag_seconds_count')).toBe(2);
      const lag = moved(before, after, 'stored_messages_live_event_lag_seconds_sum');
      expect(lag).toBeGreaterThanOrEqual(0);
      expect(lag).toBeLessThan(60);
    } finally {
      sub.close();
    }
  });
});

describe('GET /metrics with METRICS_TOKEN', () => {
  const token = 'metrics-token-0123456789';
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('postgres', { METRICS_TOKEN: token });
  });
  afterAll(async () => t?.close());

  it('answers 401 without the bearer token or with another one, and the metrics with it', async () => {
    const attempts: Record<string, string>[] = [{}, { authorization: 'Bearer wrong-token-0123456789' }, { authorization: token }];
    for (const headers of attempts) {
      const res = await fetch(`${t.baseUrl}/metrics`, { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(await res.text()).not.toContain('stored_messages');
    }
    const s = await scrape(t, { authorization: `Bearer ${token}` });
    expect(s.get('stored_messages_webhook_pending')).toBe(0);
  });
});

describe('metrics and tracing settings', () => {
  it('default to an open /metrics and no tracing, and refuse a short token or a non-HTTP endpoint', () => {
    expect(loadConfig({})).toMatchObject({ metricsToken: null, otlpEndpoint: null, otelServiceName: 'stored-messages' });
    expect(loadConfig({ METRICS_TOKEN: 'a'.repeat(16), OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SERVICE_NAME: 'inbox' })).toMatchObject({
      metricsToken: 'a'.repeat(16),
      otlpEndpoint: 'http://collector:4318',
      otelServiceName: 'inbox',
    });
    let problems: string[] = [];
    try {
      loadConfig({ METRICS_TOKEN: 'short', OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' });
    } catch (err) {
      problems = (err as ConfigError).problems;
    }
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['METRICS_TOKEN', 'OTEL_EXPORTER_OTLP_ENDPOINT']);
  });
});

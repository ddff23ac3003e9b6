import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, startTestApp, type TestApp } from '../harness.js';

/** CONTRACT.md §7: GET /health (the process is up) and GET /ready (storage reachable), no token needed. */
describe.each(BACKENDS)('health endpoints on %s', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(backend);
  });
  afterAll(async () => t?.close());

  it('answers /health and /ready with 200 while storage is up', async () => {
    // The contract fixes the status only; Yoga's own health check answers /health with an empty body.
    expect((await fetch(`${t.baseUrl}/health`)).status).toBe(200);
    const ready = await fetch(`${t.baseUrl}/ready`);
    expect(ready.status).toBe(200);
    expect(ready.headers.get('content-type')).toContain('application/json');
    expect(await ready.json()).toEqual({ status: 'ready' });
  });

  it('answers /ready with 503 once storage is gone, while /health stays 200', async () => {
    const own = await startTestApp(backend);
    try {
      await own.app.store.close();
      const ready = await fetch(`${own.baseUrl}/ready`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({ status: 'unavailable' });
      const health = await fetch(`${own.baseUrl}/health`);
      expect(health.status).toBe(200);
    } finally {
      await own.close();
    }
  });
});

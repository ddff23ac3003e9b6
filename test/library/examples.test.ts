import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_SECRET } from '../env.js';
import { createTestDatabase, dataOf } from '../harness.js';
import { httpClient } from '../live/helpers.js';
import { startSource, type Running } from '../processes.js';
import { liveSubscription, nextWithText } from './helpers.js';
import { userToken } from '../support.js';

const MARK_READ = 'mutation($i: [ID!]!) { markRead(input: { ids: $i }) { count unreadCount } }';

/** examples/*: each host application runs as its own process, importing the package by name (its sources, through the exports condition). */
describe.each(['embed-in-http-server', 'express'])('examples/%s', (example) => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: Running;
  let baseUrl: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    server = startSource(`examples/${example}/server.ts`, [], {
      NODE_OPTIONS: '--conditions=stored-messages-source',
      DATABASE_URL: db.url,
      AUTH_JWT_SECRET: TEST_SECRET,
      PORT: '0',
    });
    baseUrl = (await server.waitFor(/listening on (http:\/\/\S+)\/graphql/))[1];
  });
  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  it("delivers what POST /notify sends through the use cases over the host's GraphQL HTTP and WebSocket, and stops on SIGTERM", async () => {
    const user = await userToken();
    const sub = await liveSubscription(baseUrl, user.token, 'ws');
    try {
      const res = await fetch(`${baseUrl}/notify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: user.sub, text: 'hello from the host' }) });
      expect(res.status).toBe(200);
      const notified = (await res.json()) as { id: string; recipientCount: number };
      expect(notified.recipientCount).toBe(1);
      expect(await nextWithText(sub, 'hello from the host')).toMatchObject({ id: notified.id, stored: true });
      expect(dataOf(await httpClient(baseUrl).gql(user.token, MARK_READ, { i: [notified.id] })).markRead).toEqual({ count: 1, unreadCount: 0 });
    } finally {
      sub.close();
    }
    const refused = await fetch(`${baseUrl}/notify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: user.sub, text: '' }) });
    expect(refused.status).toBe(400);
    // close() leaves nothing running: the process ends by itself once the host closes its server.
    expect(await server.stop('SIGTERM')).toBe(0);
  });
});

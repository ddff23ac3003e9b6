import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, startTestApp, type TestApp } from '../harness.js';
import { INBOX_EVENTS, subscribeOver } from './helpers.js';
import { sleep } from '../support.js';

/**
 * A client that goes away while its subscription is still starting must leave nothing behind. The
 * start is held deterministically: the user has a broadcast not yet copied into their deliveries, and
 * the test locks the user's row, so the start (which reads the unread count, copying the broadcast
 * first) waits in storage until the test lets it go, after the client has left.
 */
describe('subscriptions abandoned while starting', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let t: TestApp;
  beforeAll(async () => {
    db = await createTestDatabase();
    t = await startTestApp('postgres', { DATABASE_URL: db.url });
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it.each(['sse', 'ws'] as const)('are cleaned up (%s)', async (transport) => {
    const blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
    try {
      const user = await t.userToken();
      const producer = await t.producerToken();
      expect((await t.gql(user.token, '{ unreadCount }')).data).toEqual({ unreadCount: 0 }); // known from now on
      const sent = await t.gql(producer.token, 'mutation { broadcastMessage(input: { level: INFO, text: "held" }) { recipientCount } }');
      expect(sent.errors).toBeUndefined();
      await blocker.query('begin');
      await blocker.query('select * from sm_user where id = $1 for update', [user.sub]);
      const sub = subscribeOver(transport, t.baseUrl, user.token, INBOX_EVENTS);
      // The subscription reached the server and waits in storage (registering the new user).
      await expect.poll(() => t.app.realtime.live.stats().feeds, { timeout: 15_000 }).toBe(1);
      expect(t.app.realtime.live.stats().live).toBe(0);
      sub.close();
      await sleep(200); // let the server see the client leave
      await blocker.query('rollback');
      await expect.poll(() => t.app.realtime.live.stats().feeds, { timeout: 15_000 }).toBe(0);
    } finally {
      await blocker.end();
    }
  });
});

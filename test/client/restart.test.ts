import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../harness.js';
import { dropRedisPrefix, httpClient, liveEnv, startChildServer, type ChildServer } from '../live/helpers.js';
import { producerToken, sleep, userToken } from '../support.js';
import { summary, watch } from './helpers.js';

/** A free loopback port, so the restarted server comes back where the client left it. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

const SEND = `mutation($input: AddMessageForInput!) { addMessageFor(input: $input) { recipientCount } }`;

/**
 * A deploy: the server process stops (ending its subscriptions, then closing its sockets) and a new
 * one starts on the same address. Events go through Redis, so the new process can replay them.
 */
describe('watchInbox across a server restart', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  const live = liveEnv('redis');
  let env: Record<string, string>;
  let server: ChildServer | null = null;
  beforeAll(async () => {
    db = await createTestDatabase();
    env = { ...live.env, DATABASE_URL: db.url, PORT: String(await freePort()) };
  });
  afterAll(async () => {
    await server?.close();
    await db?.drop();
    await dropRedisPrefix(live.prefix);
  });

  it('comes back to the new process and misses nothing sent while it reconnects', async () => {
    server = await startChildServer(env);
    const user = await userToken();
    const producer = await producerToken();
    const send = async (text: string) => {
      const result = await httpClient(server!.baseUrl).gql(producer.token, SEND, { input: { userIds: [user.sub], level: 'STORED_INFO', text } });
      expect(result.errors).toBeUndefined();
    };
    const w = watch(server.baseUrl, async () => user.token);
    try {
      // A subscription without a cursor starts at "now": wait for the first event before relying on it.
      for (let n = 0; w.events.items.length === 0; n++) {
        await send(`hello ${n}`);
        await sleep(300);
      }
      const greetings = w.events.items.length;
      await server.close();
      server = await startChildServer(env);
      await send('after the restart');
      const events = await w.events.take(greetings + 2, 60_000);
      expect(summary(events.slice(-2))).toEqual(['ARCHIVE_STORED after the restart', 'INBOX_STORED after the restart']);
      expect(new Set(w.events.items.map((e) => e.cursor)).size).toBe(w.events.items.length);
      expect(w.resyncs.items).toEqual([]);
      expect(w.errors).toEqual([]);
    } finally {
      w.stop();
    }
  }, 120_000);
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REDIS_URL, TEST_SECRET } from '../env.js';
import { createTestDatabase, dataOf, deleteRedisKeys, type Backend } from '../harness.js';
import { httpClient } from '../live/helpers.js';
import { runSource, startServerProcess, type ServerProcess } from '../processes.js';
import { producerToken, uid, userToken, waitFor } from '../support.js';
import { startReceiver, whsecSecret, type Receiver } from './receiver.js';

/**
 * Webhooks from real server processes (src/main.ts) with the contract's timings: a SIGKILL right after
 * acknowledged mutations, with their events claimed and in flight, loses none of them once a server
 * runs again; two processes sharing the storage never deliver one event twice.
 */

const SEND = 'mutation($u: [ID!]!, $t: String!) { addMessageFor(input: { userIds: $u, level: STORED_INFO, text: $t }) { message { id } } }';

/** A fresh storage of `backend` for server processes, and how to remove it. */
async function storageFor(backend: Backend): Promise<{ env: Record<string, string>; drop(): Promise<void> }> {
  if (backend === 'postgres') {
    const db = await createTestDatabase();
    return { env: { DATABASE_URL: db.url }, drop: db.drop };
  }
  if (backend === 'redis') {
    const prefix = `smtest:${uid('webhooks')}:`;
    return { env: { STORAGE_BACKEND: 'redis', REDIS_URL, REDIS_PREFIX: prefix }, drop: async () => void (await deleteRedisKeys(prefix)) };
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'sm-webhooks-'));
  return { env: { DATA_DIR: dir }, drop: () => rm(dir, { recursive: true, force: true }) };
}

/** Sends one message per (user, text) through the servers in turn; answers each event the receiver must get, as "userId type messageId". */
async function sendThrough(servers: ServerProcess[], users: string[], perUser: number): Promise<string[]> {
  const producer = await producerToken();
  const expected: string[] = [];
  let k = 0;
  for (let i = 0; i < perUser; i++) {
    await Promise.all(
      users.map(async (u) => {
        const server = servers[k++ % servers.length];
        const id = dataOf(await httpClient(server.url).gql(producer.token, SEND, { u: [u], t: `m${i}` })).addMessageFor.message.id as string;
        expected.push(`${u} ARCHIVE_STORED ${id}`, `${u} INBOX_STORED ${id}`);
      }),
    );
  }
  return expected;
}

const keysOf = (r: Receiver) => r.received.filter((x) => x.status === 200).map((x) => `${x.body.userId} ${x.body.type} ${x.body.messageIds[0]}`);

async function withWorld(backend: Backend, run: (storage: Record<string, string>, receiver: Receiver) => Promise<void>): Promise<void> {
  const storage = await storageFor(backend);
  const receiver = await startReceiver();
  try {
    await run({ ...storage.env, WEBHOOK_URLS: receiver.url, WEBHOOK_SECRET: whsecSecret() }, receiver);
  } finally {
    await receiver.close();
    await storage.drop();
  }
}

// Each backend has its own storage, receiver and processes: they run at the same time (most of it is waiting).
describe('webhooks across a SIGKILL', () => {
  describe.concurrent.each(['postgres', 'embedded', 'redis'] as Backend[])('on %s', (backend) => {
    it('delivers every event of the acknowledged mutations once a server runs again', async () => {
      await withWorld(backend, async (storage, receiver) => {
        // No answer while the first server runs: its claims are in flight when it dies.
        receiver.answer = () => 'hang';
        const first = await startServerProcess(storage, TEST_SECRET);
        const users = await Promise.all([1, 2, 3, 4].map(async () => (await userToken()).sub));
        let expected: string[];
        try {
          expected = await sendThrough([first], users, 3);
          await receiver.waitFor(users[0], 1);
        } finally {
          await first.stop('SIGKILL');
        }
        receiver.answer = () => 200;
        const second = await startServerProcess(storage, TEST_SECRET);
        try {
          await waitFor(() => expected.every((e) => keysOf(receiver).includes(e)), { timeoutMs: 45_000, everyMs: 200, what: 'every event after the restart' });
          for (const u of users) expect(keysOf(receiver).filter((k) => k.startsWith(`${u} `))).toEqual(expected.filter((e) => e.startsWith(`${u} `)));
        } finally {
          await second.stop('SIGTERM');
        }
      });
    }, 120_000);
  });
});

describe('webhooks from two server processes', () => {
  describe.concurrent.each(['postgres', 'redis'] as Backend[])('on %s', (backend) => {
    it('never deliver one event twice, and keep each user in order', async () => {
      await withWorld(backend, async (storage, receiver) => {
        const servers = await Promise.all([startServerProcess(storage, TEST_SECRET), startServerProcess(storage, TEST_SECRET)]);
        try {
          const users = await Promise.all(Array.from({ length: 20 }, async () => (await userToken()).sub));
          const expected = await sendThrough(servers, users, 5);
          await waitFor(() => receiver.received.length >= expected.length, { timeoutMs: 30_000, everyMs: 200, what: `${expected.length} webhooks` });
          // Longer than a poll of each: a second delivery would have come by now.
          await new Promise((resolve) => setTimeout(resolve, 2_000));
          const ids = receiver.received.map((x) => x.headers['webhook-id']);
          const twice = receiver.received.filter((x) => ids.filter((i) => i === x.headers['webhook-id']).length > 1).map((x) => `${x.body.id} ${x.body.type} ${x.body.messageIds} at ${x.at}`);
          const failedAttempts = servers.map((s) => s.count(/"msg":"webhook msg_\S+ failed/));
          expect(twice, `events delivered twice (failed attempts logged by each server: ${failedAttempts})`).toEqual([]);
          expect(keysOf(receiver).sort()).toEqual([...expected].sort());
          for (const u of users) expect(keysOf(receiver).filter((k) => k.startsWith(`${u} `))).toEqual(expected.filter((e) => e.startsWith(`${u} `)));

          // The command line writes as a server would: its send's webhooks come from the servers.
          const cliUser = uid('cli');
          const cli = await runSource('src/cli.ts', ['send', '--to', cliUser, '--text', 'from a deploy hook'], storage);
          expect(cli.code, cli.stderr).toBe(0);
          expect((await receiver.waitFor(cliUser, 2)).map((x) => x.body.type)).toEqual(['ARCHIVE_STORED', 'INBOX_STORED']);
        } finally {
          await Promise.all(servers.map((s) => s.stop('SIGTERM')));
        }
      });
    }, 120_000);
  });
});

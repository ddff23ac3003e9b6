import { expect, it } from 'vitest';
import { newProducer, sendTo } from '../factories.js';
import { createTestDatabase, startTestApp } from '../harness.js';
import { startReceiver, whsecSecret } from './receiver.js';

/**
 * A server closing (SIGTERM, close()) with an attempt in flight to a hanging endpoint: it stops at once
 * instead of waiting for the 10 s timeout, and gives back what it claimed, so another server sharing the
 * storage delivers it now rather than when the claim's lease would have lapsed (15 s).
 */
it('close() aborts the attempt in flight and releases its claim to the next server', async () => {
  const db = await createTestDatabase();
  const receiver = await startReceiver();
  const env = { DATABASE_URL: db.url, WEBHOOK_URLS: receiver.url, WEBHOOK_SECRET: whsecSecret() };
  try {
    receiver.answer = () => 'hang';
    const first = await startTestApp('postgres', env, { webhookTimings: {} });
    const { message } = await sendTo(await newProducer(first), 'shutdown-user', { text: 'in flight' });
    await receiver.waitFor('shutdown-user', 1);
    const closing = performance.now();
    await first.close();
    expect(performance.now() - closing).toBeLessThan(5_000);

    receiver.answer = () => 200;
    const second = await startTestApp('postgres', env, { webhookTimings: {} });
    try {
      const started = Date.now();
      const got = await receiver.waitFor('shutdown-user', 3, 10_000);
      expect(got.slice(1).map((x) => [x.body.type, x.status, x.body.messageIds[0]])).toEqual([
        ['ARCHIVE_STORED', 200, message.id],
        ['INBOX_STORED', 200, message.id],
      ]);
      // Well within the lease a crashed server would have left (15 s): the claim was given back.
      expect(got[1].at - started).toBeLessThan(5_000);
      expect(got[1].body.id).toBe(got[0].body.id);
    } finally {
      await second.close();
    }
  } finally {
    await receiver.close();
    await db.drop();
  }
}, 60_000);

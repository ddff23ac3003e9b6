import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, dataOf, startTestApp, type TestApp } from '../harness.js';

describe.each(BACKENDS)('smoke on %s', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(backend);
  });
  afterAll(async () => t?.close());

  it('stores a message for a user and shows it in their inbox', async () => {
    const producer = await t.producerToken();
    const user = await t.userToken();
    const sent = dataOf(
      await t.gql(producer.token, 'mutation($u: [ID!]!) { addMessageFor(input: { userIds: $u, level: STORED_ERROR, text: "an error ☢" }) { recipientCount message { id tags } } }', { u: [user.sub] }),
    );
    expect(sent.addMessageFor.recipientCount).toBe(1);
    expect(sent.addMessageFor.message.tags).toBe('stored error');
    const inbox = dataOf(await t.gql(user.token, '{ unreadCount unreadMessages { totalCount edges { node { id text levelValue } } } }'));
    expect(inbox.unreadCount).toBe(1);
    expect(inbox.unreadMessages.edges.map((e: any) => e.node)).toEqual([{ id: sent.addMessageFor.message.id, text: 'an error ☢', levelValue: 41 }]);
  });
});

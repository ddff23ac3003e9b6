import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archive, newProducer, newUser, type Caller } from '../factories.js';
import { BACKENDS, startTestApp, type TestApp } from '../harness.js';

/**
 * A JSON value written inline with variables inside (`data: { k: $v }`) is stored with the
 * variables' values (found by the fuzz test: under graphql-jit they came out null, so the message
 * stored other data than the client sent, without any error).
 */
describe.each(BACKENDS)('inline JSON literals with variables on %s', (backend) => {
  let t: TestApp;
  let user: Caller;
  let producer: Caller;
  beforeAll(async () => {
    t = await startTestApp(backend);
    user = await newUser(t);
    producer = await newProducer(t);
  });
  afterAll(async () => t?.close());

  const expected = { k: 5, list: [5, 'five'], nested: { s: 'five', fixed: true } };
  const DATA = 'data: { k: $n, list: [$n, $s], nested: { s: $s, fixed: true } }';

  it('addMessage stores and answers the variables, and a second request with other values gets its own', async () => {
    const send = `mutation($n: Int, $s: String) { addMessage(input: { level: STORED_INFO, text: "inline", ${DATA} }) { message { id data } } }`;
    const first = await user.q(send, { n: 5, s: 'five' });
    expect(first.addMessage.message.data).toEqual(expected);
    const second = await user.q(send, { n: 6, s: 'six' });
    expect(second.addMessage.message.data).toEqual({ k: 6, list: [6, 'six'], nested: { s: 'six', fixed: true } });
    const stored = await archive(user);
    expect(stored.nodes.find((m) => m.id === first.addMessage.message.id)?.data).toEqual(expected);
  });

  it('addMessageFor stores the variables for the recipient', async () => {
    const recipient = await newUser(t);
    const send = `mutation($u: ID!, $n: Int, $s: String) { addMessageFor(input: { userIds: [$u], level: STORED_INFO, text: "inline", ${DATA} }) { message { data } } }`;
    const sent = await producer.q(send, { u: recipient.sub, n: 5, s: 'five' });
    expect(sent.addMessageFor.message.data).toEqual(expected);
    expect((await archive(recipient)).nodes[0].data).toEqual(expected);
  });
});

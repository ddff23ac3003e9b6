import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSchema } from '../../src/graphql/schema.js';
import { BACKENDS, dataOf, errorCode, startTestApp, type TestApp } from '../harness.js';
import { INBOX_EVENTS, payload, subscribeOver, waitForNoSubscriber, waitForSubscriber } from './helpers.js';

const SEND_FOR = 'mutation($u: [ID!]!, $t: String!) { addMessageFor(input: { userIds: $u, level: STORED_INFO, text: $t }) { message { id } } }';
const FIELDS = 'signal messageIds cursor';

/** `inboxEvents(after:)` spelled three ways: the argument must reach the resolver whatever the document calls it. */
const forms = (cursor: string) => [
  { form: 'an inline value', query: `subscription { inboxEvents(after: ${JSON.stringify(cursor)}) { ${FIELDS} } }`, variables: undefined },
  { form: 'a variable named otherwise', query: `subscription($c: String) { inboxEvents(after: $c) { ${FIELDS} } }`, variables: { c: cursor } },
  { form: 'a variable named $after', query: `subscription($after: String) { inboxEvents(after: $after) { ${FIELDS} } }`, variables: { after: cursor } },
];

describe('subscription arguments', () => {
  it('are, in the whole schema, only inboxEvents(after:), which the tests below cover', () => {
    const fields = Object.values(getSchema().getSubscriptionType()!.getFields());
    expect(fields.flatMap((f) => f.args.map((a) => `${f.name}.${a.name}`))).toEqual(['inboxEvents.after']);
  });
});

describe.each(BACKENDS)('subscription arguments on %s', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(backend);
  });
  afterAll(async () => t?.close());

  const sendFor = async (producer: string, user: string, text: string) =>
    dataOf(await t.gql(producer, SEND_FOR, { u: [user], t: text })).addMessageFor.message.id as string;

  describe.each(['ws', 'sse'] as const)('over %s', (transport) => {
    it('replays after a cursor given inline or in a variable of any name', async () => {
      const user = await t.userToken();
      const producer = await t.producerToken();
      const live = subscribeOver(transport, t.baseUrl, user.token, INBOX_EVENTS);
      await waitForSubscriber(t.app, user.sub);
      await sendFor(producer.token, user.sub, 'seen');
      const [, last] = (await live.results.take(2)).map((r) => payload<{ cursor: string }>(r, 'inboxEvents'));
      live.close();
      await waitForNoSubscriber(t.app, user.sub);
      const missed = await sendFor(producer.token, user.sub, 'missed');

      for (const { form, query, variables } of forms(last.cursor)) {
        const sub = subscribeOver(transport, t.baseUrl, user.token, query, variables);
        try {
          const replayed = (await sub.results.take(2)).map((r) => payload<{ signal: string; messageIds: string[] }>(r, 'inboxEvents'));
          expect(replayed.map((e) => [e.signal, e.messageIds]), form).toEqual([
            ['ARCHIVE_STORED', [missed]],
            ['INBOX_STORED', [missed]],
          ]);
        } finally {
          sub.close();
        }
      }
    });

    it('refuses a malformed cursor given inline or in a variable of any name with BAD_USER_INPUT naming after', async () => {
      const user = await t.userToken();
      for (const { form, query, variables } of forms('not a cursor')) {
        const sub = subscribeOver(transport, t.baseUrl, user.token, query, variables);
        try {
          const [result] = await sub.results.take(1);
          expect(result.data ?? null, form).toBeNull();
          expect(errorCode(result), form).toBe('BAD_USER_INPUT');
          expect(result.errors?.[0]?.extensions?.field, form).toBe('after');
          await sub.results.ended();
        } finally {
          sub.close();
        }
      }
    });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { knownUser, MESSAGE, newProducer, newUser, sendMany, unknownId, type Caller } from '../factories.js';
import { BACKENDS, startTestApp, type GqlResult, type TestApp } from '../harness.js';
import { uid } from '../support.js';

/**
 * CONTRACT.md §5 "Limits" and "Inputs": beyond a limit, BAD_USER_INPUT naming the field, and
 * nothing stored. Lengths count code points (astral characters prove it: each is two UTF-16 units);
 * `data` counts the UTF-8 bytes of its JSON.
 */

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url');
const EMOJI = '😀'; // 1 code point, 2 UTF-16 units, 4 UTF-8 bytes
const jsonBytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v), 'utf8');
const URL_PREFIX = 'https://example.com/'; // 20 characters

interface Sender {
  name: string;
  /** The mutation field. */
  field: 'addMessage' | 'addMessageFor' | 'broadcastMessage';
  /** Runs the mutation with the base input overridden by `over`. */
  send(over: Record<string, unknown>): Promise<GqlResult>;
  /** Everything the mutation could have stored, for "nothing stored" checks. */
  observe(): Promise<unknown>;
}

function expectBadInput(r: GqlResult, field: string, label: string) {
  const e = r.errors?.[0];
  expect(e?.extensions?.code, `${label}: ${JSON.stringify(r).slice(0, 400)}`).toBe('BAD_USER_INPUT');
  expect(e?.extensions?.field, `${label}: field`).toBe(field);
  expect(JSON.stringify(r.data ?? null)).not.toMatch(/"id"/);
}

describe.each(BACKENDS)('input limits on %s', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(backend);
  });
  afterAll(async () => t?.close());

  const OBSERVE = '{ unreadCount pendingMessages { id } messages(first: 100) { totalCount edges { node { id } } } }';

  /** The four ways to send, each with fresh users and a way to see what it stored. */
  async function senders(): Promise<Sender[]> {
    const own = await newUser(t);
    const flashOwn = await newUser(t);
    const producer = await newProducer(t);
    const recipients = [await newUser(t), await newUser(t)];
    const bystander = await knownUser(t); // a broadcast would reach it
    const mutate = (caller: Caller, field: string, type: string, base: Record<string, unknown>) => (over: Record<string, unknown>) =>
      caller.raw(`mutation($input: ${type}!) { ${field}(input: $input) { message { ${MESSAGE} } } }`, { input: { ...base, ...over } });
    const observe = (...users: Caller[]) => async () => Promise.all(users.map((u) => u.q(OBSERVE)));
    return [
      { name: 'addMessage (stored)', field: 'addMessage', send: mutate(own, 'addMessage', 'AddMessageInput', { level: 'STORED_INFO', text: 'ok' }), observe: observe(own) },
      { name: 'addMessage (flash)', field: 'addMessage', send: mutate(flashOwn, 'addMessage', 'AddMessageInput', { level: 'INFO', text: 'ok' }), observe: observe(flashOwn) },
      {
        name: 'addMessageFor',
        field: 'addMessageFor',
        send: mutate(producer, 'addMessageFor', 'AddMessageForInput', { userIds: recipients.map((r) => r.sub), level: 'STORED_INFO', text: 'ok' }),
        observe: observe(...recipients),
      },
      { name: 'broadcastMessage', field: 'broadcastMessage', send: mutate(producer, 'broadcastMessage', 'BroadcastMessageInput', { level: 'STORED_INFO', text: 'ok' }), observe: observe(bystander) },
    ];
  }

  /** Each invalid input is refused naming its field, and stores nothing, for every way to send. */
  async function expectRefused(cases: [string, Record<string, unknown>, string][], only?: Sender['field'][]) {
    for (const s of await senders()) {
      if (only && !only.includes(s.field)) continue;
      const before = await s.observe();
      for (const [label, over, field] of cases) {
        const r = await s.send(over);
        expectBadInput(r, field, `${s.name}: ${label}`);
        expect(await s.observe(), `${s.name}: ${label} stored something`).toEqual(before);
      }
    }
  }

  /** Each input at its limit is accepted and comes back exactly as sent. */
  async function expectAccepted(cases: [string, Record<string, unknown>, (m: any) => void][], only?: Sender['field'][]) {
    for (const s of await senders()) {
      if (only && !only.includes(s.field)) continue;
      for (const [label, over, check] of cases) {
        const r = await s.send(over);
        expect(r.errors, `${s.name}: ${label}: ${JSON.stringify(r.errors)}`).toBeUndefined();
        check(r.data[s.field].message);
      }
    }
  }

  describe('text', () => {
    it('accepts up to 10,000 code points', async () => {
      const astral = EMOJI.repeat(10_000);
      expect(astral.length).toBe(20_000);
      const mixed = `${'a'.repeat(9_999)}${EMOJI}`;
      await expectAccepted([
        ['10,000 astral', { text: astral }, (m) => expect(m.text).toBe(astral)],
        ['10,000 mixed', { text: mixed }, (m) => expect(m.text).toBe(mixed)],
        ['one character', { text: 'x' }, (m) => expect(m.text).toBe('x')],
      ]);
    });

    it('refuses an empty text and more than 10,000 code points', async () => {
      await expectRefused([
        ['empty', { text: '' }, 'input.text'],
        ['10,001 astral', { text: EMOJI.repeat(10_001) }, 'input.text'],
        ['10,001 ASCII', { text: 'a'.repeat(10_001) }, 'input.text'],
        ['U+0000', { text: 'a\u0000b' }, 'input.text'],
        ['unpaired surrogate', { text: 'a\ud800b' }, 'input.text'],
      ]);
    });
  });

  describe('extraTags', () => {
    it('accepts up to 255 code points', async () => {
      const tags = EMOJI.repeat(255);
      await expectAccepted([['255 astral', { extraTags: tags }, (m) => expect(m.extraTags).toBe(tags)]]);
    });

    it('refuses 256', async () => {
      await expectRefused([
        ['256 astral', { extraTags: EMOJI.repeat(256) }, 'input.extraTags'],
        ['256 ASCII', { extraTags: 'a'.repeat(256) }, 'input.extraTags'],
        ['U+0000', { extraTags: 'a\u0000' }, 'input.extraTags'],
      ]);
    });
  });

  describe('url', () => {
    it('accepts absolute http(s) URLs up to 2,048 code points', async () => {
      const ascii = URL_PREFIX + 'a'.repeat(2_048 - URL_PREFIX.length);
      const astral = URL_PREFIX + EMOJI.repeat(2_048 - URL_PREFIX.length);
      expect([...astral].length).toBe(2_048);
      await expectAccepted([
        ['2,048 ASCII', { url: ascii }, (m) => expect(m.url).toBe(ascii)],
        ['2,048 code points with astral characters', { url: astral }, (m) => expect(m.url).toBe(astral)],
        ['http', { url: 'http://example.com' }, (m) => expect(m.url).toBe('http://example.com')],
        ['https with port, query and fragment', { url: 'https://example.com:8443/a?b=c#d' }, (m) => expect(m.url).toBe('https://example.com:8443/a?b=c#d')],
      ]);
    });

    it('refuses longer URLs, other schemes and relative URLs', async () => {
      await expectRefused([
        ['2,049', { url: URL_PREFIX + 'a'.repeat(2_049 - URL_PREFIX.length) }, 'input.url'],
        ['2,049 with astral characters', { url: URL_PREFIX + EMOJI.repeat(2_049 - URL_PREFIX.length) }, 'input.url'],
        ['ftp', { url: 'ftp://example.com/file' }, 'input.url'],
        ['javascript', { url: 'javascript:alert(1)' }, 'input.url'],
        ['data', { url: 'data:text/html,<script>alert(1)</script>' }, 'input.url'],
        ['mailto', { url: 'mailto:someone@example.com' }, 'input.url'],
        ['file', { url: 'file:///etc/passwd' }, 'input.url'],
        ['relative path', { url: '/inbox/1' }, 'input.url'],
        ['protocol-relative', { url: '//example.com/x' }, 'input.url'],
        ['no scheme', { url: 'example.com/x' }, 'input.url'],
        ['scheme only', { url: 'https://' }, 'input.url'],
        ['U+0000', { url: 'https://example.com/\u0000' }, 'input.url'],
      ]);
    });
  });

  describe('data', () => {
    it('accepts up to 16 KiB of JSON, counted in UTF-8 bytes', async () => {
      const ascii = 'a'.repeat(16_382);
      const twoByte = 'é'.repeat(8_191);
      const object = { k: 'a'.repeat(16_376) };
      for (const v of [ascii, twoByte, object]) expect(jsonBytes(v)).toBe(16_384);
      await expectAccepted([
        ['16,384 bytes (ASCII string)', { data: ascii }, (m) => expect(m.data).toBe(ascii)],
        ['16,384 bytes (two-byte characters)', { data: twoByte }, (m) => expect(m.data).toBe(twoByte)],
        ['16,384 bytes (object)', { data: object }, (m) => expect(m.data).toEqual(object)],
      ]);
    });

    it('refuses more than 16 KiB of JSON, even when it is fewer UTF-16 units', async () => {
      const twoByte = 'é'.repeat(8_192);
      const astral = EMOJI.repeat(4_096);
      expect(jsonBytes(twoByte)).toBe(16_386);
      expect(JSON.stringify(twoByte).length).toBe(8_194);
      expect(jsonBytes(astral)).toBe(16_386);
      await expectRefused([
        ['16,385 bytes (ASCII)', { data: 'a'.repeat(16_383) }, 'input.data'],
        ['16,386 bytes of two-byte characters', { data: twoByte }, 'input.data'],
        ['16,386 bytes of astral characters', { data: astral }, 'input.data'],
        ['16,385 bytes (object)', { data: { k: 'a'.repeat(16_377) } }, 'input.data'],
        ['U+0000 in a value', { data: { a: 'x\u0000y' } }, 'input.data'],
        ['U+0000 in a key', { data: { 'a\u0000': 1 } }, 'input.data'],
        ['unpaired surrogate', { data: ['\udc00'] }, 'input.data'],
      ]);
    });

    // Built as text: JSON.stringify of 4,300 levels overflows the test's own stack.
    const nestedJson = (depth: number, [open, close] = ['{"a":', '}']) => `${open.repeat(depth)}1${close.repeat(depth)}`;
    const nested = (depth: number, brackets?: [string, string]) => JSON.parse(nestedJson(depth, brackets));

    it('accepts arrays and objects nested 64 levels deep', async () => {
      await expectAccepted([
        ['64 levels of objects', { data: nested(64) }, (m) => expect(m.data).toEqual(nested(64))],
        ['64 levels of arrays', { data: nested(64, ['[', ']']) }, (m) => expect(m.data).toEqual(nested(64, ['[', ']']))],
      ]);
    });

    it('refuses arrays and objects nested more than 64 levels deep', async () => {
      await expectRefused([
        ['65 levels of objects', { data: nested(65) }, 'input.data'],
        ['65 levels of arrays', { data: nested(65, ['[', ']']) }, 'input.data'],
        ['65 levels, mixed', { data: nested(65, ['{"a":[', ']}']) }, 'input.data'],
      ]);
    });

    it('refuses 4,300 levels (9 KB) in a variable or a literal as the client\'s mistake, storing nothing', async () => {
      const user = await newUser(t);
      const before = await user.q(OBSERVE);
      const post = async (body: string) => {
        const res = await fetch(`${t.baseUrl}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${user.token}` },
          body,
        });
        return { status: res.status, result: (await res.json()) as GqlResult };
      };
      const ADD = 'mutation($input: AddMessageInput!) { addMessage(input: $input) { stored } }';
      const variable = await post(`{"query":${JSON.stringify(ADD)},"variables":{"input":{"level":"STORED_INFO","text":"x","data":${nestedJson(4300)}}}}`);
      expectBadInput(variable.result, 'input.data', 'a variable 4,300 levels deep');

      const literal = (data: string) => `mutation { addMessage(input: { level: STORED_INFO, text: "x", data: ${data} }) { stored } }`;
      const shallow = await post(JSON.stringify({ query: literal(nestedJson(65, ['[', ']'])) }));
      expect(shallow.status).toBe(400);
      expect(shallow.result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      // Past what graphql-js' recursive parser can follow: a syntax error, as is a selection set as deep.
      const deepSelection = `{ ${'unreadMessages { edges { node { '.repeat(1500)}id${' } } }'.repeat(1500)} }`;
      for (const query of [literal(nestedJson(4300, ['[', ']'])), literal(nestedJson(4300, ['{a:', '}'])), deepSelection]) {
        const deep = await post(JSON.stringify({ query }));
        expect(deep.status).toBe(400);
        expect(deep.result.errors?.map((e) => e.extensions?.code)).toEqual(['GRAPHQL_PARSE_FAILED']);
      }
      expect(await user.q(OBSERVE)).toEqual(before);
    });
  });

  describe('dates', () => {
    it('refuses an expiry already past', async () => {
      await expectRefused([['expiresAt in the past', { expiresAt: new Date(Date.now() - 60_000).toISOString() }, 'input.expiresAt']]);
    });

    it('refuses a date older than MESSAGE_EXPIRE_DAYS (the message would be expired already)', async () => {
      await expectRefused([['date 121 days ago', { date: new Date(Date.now() - 121 * 86_400_000).toISOString() }, 'input.date']], ['addMessageFor', 'broadcastMessage']);
    });

    // DateTime's output has four year digits, so an instant outside 0001..9999 in UTC cannot be written back.
    const YEAR_10000 = '9999-12-31T23:59:59-23:59';
    const YEAR_0 = '0000-12-31T23:59:59Z';
    const LATER = '2999-01-01T00:00:00Z';

    it('refuses instants outside the years 0001 to 9999 in UTC, storing nothing', async () => {
      await expectRefused([['expiresAt in the year 10000 in UTC', { expiresAt: YEAR_10000 }, 'input.expiresAt']]);
      await expectRefused(
        [
          ['date in the year 0', { date: YEAR_0, expiresAt: LATER }, 'input.date'],
          ['date in the year 0 in UTC', { date: '0001-01-01T00:00:00+00:01', expiresAt: LATER }, 'input.date'],
          ['date in the year 10000 in UTC', { date: YEAR_10000 }, 'input.date'],
        ],
        ['addMessageFor', 'broadcastMessage'],
      );
    });

    it('accepts the first and the last millisecond of the years 0001 to 9999', async () => {
      await expectAccepted([['expiresAt 9999-12-31T23:59:59.999Z', { expiresAt: '9999-12-31T23:59:59.999Z' }, (m) => expect(m.expiresAt).toBe('9999-12-31T23:59:59.999Z')]]);
      await expectAccepted(
        [['date 0001-01-01T00:00:00.000Z', { date: '0001-01-01T00:00:00Z', expiresAt: LATER }, (m) => expect(m.createdAt).toBe('0001-01-01T00:00:00.000Z')]],
        ['addMessageFor', 'broadcastMessage'],
      );
    });

    it('caps the default expiry of a date late in the year 9999 at the last instant it can write', async () => {
      await expectAccepted(
        [['date 9999-12-31T23:59:59.999Z', { date: '9999-12-31T23:59:59.999Z' }, (m) => expect(m.expiresAt).toBe('9999-12-31T23:59:59.999Z')]],
        ['addMessageFor', 'broadcastMessage'],
      );
    });

    it('refuses filter.since, filter.until and markAllRead until outside those years, changing nothing', async () => {
      const user = await newUser(t);
      const producer = await newProducer(t);
      await producer.q('mutation($u: [ID!]!) { addMessageFor(input: { userIds: $u, level: STORED_INFO, text: "x" }) { recipientCount } }', { u: [user.sub] });
      const before = await user.q(OBSERVE);
      for (const at of [YEAR_10000, YEAR_0]) {
        for (const [label, doc, vars, field] of [
          ['since', 'query($f: MessageFilter) { messages(filter: $f) { totalCount } }', { f: { since: at } }, 'f.since'],
          ['until', 'query($f: MessageFilter) { messages(filter: $f) { totalCount } }', { f: { until: at } }, 'f.until'],
          ['markAllRead', 'mutation($at: DateTime) { markAllRead(input: { until: $at }) { count } }', { at }, 'at'],
        ] as const) {
          expectBadInput(await user.raw(doc, vars), field, `${label} ${at}`);
        }
      }
      expect(await user.q(OBSERVE)).toEqual(before);
    });
  });

  describe('idempotencyKey', () => {
    it('refuses a key holding U+0000', async () => {
      await expectRefused([['U+0000', { idempotencyKey: `k\u0000${uid()}` }, 'input.idempotencyKey']]);
    });
  });

  describe('userIds', () => {
    const ADD_FOR = 'mutation($input: AddMessageForInput!) { addMessageFor(input: $input) { recipientCount } }';
    const unread = async (sub: string) => (await t.gql((await t.userToken(sub)).token, '{ unreadCount }')).data.unreadCount;

    it('refuses an empty list, bad ids and more than 10,000 users, storing nothing', async () => {
      const producer = await newProducer(t);
      const ok = uid('ok');
      const many = Array.from({ length: 10_001 }, (_, i) => `${uid('many')}-${i}`);
      const cases: [string, string[]][] = [
        ['empty', []],
        ['empty id', [ok, '']],
        ['256 code points', [ok, EMOJI.repeat(256)]],
        ['U+0000', [ok, 'a\u0000b']],
        ['unpaired surrogate', [ok, 'a\ud800']],
        ['10,001', many],
      ];
      for (const [label, userIds] of cases) {
        const r = await producer.raw(ADD_FOR, { input: { userIds, level: 'STORED_INFO', text: 'x' } });
        expectBadInput(r, 'input.userIds', label);
      }
      for (const sub of [ok, many[0], many[5_000], many[10_000]]) expect(await unread(sub)).toBe(0);
    });

    it('accepts 10,000 users, and user ids of 255 code points', async () => {
      const producer = await newProducer(t);
      const many = Array.from({ length: 10_000 }, (_, i) => `${uid('many')}-${i}`);
      const r = await producer.raw(ADD_FOR, { input: { userIds: many, level: 'STORED_INFO', text: 'to many' } });
      expect(r).toEqual({ data: { addMessageFor: { recipientCount: 10_000 } } });
      for (const sub of [many[0], many[9_999]]) expect(await unread(sub)).toBe(1);
      const longId = EMOJI.repeat(255);
      expect(await producer.raw(ADD_FOR, { input: { userIds: [longId], level: 'STORED_INFO', text: 'x' } })).toEqual({
        data: { addMessageFor: { recipientCount: 1 } },
      });
      expect(await unread(longId)).toBe(1);
    });
  });

  describe('first / last', () => {
    const PAGE = 'query($first: Int, $last: Int) { messages(first: $first, last: $last) { totalCount edges { node { id } } } unreadMessages(first: $first, last: $last) { totalCount edges { node { id } } } }';

    it('accepts 0 to 100, and gives 20 by default', async () => {
      const producer = await newProducer(t);
      const user = await newUser(t);
      await sendMany(producer, user.sub, 25);
      for (const [args, n] of [[{}, 20], [{ first: 0 }, 0], [{ last: 0 }, 0], [{ first: 100 }, 25], [{ last: 100 }, 25], [{ first: 1 }, 1]] as const) {
        const d = await user.q(PAGE, args);
        for (const conn of [d.messages, d.unreadMessages]) {
          expect(conn.edges, JSON.stringify(args)).toHaveLength(n);
          expect(conn.totalCount).toBe(25);
        }
      }
    });

    it('refuses more than 100 and negative values, naming the argument', async () => {
      const user = await newUser(t);
      for (const [args, field] of [[{ first: 101 }, 'first'], [{ first: -1 }, 'first'], [{ last: 101 }, 'last'], [{ last: -1 }, 'last'], [{ first: 2 ** 31 - 1 }, 'first']] as const) {
        for (const conn of ['messages', 'unreadMessages']) {
          const r = await user.raw(`query($first: Int, $last: Int) { ${conn}(first: $first, last: $last) { totalCount } }`, args);
          expectBadInput(r, field, `${conn} ${JSON.stringify(args)}`);
        }
      }
    });
  });

  describe('ids and cursors', () => {
    const MALFORMED_IDS = [
      'not an id!',
      '',
      b64('Message:0'),
      b64('Message:-1'),
      b64('Message:abc'),
      b64('Message:1 '),
      b64('Message:01'),
      b64(`Message:${'9'.repeat(19)}`),
      b64('User:1'),
      b64('Flash:not-a-uuid'),
      'A'.repeat(65),
      Buffer.from('Message:12', 'utf8').toString('base64'), // standard base64, with padding
      `${b64('Message:12').slice(0, -1)}h`, // a non-canonical spelling of Message:12 (stray trailing bits)
    ];

    it('refuses malformed ids in node and message as BAD_USER_INPUT naming `id`', async () => {
      const user = await newUser(t);
      for (const id of MALFORMED_IDS) {
        for (const q of ['query($id: ID!) { node(id: $id) { id } }', 'query($id: ID!) { message(id: $id) { id } }']) {
          expectBadInput(await user.raw(q, { id }), 'id', `${q} ${JSON.stringify(id)}`);
        }
      }
    });

    it('refuses a malformed id anywhere in markRead, markUnread and deleteMessages, changing nothing', async () => {
      const producer = await newProducer(t);
      const user = await newUser(t);
      const [unreadMsg, readMsg] = await sendMany(producer, user.sub, 2);
      await user.q('mutation($ids: [ID!]!) { markRead(input: { ids: $ids }) { count } }', { ids: [readMsg.id] });
      const before = await user.q(OBSERVE);
      for (const name of ['markRead', 'markUnread', 'deleteMessages']) {
        for (const bad of MALFORMED_IDS) {
          for (const [ids, field] of [
            [[bad], 'input.ids[0]'],
            [[unreadMsg.id, readMsg.id, unknownId(), bad], 'input.ids[3]'],
          ] as const) {
            const r = await user.raw(`mutation($ids: [ID!]!) { ${name}(input: { ids: $ids }) { count } }`, { ids });
            expectBadInput(r, field, `${name} ${JSON.stringify(ids)}`);
          }
        }
        expect(await user.q(OBSERVE)).toEqual(before);
      }
      expect((await user.q('{ messages { edges { node { id read } } } }')).messages.edges.map((e: any) => e.node)).toEqual([
        { id: readMsg.id, read: true },
        { id: unreadMsg.id, read: false },
      ]);
    });

    it('refuses malformed cursors as BAD_USER_INPUT naming `after` or `before`', async () => {
      const user = await newUser(t);
      const cursors = ['not a cursor!', '', b64('c:abc'), b64('x:1'), b64('c:'), b64('c:-1'), b64('c:1.5'), b64(`c:${'9'.repeat(30)}`), 'a'.repeat(300)];
      for (const conn of ['messages', 'unreadMessages']) {
        for (const c of cursors) {
          expectBadInput(await user.raw(`query($c: String) { ${conn}(first: 5, after: $c) { totalCount } }`, { c }), 'after', `${conn} after ${JSON.stringify(c)}`);
          expectBadInput(await user.raw(`query($c: String) { ${conn}(last: 5, before: $c) { totalCount } }`, { c }), 'before', `${conn} before ${JSON.stringify(c)}`);
        }
      }
    });
  });

  describe('wrong types', () => {
    it('refuses wrongly typed variables as BAD_USER_INPUT naming the variable path, storing nothing', async () => {
      for (const s of await senders()) {
        const before = await s.observe();
        for (const [label, over, path] of [
          ['text as a number', { text: 123 }, 'input.text'],
          ['text as null', { text: null }, 'input.text'],
          ['unknown level', { level: 'LOUD' }, 'input.level'],
          ['level as a number', { level: 41 }, 'input.level'],
          ['url as an object', { url: { href: 'https://example.com' } }, 'input.url'],
          ['malformed DateTime', { expiresAt: 'tomorrow' }, 'input.expiresAt'],
          ['DateTime without offset', { expiresAt: '2030-01-01T00:00:00' }, 'input.expiresAt'],
          ['unknown input field', { colour: 'red' }, 'input'],
        ] as const) {
          const r = await s.send(over);
          expectBadInput(r, path, `${s.name}: ${label}`);
          expect(r.errors?.[0]?.message, `${s.name}: ${label}`).toContain('Variable "$input"');
          expect(r.data ?? null).toBeNull();
          expect(await s.observe(), `${s.name}: ${label} stored something`).toEqual(before);
        }
      }
    });

    it('refuses a document with wrongly typed literals before running it, storing nothing', async () => {
      const user = await newUser(t);
      const before = await user.q(OBSERVE);
      for (const doc of [
        'mutation { addMessage(input: { level: STORED_INFO, text: 123 }) { stored } }',
        'mutation { addMessage(input: { level: LOUD, text: "x" }) { stored } }',
        'mutation { addMessage(input: { level: STORED_INFO }) { stored } }',
        'mutation { addMessage(input: { level: STORED_INFO, text: "x", colour: "red" }) { stored } }',
        'mutation { addMessage(input: { level: STORED_INFO, text: "x", expiresAt: "tomorrow" }) { stored } }',
        'mutation { addMessage(input: { level: STORED_INFO, text: "x", expiresAt: "9999-12-31T23:59:59-23:59" }) { stored } }',
        '{ messages(filter: { until: "9999-12-31T23:59:59-23:59" }) { totalCount } }',
        'mutation { markAllRead(input: { until: "0000-12-31T23:59:59Z" }) { count } }',
        '{ messages(first: "ten") { totalCount } }',
        '{ messages(first: 99999999999) { totalCount } }',
      ]) {
        const r = await user.raw(doc);
        expect(r.errors?.length, doc).toBeGreaterThan(0);
        expect(['GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT'], `${doc}: ${JSON.stringify(r)}`).toContain(r.errors?.[0]?.extensions?.code);
        expect(r.data ?? null).toBeNull();
      }
      expect(await user.q(OBSERVE)).toEqual(before);
    });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTimestamptz } from '../../src/storage/orm/reads.js';
import { MESSAGE, newProducer, newUser, sendTo } from '../factories.js';
import { startTestApp, type TestApp } from '../harness.js';

/** PostgreSQL's ISO output of an instant in a UTC session, with `digits` fraction digits (trailing zeros kept). */
function pgText(ms: number, micros: number, digits: number): string {
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const fraction = `${iso.slice(20, 23)}${String(micros).padStart(3, '0')}`.slice(0, digits);
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${digits ? `.${fraction}` : ''}+00`;
}

describe('parseTimestamptz (PostgreSQL timestamptz text to Date)', () => {
  it('agrees with Date on PostgreSQL text of 6,000 instants with every fraction length', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 6000; i++) {
      const ms = Math.floor(random() * 2 ** 42) - 2 ** 40; // 1935 to 2109
      const text = pgText(ms, Math.floor(random() * 1000), i % 7);
      const expected = new Date(text);
      expect(expected.getTime(), text).not.toBeNaN();
      expect(parseTimestamptz(text).getTime(), text).toBe(expected.getTime());
    }
  });

  it('reads the common shapes exactly', () => {
    expect(parseTimestamptz('2026-01-31 12:00:00.123456+00').toISOString()).toBe('2026-01-31T12:00:00.123Z');
    expect(parseTimestamptz('2026-01-31 12:00:00.1+00').toISOString()).toBe('2026-01-31T12:00:00.100Z');
    expect(parseTimestamptz('2026-01-31 12:00:00+00').toISOString()).toBe('2026-01-31T12:00:00.000Z');
    expect(parseTimestamptz('2024-02-29 23:59:59.999999+00').toISOString()).toBe('2024-02-29T23:59:59.999Z');
    expect(parseTimestamptz('0100-01-01 00:00:00+00').toISOString()).toBe('0100-01-01T00:00:00.000Z');
  });

  it('reads the years 0001 to 0099 as they are, not as 19xx or 20xx', () => {
    expect(parseTimestamptz('0001-01-01 00:00:00+00').toISOString()).toBe('0001-01-01T00:00:00.000Z');
    expect(parseTimestamptz('0004-02-29 12:34:56.789+00').toISOString()).toBe('0004-02-29T12:34:56.789Z');
    expect(parseTimestamptz('0050-06-15 00:00:00.5+00').toISOString()).toBe('0050-06-15T00:00:00.500Z');
    expect(parseTimestamptz('0099-12-31 23:59:59.999999+00').toISOString()).toBe('0099-12-31T23:59:59.999Z');
    for (let year = 1; year < 100; year++) {
      const at = new Date(Date.UTC(2000, 2, 1, 6, 7, 8, 9));
      at.setUTCFullYear(year);
      expect(parseTimestamptz(pgText(at.getTime(), 0, 3)).getTime(), String(year)).toBe(at.getTime());
    }
  });

  it('leaves every other form to Date, and so reads it as Date does', () => {
    for (const text of [
      '2026-01-31 13:00:00.5+01', // another session time zone
      '2026-01-31 12:00:00.123+05:30',
      '2026-01-31T12:00:00.123456+00:00', // JSON's form (rows built with json_agg)
      '12026-01-31 12:00:00+00',
      '2026-01-31 12:00:00.+00',
      '2026-01-31 12:0x:00+00',
      '0044-03-15 12:00:00+00 BC',
      'infinity',
    ]) {
      const expected = new Date(text).getTime();
      const got = parseTimestamptz(text).getTime();
      if (Number.isNaN(expected)) expect(got, text).toBeNaN();
      else expect(got, text).toBe(expected);
    }
  });
});

// The PostgreSQL backends read timestamps from text; Redis keeps milliseconds.
describe.each(['postgres', 'embedded'] as const)('dates of the years 0001 to 0099 on %s', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    // A date that old is otherwise refused: the message would have expired MESSAGE_EXPIRE_DAYS after it.
    t = await startTestApp(backend, { MESSAGE_EXPIRE_DAYS: '0' });
  });
  afterAll(async () => t?.close());

  it('come back from storage exactly as sent, in every read and in filters', async () => {
    const user = await newUser(t);
    const producer = await newProducer(t);
    const dates = ['0001-01-01T00:00:00.000Z', '0004-02-29T12:34:56.789Z', '0099-12-31T23:59:59.999Z'];
    const ids: string[] = [];
    for (const date of dates) ids.push((await sendTo(producer, user.sub, { date, expiresAt: '9999-12-31T23:59:59.999Z' })).message.id);

    const read = await user.q(`query($id: ID!) { messages { edges { node { id createdAt } } } message(id: $id) { createdAt } pendingMessages { id createdAt } }`, { id: ids[0] });
    expect(read.messages.edges.map((e: any) => e.node.createdAt)).toEqual([...dates].reverse());
    expect(read.message.createdAt).toBe(dates[0]);
    expect(read.pendingMessages.map((m: any) => m.createdAt)).toEqual(dates);
    const marked = await user.q(`mutation($ids: [ID!]!) { markRead(input: { ids: $ids }) { messages { ${MESSAGE} } } }`, { ids });
    expect(marked.markRead.messages.map((m: any) => m.createdAt)).toEqual(dates);

    const between = async (since: string, until: string) =>
      (await user.q('query($f: MessageFilter) { messages(filter: $f) { edges { node { id } } } }', { f: { since, until } })).messages.edges.map((e: any) => e.node.id);
    expect(await between('0001-01-01T00:00:00Z', '0001-12-31T23:59:59Z')).toEqual([ids[0]]);
    expect(await between('0004-01-01T00:00:00Z', '0099-12-31T23:59:59.999Z')).toEqual([ids[2], ids[1]]);
  });
});

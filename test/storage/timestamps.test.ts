import { describe, expect, it } from 'vitest';
import { parseTimestamptz } from '../../src/storage/orm/reads.js';

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

  it('leaves every other form to Date, and so reads it as Date does', () => {
    for (const text of [
      '2026-01-31 13:00:00.5+01', // another session time zone
      '2026-01-31 12:00:00.123+05:30',
      '2026-01-31T12:00:00.123456+00:00', // JSON's form (rows built with json_agg)
      '0099-12-31 23:59:59+00', // Date.UTC would read a two-digit year as 19xx
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

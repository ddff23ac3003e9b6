import { describe, expect, it } from 'vitest';
import type { GraphQLScalarType } from 'graphql';
import { isoString } from '../../src/graphql/scalars.js';
import { getSchema } from '../../src/graphql/schema.js';

describe('DateTime output', () => {
  it('spells every instant exactly as Date#toISOString', () => {
    const edges = [0, 1, 9, 10, 99, 100, 999, Date.UTC(999, 11, 31, 23, 59, 59, 999), Date.UTC(1000, 0, 1), Date.UTC(9999, 11, 31, 23, 59, 59, 999), Date.UTC(10000, 0, 1), -1, -62_198_755_200_000];
    let seed = 42;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31) * 4_102_444_800_000; // 1970..2100
    const instants = [...edges, ...Array.from({ length: 5000 }, () => Math.floor(random()))];
    for (const t of instants) expect(isoString(new Date(t)), String(t)).toBe(new Date(t).toISOString());
  });

  it('refuses an invalid date as toISOString does', () => {
    expect(() => isoString(new Date(Number.NaN))).toThrow(RangeError);
  });
});

describe('DateTime input', () => {
  const parse = (value: string) => (getSchema().getType('DateTime') as GraphQLScalarType).parseValue(value) as Date;

  it('refuses instants that are not on the calendar instead of rolling them over', () => {
    for (const value of ['2026-02-29T00:00:00Z', '2026-02-30T00:00:00Z', '2026-04-31T00:00:00Z', '2026-13-01T00:00:00Z', '2026-00-10T00:00:00Z',
      '2026-01-00T00:00:00Z', '2026-01-01T24:00:00Z', '2026-01-01T23:60:00Z', '2026-01-01T23:59:60Z', '2026-01-01T00:00:00+24:00', '2026-01-01T00:00:00+01:60']) {
      expect(() => parse(value), value).toThrow(/not a valid date/);
    }
  });

  it('accepts the last day of each month, leap days included, in every form of offset', () => {
    for (const value of ['2028-02-29T00:00:00Z', '2000-02-29T12:00:00+05:30', '0004-02-29T00:00:00Z', '2026-12-31T23:59:59.999-0800', '2026-04-30T10:00+02:00']) {
      expect(parse(value).getTime(), value).toBe(new Date(value).getTime());
    }
  });
});

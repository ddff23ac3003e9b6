import { describe, expect, it } from 'vitest';
import { isoString } from '../../src/graphql/scalars.js';

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

/**
 * The fuzz test's randomness and its pools of hostile values. A seeded mulberry32 (no dependency) so
 * a failing run is replayed exactly by its seed; each case gets its own generator from (seed, index),
 * so one case can be regenerated without replaying the ones before it.
 */

export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  pick<T>(xs: readonly T[]): T;
  chance(p: number): boolean;
}

export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: (xs) => xs[int(xs.length)], chance: (p) => next() < p };
}

/** The generator of case `index` under `seed`. */
export const caseRng = (seed: number, index: number) => mulberry32(Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35));

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url');

/** Strings that break naive code: lengths past every limit, U+0000, lone surrogates, controls, astral characters. */
export function weirdString(r: Rng): string {
  switch (r.int(14)) {
    case 0: return '';
    case 1: return ' \t\n ';
    case 2: return 'x'.repeat(r.pick([255, 256, 2_049, 10_000, 10_001, 70_000]));
    case 3: return '😀'.repeat(r.pick([255, 256, 10_000, 10_001]));
    case 4: return `a\u0000b`;
    case 5: return `lone \uD800 high`;
    case 6: return `lone \uDC00 low`;
    case 7: return '\uDBFF';
    case 8: return '\u202E\u200B\uFEFF\u0007\u001B[31m';
    case 9: return "'; drop table sm_message; --";
    case 10: return '{"$gt":""}\\\\"';
    case 11: return 'javascript:alert(1)';
    case 12: return '%00%ff%c0%af';
    default: return String.fromCodePoint(...Array.from({ length: 1 + r.int(40) }, () => r.int(0x110000)).map((c) => (c >= 0xd800 && c <= 0xdfff ? 0x41 : c)));
  }
}

/** Numbers past Int's range, negative, fractional, and values JSON turns into something else. */
export const weirdNumber = (r: Rng): number =>
  r.pick([-1, 0, -0, 101, 2 ** 31, 2 ** 31 - 1, -(2 ** 31) - 1, 2 ** 53 + 2, 1e308, -1e308, 1.5, 1e-7, Number.MAX_SAFE_INTEGER, 99, -100]);

/** Dates outside what every store holds, malformed ones, and edge offsets. */
export const weirdDate = (r: Rng): string =>
  r.pick([
    '0000-01-01T00:00:00Z', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z', '10000-01-01T00:00:00Z', '+275760-09-13T00:00:00Z',
    '-000001-01-01T00:00:00Z', '1969-12-31T23:59:59Z', '2026-02-30T00:00:00Z', '2026-13-01T00:00:00Z', '2026-01-01T24:00:00Z',
    '2026-01-01T00:00:00+99:99', '2026-01-01T00:00:00', '2026-01-01', 'yesterday', '', '2026-01-01T00:00:00.123456789Z',
    '9999-12-31T23:59:59-14:00', '9999-12-31T20:00:00-05:00', '0000-01-01T00:00:00+01:00', '0001-01-01T00:00:00+14:00', `${new Date(Date.now() + 86_400_000).toISOString()}`,
  ]);

/** Global ids that are not this caller's messages: junk, other types, out-of-range numbers. */
export const weirdId = (r: Rng): string =>
  r.pick([
    '', '=', 'not base64!', 'A'.repeat(65), b64('Message:0'), b64('Message:-1'), b64('Message:01'), b64('Message:1.5'),
    b64('Message:9999999999999999999'), b64('Message:999999999999999999'), b64('Message:1 '), b64('User:1'), b64('Flash:1'),
    b64('Flash:00000000-0000-0000-0000-000000000000'), b64('Message:'), b64('message:1'), `${b64('Message:1')}=`, b64('Message:1\u0000'),
    Buffer.from([0xff, 0xfe, 0x00]).toString('base64url'), b64('c:1'), '-_-_', 'TWVzc2FnZToxCg', b64(`Message:${r.int(1000)}`),
  ]);

/** Cursors: base64 junk, other formats, numbers past bigint, ids of another kind. */
export const weirdCursor = (r: Rng): string =>
  r.pick([
    '', 'x', '****', b64('c:'), b64('c:0'), b64('c:-1'), b64('c:abc'), b64('c:9223372036854775808'), b64('c:999999999999999999'),
    b64('c:1e3'), b64('c: 1'), b64('d:1'), b64('Message:1'), b64('ev1:0:0-0:0-0'), 'Yzox'.repeat(60), b64(`c:${r.int(10_000)}`),
    b64('c:1\u0000'), b64('c:١٢٣'),
  ]);

/**
 * JSON nested `depth` levels deep, as a marker string that `expandDeep` turns into the nested text
 * when the request is written: JSON.stringify overflows the stack on such values (about 4,400 levels).
 */
export const deepJson = (depth: number, objects: boolean): string => `__deep_${depth}_${objects ? 'o' : 'a'}__`;

/** `text` (JSON or a GraphQL document) with every deepJson marker, quotes included, replaced by the nested value. */
export function expandDeep(text: string, bareKeys = false): string {
  return text.replace(/"__deep_(\d+)_([ao])__"/g, (_m, d: string, kind: string) => {
    const depth = Number(d);
    if (kind === 'a') return `${'['.repeat(depth)}${']'.repeat(depth)}`;
    return `${(bareKeys ? '{a:' : '{"a":').repeat(depth)}1${'}'.repeat(depth)}`;
  });
}

/** JSON payloads: deep (past the known ~4,300-level failure, bounded), wide, past 16 KiB, with hostile keys. */
export function weirdJson(r: Rng): unknown {
  switch (r.int(7)) {
    case 0: return deepJson(r.pick([20, 200, 1_000, 4_000, 4_400, 6_000]), r.chance(0.5));
    case 1: return Array.from({ length: r.pick([100, 2_000, 5_000]) }, (_, i) => i);
    case 2: return { big: 'y'.repeat(r.pick([16_000, 16_384, 20_000])) };
    case 3: return JSON.parse('{"\\u0000":1,"__proto__":{"constructor":{"prototype":1}},"":[]}');
    case 4: return { s: weirdString(r) };
    case 5: return r.pick([null, true, 0, -1e308, 'str', []]);
    default: return Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, i]));
  }
}

/** Anything at all, for a value whose type the fuzzer pretends not to know. */
export function weirdValue(r: Rng): unknown {
  switch (r.int(9)) {
    case 0: return null;
    case 1: return weirdString(r);
    case 2: return weirdNumber(r);
    case 3: return r.chance(0.5);
    case 4: return [];
    case 5: return [weirdString(r), weirdNumber(r)];
    case 6: return { extra: weirdString(r) };
    case 7: return 'NOT_A_LEVEL';
    default: return weirdJson(r);
  }
}

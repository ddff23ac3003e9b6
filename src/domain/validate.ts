import { createHash } from 'node:crypto';
import { badInput } from './errors.js';

/** What one message may hold. Lengths count Unicode code points; `data` counts UTF-8 bytes of its JSON. */
export const LIMITS = {
  text: 10_000,
  extraTags: 255,
  url: 2_048,
  dataBytes: 16 * 1024,
  /**
   * Arrays and objects nested in `data`. Real payloads are a few levels deep; 64 leaves room for any of
   * them while keeping every recursive walk of it (ours, JSON.stringify, jsonb, Redis cjson's 1,000)
   * far from the stack's end, which 16 KiB of brackets (8,000 levels) would otherwise reach.
   */
  dataDepth: 64,
  userIds: 10_000,
  ids: 10_000,
  userId: 255,
  idempotencyKey: 255,
  pageSize: 100,
  defaultPageSize: 20,
  snoozeDays: 365,
  category: 64,
  groupKey: 255,
  scheduleDays: 365,
} as const;

export const codePoints = (s: string) => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

export function requireText(field: string, value: string, max: number): string {
  if (value.trim() === '') throw badInput(field, 'must not be empty');
  return maxLength(field, value, max);
}

// U+0000 and unpaired surrogates: no backend keeps them faithfully (PostgreSQL refuses U+0000 in text
// and jsonb, and turns lone surrogates into errors or U+FFFD), so they are refused at the edge.
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when the string holds no U+0000 and no unpaired surrogate. */
export const isStorableText = (s: string) => !UNSTORABLE.test(s);

export function maxLength(field: string, value: string, max: number): string {
  if (codePoints(value) > max) throw badInput(field, `must be at most ${max} characters`);
  if (!isStorableText(value)) throw badInput(field, 'must not contain U+0000 or unpaired surrogates');
  return value;
}

export function optionalText(field: string, value: string | null | undefined, max: number): string | null {
  if (value === null || value === undefined) return null;
  return maxLength(field, value, max);
}

export function httpUrl(field: string, value: string | null | undefined): string | null {
  if (value === null || value === undefined || value === '') return null;
  maxLength(field, value, LIMITS.url);
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw badInput(field, 'must be an absolute http(s) URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw badInput(field, 'must be an absolute http(s) URL');
  return value;
}

export function jsonData(field: string, value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (!withinDepth(value, LIMITS.dataDepth)) throw badInput(field, `must not nest arrays and objects more than ${LIMITS.dataDepth} levels deep`);
  const bytes = Buffer.byteLength(JSON.stringify(value), 'utf8');
  if (bytes > LIMITS.dataBytes) throw badInput(field, `must be at most ${LIMITS.dataBytes} bytes of JSON (got ${bytes})`);
  if (!storableJson(value)) throw badInput(field, 'must not contain U+0000 or unpaired surrogates');
  return value;
}

/** True when arrays and objects nest at most `max` levels; walked with a stack of its own, so any depth is safe to check. */
export function withinDepth(value: unknown, max: number): boolean {
  const pending: [unknown, number][] = [[value, 0]];
  while (pending.length) {
    const [v, depth] = pending.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth === max) return false;
    for (const child of Array.isArray(v) ? v : Object.values(v)) pending.push([child, depth + 1]);
  }
  return true;
}

function storableJson(value: unknown): boolean {
  if (typeof value === 'string') return isStorableText(value);
  if (Array.isArray(value)) return value.every(storableJson);
  if (value && typeof value === 'object') return Object.entries(value).every(([k, v]) => isStorableText(k) && storableJson(v));
  return true;
}

/** De-duplicates, keeping first-seen order. */
export function userIds(field: string, ids: readonly string[]): string[] {
  if (ids.length === 0) throw badInput(field, 'must list at least one user');
  const unique = [...new Set(ids)];
  if (unique.length > LIMITS.userIds) throw badInput(field, `must list at most ${LIMITS.userIds} users`);
  for (const id of unique) {
    if (id.trim() === '' || codePoints(id) > LIMITS.userId) throw badInput(field, `each user id must be 1 to ${LIMITS.userId} characters`);
    if (!isStorableText(id)) throw badInput(field, 'user ids must not contain U+0000 or unpaired surrogates');
  }
  return unique;
}

/** Message ids of one state-changing call (markRead, archive, snooze...): at most LIMITS.ids. */
export function messageIds(field: string, ids: readonly string[]): readonly string[] {
  if (ids.length > LIMITS.ids) throw badInput(field, `must list at most ${LIMITS.ids} ids`);
  return ids;
}

const CATEGORY = /^[a-z0-9._-]{1,64}$/;

/** A category (CONTRACT.md §9): 1 to 64 characters of a-z 0-9 . _ -, lower case. */
export function category(field: string, value: string): string {
  if (!CATEGORY.test(value)) throw badInput(field, `must be 1 to ${LIMITS.category} characters of a-z 0-9 . _ -`);
  return value;
}

export const optionalCategory = (field: string, value: string | null | undefined): string | null => (value === null || value === undefined ? null : category(field, value));

/** A group key: 1 to 255 characters (code points), storable. */
export function groupKey(field: string, value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  if (value.length === 0 || codePoints(value) > LIMITS.groupKey) throw badInput(field, `must be 1 to ${LIMITS.groupKey} characters`);
  if (!isStorableText(value)) throw badInput(field, 'must not contain U+0000 or unpaired surrogates');
  return value;
}

/** A scheduled delivery time: in the future, and at most LIMITS.scheduleDays ahead of `now`. */
export function deliverAt(field: string, at: Date, now: Date): Date {
  if (at.getTime() <= now.getTime()) throw badInput(field, 'must be in the future');
  if (at.getTime() > now.getTime() + LIMITS.scheduleDays * 86_400_000) throw badInput(field, `must be at most ${LIMITS.scheduleDays} days ahead`);
  return at;
}

/** A snooze's end: in the future, and at most LIMITS.snoozeDays ahead of `now`. */
export function snoozeUntil(field: string, until: Date, now: Date): Date {
  if (until.getTime() <= now.getTime()) throw badInput(field, 'must be in the future');
  if (until.getTime() > now.getTime() + LIMITS.snoozeDays * 86_400_000) throw badInput(field, `must be at most ${LIMITS.snoozeDays} days ahead`);
  return until;
}

export function pageSize(field: string, value: number | null | undefined): number {
  if (value === null || value === undefined) return LIMITS.defaultPageSize;
  if (!Number.isInteger(value) || value < 0 || value > LIMITS.pageSize) throw badInput(field, `must be between 0 and ${LIMITS.pageSize}`);
  return value;
}

/** A stable hash of a request, for idempotency: the same key with another fingerprint is refused. */
export function fingerprint(value: unknown): string {
  return createHash('sha256').update(stableJson(value)).digest('hex');
}

function stableJson(value: unknown): string {
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

import { describe, expect, it } from 'vitest';
import { decodeEventCursor, encodeEventCursor } from '../../src/realtime/cursor.js';
import type { LogEntry } from '../../src/realtime/log.js';
import { keptAfter, replayOrder } from '../../src/realtime/replay.js';

const NOW = 1_800_000_000_000;
const limits = { keep: 3, ttlSeconds: 60, now: NOW };
const entry = (id: string, prev: string): LogEntry => ({ id, prev, event: { signal: 'INBOX_PURGED', message: null, messageIds: [], until: null, category: null, unreadCount: 0, unseenCount: 0 } });
const at = (secondsAgo: number) => NOW - secondsAgo * 1000;
const id = (secondsAgo: number, seq = 0) => `${at(secondsAgo)}-${seq}`;

describe('whether what follows a cursor is still kept', () => {
  it('is when the first entry after the cursor names it as its predecessor', () => {
    expect(keptAfter({ entries: [entry(id(5), id(10))], last: id(5) }, id(10), at(10), limits)).toBe(true);
  });

  it('is not when entries in between were trimmed', () => {
    expect(keptAfter({ entries: [entry(id(5), id(7))], last: id(5) }, id(10), at(10), limits)).toBe(false);
  });

  it('is not when more entries follow than are kept', () => {
    const entries = [entry(id(4), id(10)), entry(id(3), id(4)), entry(id(2), id(3)), entry(id(1), id(2))];
    expect(keptAfter({ entries, last: id(1) }, id(10), at(10), limits)).toBe(false);
  });

  it('is not when what follows is older than the TTL', () => {
    expect(keptAfter({ entries: [entry(id(90), id(100))], last: id(90) }, id(100), at(100), limits)).toBe(false);
  });

  it('is when nothing follows and the log ends at the cursor', () => {
    expect(keptAfter({ entries: [], last: id(10) }, id(10), at(10), limits)).toBe(true);
  });

  it('is not when the log ends before the cursor (another incarnation of it)', () => {
    expect(keptAfter({ entries: [], last: id(20) }, id(10), at(10), limits)).toBe(false);
  });

  it('is, for a gone log, only when the cursor is younger than the TTL', () => {
    expect(keptAfter({ entries: [], last: null }, id(500), at(30), limits)).toBe(true);
    expect(keptAfter({ entries: [], last: null }, id(500), at(90), limits)).toBe(false);
  });

  it('is, for a log restarted after expiring, only when the cursor is younger than the TTL', () => {
    expect(keptAfter({ entries: [entry(id(5), '0-0')], last: id(5) }, id(500), at(30), limits)).toBe(true);
    expect(keptAfter({ entries: [entry(id(5), '0-0')], last: id(5) }, id(500), at(90), limits)).toBe(false);
  });
});

describe('replay order', () => {
  it('merges the user log and the broadcast log by time, broadcast first on a tie', () => {
    const user = [entry(id(9), '0-0'), entry(id(5), id(9)), entry(id(5, 1), id(5))];
    const broadcast = [entry(id(7), '0-0'), entry(id(5, 3), id(7))];
    expect(replayOrder(user, broadcast).map((e) => `${e.stream}:${e.entry.id}`)).toEqual([
      `user:${id(9)}`,
      `broadcast:${id(7)}`,
      `broadcast:${id(5, 3)}`,
      `user:${id(5)}`,
      `user:${id(5, 1)}`,
    ]);
  });
});

describe('event cursors', () => {
  it('round-trip', () => {
    const p = { user: '1800000000000-4', broadcast: '0-0', at: 1_800_000_000_123 };
    expect(decodeEventCursor('after', encodeEventCursor(p))).toEqual(p);
  });

  it.each(['', 'x', Buffer.from('ev1:1:2-0').toString('base64url'), Buffer.from('ev1:a:1-0:2-0').toString('base64url'), Buffer.from('c:1').toString('base64url')])(
    'refuses %j with BAD_USER_INPUT',
    (cursor) => {
      expect(() => decodeEventCursor('after', cursor)).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'after' }));
    },
  );
});

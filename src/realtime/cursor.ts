import { badInput } from '../domain/errors.js';
import { isLogId } from './log.js';

/**
 * Where a subscriber is in their event stream: the last entry seen in their own log (`user`) and in
 * the broadcast log (`broadcast`), plus `at`, the time (ms) up to which that position was known to
 * be complete. Along one subscription every event moves exactly one component forward, so the
 * cursors a client receives are totally ordered; replay after a cursor is "every user entry after
 * `user` and every broadcast entry after `broadcast`", which has no gap and no duplicate whatever
 * order the two logs were interleaved in live.
 */
export interface EventPosition {
  user: string;
  broadcast: string;
  at: number;
}

const PREFIX = 'ev1:';

/** Opaque to clients: base64url of "ev1:<at>:<user id>:<broadcast id>". */
export function encodeEventCursor(p: EventPosition): string {
  return Buffer.from(`${PREFIX}${p.at}:${p.user}:${p.broadcast}`, 'utf8').toString('base64url');
}

/** Parses `inboxEvents(after:)`; anything that is not a cursor this server made is BAD_USER_INPUT. */
export function decodeEventCursor(field: string, cursor: string | null | undefined): EventPosition | null {
  if (cursor === null || cursor === undefined) return null;
  const raw = /^[A-Za-z0-9_-]{1,200}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const parts = raw.startsWith(PREFIX) ? raw.slice(PREFIX.length).split(':') : [];
  if (parts.length !== 3 || !/^\d{1,15}$/.test(parts[0]) || !isLogId(parts[1]) || !isLogId(parts[2])) throw badInput(field, 'malformed cursor');
  return { at: Number(parts[0]), user: parts[1], broadcast: parts[2] };
}

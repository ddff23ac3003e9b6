import { createHash } from 'node:crypto';
import type { NewMessage } from '../../domain/message.js';
import type { RedisKeys } from './keys.js';

/**
 * A journalled send allocates its id in one step and delivers in others (send.ts), so two grouped
 * journalled sends with one group key could reach a shared recipient out of id order and count the
 * group out of order. So at most one journalled send per group key delivers at a time: begin-send.lua
 * takes the key's `{global}:group-sending:<sha1>` atomically with the id (answering 'busy' while
 * another send holds it; the caller waits a random pause and tries again) and finish-send.lua, once
 * every recipient has it, gives it back; per user, a group's journalled deliveries then follow their
 * ids. One key per send, not per recipient: its cost does not grow with the recipients, and sends with
 * other group keys never wait. It lapses after LOCK_MS: a send left midway by a process that died is
 * completed later by the journal, possibly out of that order.
 */
export const LOCK_MS = 10_000;
const MAX_PAUSE_MS = 50;

/** The group-sending key of a grouped message, '' when it has no group key. */
export function groupLock(keys: RedisKeys, message: NewMessage): string {
  return message.groupKey === null ? '' : keys.groupSending(createHash('sha1').update(message.groupKey).digest('hex'));
}

/** The random pause before trying a 'busy' begin again, growing with the attempts up to MAX_PAUSE_MS. */
export function groupPause(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(MAX_PAUSE_MS, 2 ** attempt)));
}

import { badInput } from './errors.js';
import { LEVELS, type LevelName } from './levels.js';
import type { NewMessage } from './message.js';
import * as v from './validate.js';

/** A message as callers give it: addMessage, addMessageFor, broadcastMessage, the library and the command line. */
export interface MessageInput {
  level: LevelName;
  text: string;
  extraTags?: string | null;
  url?: string | null;
  data?: unknown;
  /** The message's date (the seed's `date`); now when not given. */
  date?: Date | null;
  expiresAt?: Date | null;
  idempotencyKey?: string | null;
  /** CONTRACT.md §9: users who disabled it get nothing new in it unless `critical`. */
  category?: string | null;
  critical?: boolean | null;
  /** Not on broadcasts. */
  groupKey?: string | null;
  /** addMessageFor and broadcastMessage: deliver then instead of now. */
  deliverAt?: Date | null;
}

/** The last instant DateTime can write (year 9999): a derived expiry past it is capped, not an error. */
const LAST_INSTANT_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const DAY_MS = 86_400_000;

/**
 * Validates and normalises a message. `allowDate`: the caller may date it (producers); `deliverAt` (already
 * checked) is the moment it counts from; `messageExpireDays` (0: never) gives its expiry when it has none.
 */
export function newMessage(input: MessageInput, o: { allowDate: boolean; deliverAt: Date | null; messageExpireDays: number }): NewMessage {
  const level = LEVELS[input.level].value;
  const text = v.requireText('input.text', input.text, v.LIMITS.text);
  const extraTags = v.optionalText('input.extraTags', input.extraTags, v.LIMITS.extraTags) ?? '';
  const url = v.httpUrl('input.url', input.url);
  const data = v.jsonData('input.data', input.data);
  const category = v.optionalCategory('input.category', input.category);
  const groupKey = v.groupKey('input.groupKey', input.groupKey);
  const now = o.deliverAt ?? new Date();
  const createdAt = o.allowDate && input.date ? input.date : now;
  let expiresAt: Date | null;
  if (input.expiresAt) {
    if (input.expiresAt.getTime() <= now.getTime()) throw badInput('input.expiresAt', o.deliverAt ? 'must be after input.deliverAt' : 'is already past');
    expiresAt = input.expiresAt;
  } else if (o.messageExpireDays > 0) {
    expiresAt = new Date(Math.min(createdAt.getTime() + o.messageExpireDays * DAY_MS, LAST_INSTANT_MS));
    if (expiresAt.getTime() <= now.getTime()) throw badInput('input.date', `is more than ${o.messageExpireDays} days ago, so the message would already be expired`);
  } else {
    expiresAt = null;
  }
  return { level, text, extraTags, url, data, createdAt, expiresAt, category, critical: input.critical ?? false, groupKey };
}

/** A producer's send, checked whole before anything is stored: where it goes, when, and the message. */
export interface ProducedSend {
  /** addMessageFor's recipients (validated), or null for a broadcast. */
  userIds: string[] | null;
  deliverAt: Date | null;
  message: NewMessage;
}

/** Everything addMessageFor (with `userIds`) or broadcastMessage (without) refuses, without storage: the use cases and the command line check alike. */
export function producedSend(input: MessageInput & { userIds?: readonly string[] }, messageExpireDays: number): ProducedSend {
  const userIds = input.userIds ? v.userIds('input.userIds', input.userIds) : null;
  if (!userIds && input.groupKey !== null && input.groupKey !== undefined) throw badInput('input.groupKey', 'is not allowed on a broadcast');
  const deliverAt = input.deliverAt ? v.deliverAt('input.deliverAt', input.deliverAt, new Date()) : null;
  return { userIds, deliverAt, message: newMessage(input, { allowDate: true, deliverAt, messageExpireDays }) };
}

import type { MessageRecord } from './message.js';

/**
 * Flash messages: not persisted, kept per user until consumed, at most `max` per user (the oldest
 * is dropped past it), for at most `ttlSeconds`. The in-process store serves one process; the Redis
 * one lets several processes share them.
 */
export interface FlashStore {
  push(userId: string, message: MessageRecord): Promise<void>;
  /** The user's live flash messages, oldest first. */
  list(userId: string): Promise<MessageRecord[]>;
  /** Drops exactly these; returns the ids that were still there. */
  remove(userId: string, ids: readonly string[]): Promise<string[]>;
  /** Forgets expired messages (bounded by the number of users holding any). */
  sweep(): Promise<void>;
  close(): Promise<void>;
}

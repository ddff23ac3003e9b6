import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Signals } from '../domain/signals.js';
import { MemoryFlashStore, type FlashStore } from './flash.js';

export interface Realtime {
  flash: FlashStore;
  close(): Promise<void>;
}

/**
 * Live delivery: flash messages, and (live-delivery issue) pub/sub of signals to subscribers,
 * in-process without REDIS_URL, through Redis with it.
 */
export async function createRealtime(config: Config, o: { logger: Logger; signals: Signals }): Promise<Realtime> {
  void o;
  const flash = new MemoryFlashStore({ max: config.flashMax, ttlSeconds: config.flashTtlSeconds });
  return {
    flash,
    close: () => flash.close(),
  };
}

import type { FlashStore } from '../domain/flash-store.js';
import type { MessageRecord } from '../domain/message.js';

/** Flash messages for one process (see FlashStore). */
export class MemoryFlashStore implements FlashStore {
  private readonly byUser = new Map<string, { message: MessageRecord; expiresAt: number }[]>();

  constructor(private readonly opts: { max: number; ttlSeconds: number; now?: () => number }) {}

  private now() {
    return this.opts.now ? this.opts.now() : Date.now();
  }

  async push(userId: string, message: MessageRecord): Promise<void> {
    const list = this.live(userId);
    list.push({ message, expiresAt: this.now() + this.opts.ttlSeconds * 1000 });
    while (list.length > this.opts.max) list.shift();
    this.byUser.set(userId, list);
  }

  async list(userId: string): Promise<MessageRecord[]> {
    return this.live(userId).map((e) => e.message);
  }

  async remove(userId: string, ids: readonly string[]): Promise<string[]> {
    const drop = new Set(ids);
    const list = this.live(userId);
    const removed = list.filter((e) => drop.has(e.message.id)).map((e) => e.message.id);
    const kept = list.filter((e) => !drop.has(e.message.id));
    if (kept.length) this.byUser.set(userId, kept);
    else this.byUser.delete(userId);
    return removed;
  }

  async sweep(): Promise<void> {
    for (const userId of [...this.byUser.keys()]) {
      if (!this.live(userId).length) this.byUser.delete(userId);
    }
  }

  async close(): Promise<void> {
    this.byUser.clear();
  }

  private live(userId: string) {
    const now = this.now();
    const list = (this.byUser.get(userId) ?? []).filter((e) => e.expiresAt > now);
    if (list.length) this.byUser.set(userId, list);
    else this.byUser.delete(userId);
    return list;
  }
}

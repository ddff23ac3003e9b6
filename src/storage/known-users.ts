/** Users a process has already registered, bounded: past MAX it starts over rather than grow. */
const MAX = 100_000;

/**
 * A process-local cache in front of a store's user registration: `ensureUser` for a user seen before
 * costs nothing. Forgetting is always safe (registration is idempotent), so the cache simply restarts when full.
 */
export class KnownUsers {
  private readonly users = new Set<string>();

  has(userId: string): boolean {
    return this.users.has(userId);
  }

  add(userId: string): void {
    if (this.users.size >= MAX) this.users.clear();
    this.users.add(userId);
  }

  /** Registers users a send just created, while the cache has room (it never restarts for these). */
  addWhileRoom(userIds: Iterable<string>): void {
    for (const u of userIds) {
      if (this.users.size >= MAX) return;
      this.users.add(u);
    }
  }
}

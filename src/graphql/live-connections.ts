/**
 * Open live connections (WebSockets and SSE streams) per user in this process, against a ceiling
 * (MAX_LIVE_CONNECTIONS_PER_USER). Per process: a user spread over N instances may hold N times the
 * ceiling; a count shared through Redis would need leases to survive a crashed instance.
 */
export class LiveConnections {
  private readonly open = new Map<string, number>();

  constructor(readonly max: number) {}

  /** Counts one more connection of `userId` and answers true, or answers false (and counts nothing) at the ceiling. */
  tryOpen(userId: string): boolean {
    const n = this.open.get(userId) ?? 0;
    if (n >= this.max) return false;
    this.open.set(userId, n + 1);
    return true;
  }

  /** A connection counted by tryOpen has ended. */
  close(userId: string): void {
    const n = (this.open.get(userId) ?? 0) - 1;
    if (n > 0) this.open.set(userId, n);
    else this.open.delete(userId);
  }

  /** Connections of `userId` counted now. */
  of(userId: string): number {
    return this.open.get(userId) ?? 0;
  }
}

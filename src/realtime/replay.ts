import { compareIds, idTime, LOG_START, type LogEntry, type LogRead, type Stream } from './log.js';

/**
 * Whether every entry after `after` in a log is still kept (then replay is exact; otherwise RESYNC).
 * - The first entry after `after` must name `after` as its predecessor: otherwise entries in
 *   between were trimmed (EVENTS_KEEP) or lost.
 * - Nothing to replay may be older than the TTL (EVENTS_TTL_SECONDS).
 * - `at`, the time up to which the cursor's position was complete, covers logs that are gone or
 *   restarted (a Redis key expires TTL seconds after its last append): if `at` is younger than the
 *   TTL, an append after `at` would have kept the log alive until now, so nothing was lost.
 */
export function keptAfter(read: LogRead, after: string, at: number, o: { keep: number; ttlSeconds: number; now: number }): boolean {
  const minAt = o.now - o.ttlSeconds * 1000;
  const first = read.entries[0];
  if (read.entries.length > o.keep) return false;
  if (first) {
    if (idTime(first.id) < minAt) return false;
    return first.prev === after || (first.prev === LOG_START && at >= minAt);
  }
  if (read.last === null) return at >= minAt;
  return read.last === after;
}

/**
 * The user's own entries and the broadcast entries merged into one order by the time they were
 * appended (broadcast first on a tie). Cursors stay exact whatever the interleaving: each component
 * only moves forward along its own log.
 */
export function replayOrder(user: LogEntry[], broadcast: LogEntry[]): { stream: Stream; entry: LogEntry }[] {
  return [
    ...user.map((entry) => ({ stream: 'user' as const, entry })),
    ...broadcast.map((entry) => ({ stream: 'broadcast' as const, entry })),
  ].sort((a, b) => idTime(a.entry.id) - idTime(b.entry.id) || (a.stream === b.stream ? compareIds(a.entry.id, b.entry.id) : a.stream === 'broadcast' ? -1 : 1));
}

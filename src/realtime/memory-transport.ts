import type { MessageRecord } from '../domain/message.js';
import { compareIds, LOG_START, type EventTransport, type LogEntry, type LoggedEvent, type LogRead, type Stream, type UserEvents, type Wire, type WireTarget } from './log.js';

interface Log {
  entries: LogEntry[];
  last: string;
  lastAppendAt: number;
}

export interface LogLimits {
  /** Entries kept per log (EVENTS_KEEP). */
  keep: number;
  /** Entries older than this are dropped, and a log with no append for this long is forgotten (EVENTS_TTL_SECONDS). */
  ttlSeconds: number;
}

const SWEEP_MS = 60_000;

/**
 * The in-process transport (no REDIS_URL): logs in memory, delivery by a direct call. It behaves
 * like the Redis one, including "a log nobody wrote to for ttlSeconds is gone", so replay and
 * RESYNC work the same in both.
 */
export class MemoryTransport implements EventTransport {
  private readonly logs = new Map<string, Log>();
  private lastMs = 0;
  private seq = 0;
  private handler: (target: WireTarget, wire: Wire) => void = () => {};
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly limits: LogLimits) {
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  /** Everything happens synchronously, so any number of users is one step. */
  readonly userBatch = Number.MAX_SAFE_INTEGER;

  async appendUsers(users: UserEvents[]): Promise<void> {
    for (const { userId, events } of users) {
      for (const entry of this.append(`u:${userId}`, events)) this.handler({ userId }, { kind: 'entry', stream: 'user', entry });
    }
  }

  async appendBroadcast(events: LoggedEvent[]): Promise<void> {
    for (const entry of this.append('b', events)) this.handler('broadcast', { kind: 'entry', stream: 'broadcast', entry });
  }

  async publishFlash(userId: string, message: MessageRecord): Promise<void> {
    this.handler({ userId }, { kind: 'flash', message });
  }

  async read(stream: Stream, userId: string, after: string, limit: number): Promise<LogRead> {
    const log = this.live(stream === 'user' ? `u:${userId}` : 'b');
    if (!log) return { entries: [], last: null };
    return { entries: log.entries.filter((e) => compareIds(e.id, after) > 0).slice(0, limit), last: log.last };
  }

  async heads(userId: string): Promise<{ user: string; broadcast: string }> {
    return { user: this.live(`u:${userId}`)?.last ?? LOG_START, broadcast: this.live('b')?.last ?? LOG_START };
  }

  async subscribeUser(): Promise<void> {}
  async unsubscribeUser(): Promise<void> {}

  onWire(handler: (target: WireTarget, wire: Wire) => void): void {
    this.handler = handler;
  }

  onResume(): void {}

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.logs.clear();
  }

  private append(key: string, events: LoggedEvent[]): LogEntry[] {
    const now = Date.now();
    const log = this.live(key) ?? { entries: [], last: LOG_START, lastAppendAt: now };
    const added = events.map((event) => {
      const entry = { id: this.nextId(now), prev: log.last, event };
      log.entries.push(entry);
      log.last = entry.id;
      return entry;
    });
    log.lastAppendAt = now;
    const minMs = now - this.limits.ttlSeconds * 1000;
    let drop = Math.max(0, log.entries.length - this.limits.keep);
    while (drop < log.entries.length && Number(log.entries[drop].id.split('-')[0]) < minMs) drop++;
    if (drop) log.entries.splice(0, drop);
    this.logs.set(key, log);
    return added;
  }

  /** The log, unless nobody appended to it for ttlSeconds (then it is gone, as an expired Redis key). */
  private live(key: string): Log | undefined {
    const log = this.logs.get(key);
    if (log && Date.now() - log.lastAppendAt > this.limits.ttlSeconds * 1000) {
      this.logs.delete(key);
      return undefined;
    }
    return log;
  }

  private nextId(now: number): string {
    if (now > this.lastMs) {
      this.lastMs = now;
      this.seq = 0;
    } else {
      this.seq++;
    }
    return `${this.lastMs}-${this.seq}`;
  }

  private sweep() {
    for (const key of [...this.logs.keys()]) this.live(key);
  }
}

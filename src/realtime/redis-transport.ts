import type { Logger } from 'pino';
import { reviveMessage, type MessageRecord } from '../domain/message.js';
import { LOG_START, type EventTransport, type LogEntry, type LoggedEvent, type LogRead, type Stream, type UserEvents, type Wire, type WireTarget } from './log.js';
import type { LogLimits } from './memory-transport.js';
import { LuaScripts } from '../redis/scripts.js';
import { LUA_DIR, redisNames, type RedisClient } from './redis.js';

const FLASH_WIRE = 'f|';

/** Users per append-user-events.lua call: a script blocks Redis while it runs. */
export const USER_BATCH = 250;

type StreamReply = [id: string, fields: string[]][];

/**
 * The transport when REDIS_URL is set: per-user logs and one broadcast log as Redis streams,
 * delivery by Redis pub/sub on per-user channels (a process subscribes only to the users it serves)
 * plus one broadcast channel. `commands` must not be in subscriber mode; `subscriber` is used for
 * nothing else. Every call is awaited by the caller; failures reject (the hub logs them).
 */
export class RedisTransport implements EventTransport {
  /** Users per appendUsers call: a batch on a single server; one at a time on a cluster (a script stays in one slot). */
  readonly userBatch: number;
  private readonly names;
  private readonly scripts;
  private handler: (target: WireTarget, wire: Wire) => void = () => {};
  private resumeHandler: () => void = () => {};
  private disconnected = false;
  private closed = false;

  constructor(
    private readonly commands: RedisClient,
    private readonly subscriber: RedisClient,
    private readonly o: { prefix: string; limits: LogLimits; logger: Logger; cluster: boolean },
  ) {
    this.names = redisNames(o.prefix);
    this.userBatch = o.cluster ? 1 : USER_BATCH;
    this.scripts = new LuaScripts(commands, 'live', {
      dir: LUA_DIR,
      scripts: { append: 'append-events.lua', appendUsers: 'append-user-events.lua', publishFromSlot: 'publish-from-slot.lua' },
    });
    subscriber.on('message', (channel: string, message: string) => this.dispatch(channel, message));
    subscriber.on('close', () => {
      this.disconnected = true;
    });
    subscriber.on('ready', () => {
      if (!this.disconnected || this.closed) return;
      this.disconnected = false;
      // ioredis has re-sent SUBSCRIBE for every channel; once a PING comes back they are active again.
      subscriber.ping().then(
        () => this.resumeHandler(),
        (err) => o.logger.warn({ err }, 'redis subscriber ping after reconnect failed'),
      );
    });
  }

  /** Subscribes to the broadcast channel; call once before use. */
  async start(): Promise<void> {
    await this.subscriber.subscribe(this.names.broadcastChannel);
  }

  async appendUsers(users: UserEvents[]): Promise<void> {
    if (this.o.cluster || users.length === 1) {
      await Promise.all(users.map(({ userId, events }) => this.append({ log: this.names.userLog(userId), channel: this.names.userChannel(userId), events })));
      return;
    }
    // Events with the same signal, message and ids (objects, by identity), cut-off and category share one template.
    const objects = new Map<object, number>();
    const objectId = (o: object | null) => {
      if (o === null) return 0;
      let i = objects.get(o);
      if (i === undefined) objects.set(o, (i = objects.size + 1));
      return i;
    };
    const templates = new Map<string, number>();
    const shared: string[] = [];
    const perUser: (string | number)[] = [];
    for (const { userId, events } of users) {
      perUser.push(userId, events.length);
      for (const e of events) {
        const key = `${e.signal}|${objectId(e.message)}|${objectId(e.messageIds)}|${JSON.stringify([e.until, e.category])}`;
        let t = templates.get(key);
        if (t === undefined) {
          shared.push(eventTemplate(e));
          templates.set(key, (t = shared.length));
        }
        perUser.push(t, JSON.stringify(e.unreadCount), JSON.stringify(e.unseenCount));
      }
    }
    await this.scripts.run(
      'appendUsers',
      users.map((u) => this.names.userLog(u.userId)),
      [this.names.userChannelPrefix, ...this.logArgs(), shared.length, ...shared, ...perUser],
    );
  }

  async appendBroadcast(events: LoggedEvent[]): Promise<void> {
    await this.append({ log: this.names.broadcastLog, channel: this.names.broadcastChannel, events });
  }

  async publishFlash(userId: string, message: MessageRecord): Promise<void> {
    await this.scripts.run('publishFromSlot', [this.names.userLog(userId)], [this.names.userChannel(userId), FLASH_WIRE + JSON.stringify(message)]);
  }

  async read(stream: Stream, userId: string, after: string, limit: number): Promise<LogRead> {
    const key = stream === 'user' ? this.names.userLog(userId) : this.names.broadcastLog;
    const results = await this.commands
      .multi()
      .xrange(key, `(${after}`, '+', 'COUNT', Math.max(limit, 1))
      .xrevrange(key, '+', '-', 'COUNT', 1)
      .exec();
    if (!results) throw new Error('redis transaction aborted');
    for (const [err] of results) if (err) throw err;
    const entries = (results[0][1] as StreamReply).slice(0, limit).map(toEntry);
    const last = (results[1][1] as StreamReply)[0]?.[0] ?? null;
    return { entries, last };
  }

  async heads(userId: string): Promise<{ user: string; broadcast: string }> {
    const [user, broadcast] = await Promise.all([
      this.commands.xrevrange(this.names.userLog(userId), '+', '-', 'COUNT', 1),
      this.commands.xrevrange(this.names.broadcastLog, '+', '-', 'COUNT', 1),
    ]);
    return { user: user[0]?.[0] ?? LOG_START, broadcast: broadcast[0]?.[0] ?? LOG_START };
  }

  async subscribeUser(userId: string): Promise<void> {
    await this.subscriber.subscribe(this.names.userChannel(userId));
  }

  async unsubscribeUser(userId: string): Promise<void> {
    if (this.closed) return;
    await this.subscriber.unsubscribe(this.names.userChannel(userId));
  }

  onWire(handler: (target: WireTarget, wire: Wire) => void): void {
    this.handler = handler;
  }

  onResume(handler: () => void): void {
    this.resumeHandler = handler;
  }

  async ping(): Promise<void> {
    await Promise.all([this.commands.ping(), this.subscriber.ping()]);
  }

  /** Marks the transport closed; the connections are closed by their owner (createRealtime). */
  async close(): Promise<void> {
    this.closed = true;
  }

  /** append-events.lua: events appended to one log and published on one channel. */
  private async append(o: { log: string; channel: string; events: readonly LoggedEvent[] }): Promise<void> {
    await this.scripts.run('append', [o.log], [o.channel, ...this.logArgs(), ...o.events.map(eventJson)]);
  }

  private logArgs() {
    return [Math.max(this.o.limits.keep, 1), this.o.limits.ttlSeconds];
  }

  private dispatch(channel: string, message: string) {
    try {
      const target: WireTarget =
        channel === this.names.broadcastChannel ? 'broadcast' : { userId: channel.slice(this.names.userChannelPrefix.length) };
      if (message.startsWith(FLASH_WIRE)) {
        if (target === 'broadcast') return;
        this.handler(target, { kind: 'flash', message: reviveMessage(JSON.parse(message.slice(FLASH_WIRE.length))) });
        return;
      }
      const first = message.indexOf('|');
      const second = message.indexOf('|', first + 1);
      const entry: LogEntry = { id: message.slice(0, first), prev: message.slice(first + 1, second), event: reviveEvent(message.slice(second + 1)) };
      this.handler(target, { kind: 'entry', stream: target === 'broadcast' ? 'broadcast' : 'user', entry });
    } catch (err) {
      this.o.logger.error({ err, channel }, 'malformed live-event message ignored');
    }
  }
}

function toEntry([id, fields]: [string, string[]]): LogEntry {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]] = fields[i + 1];
  return { id, prev: f.prev ?? LOG_START, event: reviveEvent(f.event ?? 'null') };
}

/** An entry's event; one logged before inbox states has no cut-off, category or unseen count. */
function reviveEvent(json: string): LoggedEvent {
  const raw = JSON.parse(json) as Partial<LoggedEvent> & Pick<LoggedEvent, 'signal' | 'messageIds' | 'unreadCount'>;
  return {
    signal: raw.signal,
    message: raw.message ? reviveMessage(raw.message as never) : null,
    messageIds: raw.messageIds,
    until: raw.until ? new Date(raw.until) : null,
    category: raw.category ?? null,
    unreadCount: raw.unreadCount,
    unseenCount: raw.unseenCount ?? null,
  };
}

/**
 * JSON.stringify(event), with the parts a send shares among all its recipients (the message, the ids)
 * serialised once: a send to 10,000 users appends 20,000 events that differ only in signal and count.
 */
const shared = new WeakMap<object, string>();
const once = (value: object) => {
  let json = shared.get(value);
  if (json === undefined) shared.set(value, (json = JSON.stringify(value)));
  return json;
};
function eventJson(e: LoggedEvent): string {
  return `${eventTemplate(e)}${JSON.stringify(e.unreadCount)},"unseenCount":${JSON.stringify(e.unseenCount)}}`;
}

/** eventJson up to the unread count (append-user-events.lua completes it with both counts). */
function eventTemplate(e: LoggedEvent): string {
  const { signal, message, messageIds, until, category } = e;
  return `{"signal":${JSON.stringify(signal)},"message":${message === null ? 'null' : once(message)},"messageIds":${once(messageIds)},"until":${JSON.stringify(until)},"category":${JSON.stringify(category)},"unreadCount":`;
}

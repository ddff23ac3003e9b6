import path from 'node:path';
import { ConfigError, type Config } from './config.js';
import { DataDirInUse } from './storage/data-dir-lock.js';
import { RedisUnavailableError } from './redis/connection.js';

/**
 * Turns a failure to start (serve or migrate) into one or two lines that name the setting to fix,
 * instead of a driver's stack trace. Failures it does not recognise keep their stack: they are bugs
 * or surprises, and the stack is what helps then.
 */
export function describeStartupFailure(err: unknown, config: Config | null): { lines: string[]; known: boolean } {
  if (err instanceof ConfigError) return { lines: [err.message], known: true };
  const lines = config ? classify(err, config) : null;
  if (lines) return { lines, known: true };
  return { lines: [`stored-messages could not start: ${err instanceof Error ? err.message : String(err)}`], known: false };
}

/** Prints the failure on stderr (with the stack when LOG_LEVEL is debug or trace, or when unrecognised). */
export function reportStartupFailure(err: unknown, config: Config | null): void {
  const { lines, known } = describeStartupFailure(err, config);
  console.error(lines.join('\n'));
  const debug = config?.logLevel === 'debug' || config?.logLevel === 'trace';
  // The whole error as Node shows it: its stack, its cause's, and fields such as code and syscall.
  if (debug || !known) console.error(err);
}

/** The HTTP server could not listen (EADDRINUSE, EACCES, a HOST that is not ours): about PORT/HOST, whatever the syscall. */
export class ListenError extends Error {
  override readonly name = 'ListenError';
  constructor(cause: Error) {
    super(cause.message, { cause });
  }
}

type ErrnoLike = Error & { code?: string; syscall?: string; path?: string; address?: string; port?: number };

/** Node's errno codes as the words a person would use. */
const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'connection reset',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOTDIR: 'a part of the path is a file, not a directory',
  ENOSPC: 'no space left on device',
  EEXIST: 'a file is in the way of a directory',
};

function classify(err: unknown, config: Config): string[] | null {
  if (err instanceof RedisUnavailableError) return redisLines(err, config);
  const e = err as ErrnoLike;
  if (!(err instanceof Error)) return null;
  if (err instanceof ListenError) return listenLines(err.cause as ErrnoLike, config);
  if (err instanceof DataDirInUse) {
    return [
      `DATA_DIR: the embedded database in ${path.resolve(config.dataDir)} is in use by another process.`,
      'Stop that process first (it serves one at a time), set DATA_DIR to another directory, or set DATABASE_URL to share PostgreSQL.',
    ];
  }
  if (e.path && (isUnder(e.path, config.dataDir) || isUnder(config.dataDir, e.path)) && e.code && REASONS[e.code]) {
    return [
      `DATA_DIR: cannot write to ${path.resolve(e.path)} (${REASONS[e.code]}).`,
      'Set DATA_DIR to a writable directory (the embedded database keeps its files there), or set DATABASE_URL to use PostgreSQL.',
    ];
  }
  if (config.databaseUrl && config.storageBackend === 'orm') return databaseLines(e, config.databaseUrl);
  return null;
}

function databaseLines(e: ErrnoLike, databaseUrl: string): string[] | null {
  const url = new URL(databaseUrl);
  const at = `${url.hostname}:${url.port || '5432'}`;
  const database = decodeURIComponent(url.pathname.slice(1)) || decodeURIComponent(url.username) || 'postgres';
  const user = decodeURIComponent(url.username) || 'the default user';
  switch (e.code) {
    case '3D000':
      return [`DATABASE_URL: database "${database}" does not exist on ${at}.`, `Create it (createdb -h ${url.hostname} -p ${url.port || '5432'} ${database}) or name an existing database in DATABASE_URL.`];
    case '28000':
    case '28P01':
      return [`DATABASE_URL: PostgreSQL at ${at} refused the login of ${user} (${e.message}).`, 'Check the user name and password in DATABASE_URL (postgres://USER:PASSWORD@HOST:PORT/DATABASE).'];
  }
  if (e.code && REASONS[e.code]) {
    return [`DATABASE_URL: cannot reach PostgreSQL at ${at} (${REASONS[e.code]}).`, 'Is the server running, and are the host and port in DATABASE_URL right?'];
  }
  // Something answered that is not a PostgreSQL server talking to us (another service, a proxy, an SSL mismatch).
  if (/Connection terminated|Timeout acquiring a connection|^timeout expired$/.test(e.message)) {
    const reason = /timeout/i.test(e.message) ? 'no answer in time' : 'the connection was closed';
    return [`DATABASE_URL: no usable answer from PostgreSQL at ${at} (${reason}).`, 'Is PostgreSQL itself listening at that host and port, and does sslmode in DATABASE_URL match the server?'];
  }
  return null;
}

function redisLines(err: RedisUnavailableError, config: Config): string[] {
  const cause = err.cause as ErrnoLike | undefined;
  const reason = (cause?.code && REASONS[cause.code]) || cause?.message || err.reason;
  const setting = config.redisClusterNodes && !config.redisUrl ? 'REDIS_CLUSTER_NODES' : 'REDIS_URL';
  const role =
    config.storageBackend === 'redis'
      ? 'STORAGE_BACKEND=redis keeps the messages there'
      : `live events and flash messages go through it; unset ${setting} to keep them in this process`;
  return [`${setting}: cannot reach Redis at ${err.target} (${reason}).`, `Is Redis running, and is ${setting} right? (${role})`];
}

function listenLines(e: ErrnoLike, config: Config): string[] | null {
  const where = `${config.host}:${config.port}`;
  switch (e.code) {
    case 'EADDRINUSE':
      return [`PORT: ${where} is already in use by another process.`, `Stop that process, or choose another port (PORT=${config.port === 4000 ? 4001 : 4000}).`];
    case 'EACCES':
      return [`PORT: not allowed to listen on ${where} (ports below 1024 need privileges).`, 'Choose a PORT above 1023.'];
    case 'EADDRNOTAVAIL':
      return [`HOST: cannot listen on ${config.host} (not an address of this machine).`, 'Set HOST to 0.0.0.0 (every interface) or 127.0.0.1 (this machine only).'];
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return [`HOST: cannot listen on ${config.host} (host name not found).`, 'Set HOST to 0.0.0.0 (every interface) or 127.0.0.1 (this machine only).'];
  }
  return null;
}

function isUnder(file: string, dir: string): boolean {
  const relative = path.relative(path.resolve(dir), path.resolve(file));
  return !relative.startsWith('..') && !path.isAbsolute(relative);
}

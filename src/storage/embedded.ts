import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Duplex } from 'node:stream';
import { PGlite } from '@electric-sql/pglite';
import { lockDataDir } from './data-dir-lock.js';

export interface EmbeddedDatabase {
  /** A postgres:// URL for MikroORM's configuration; the connection itself goes through `stream`. */
  url: string;
  /** node-postgres's `stream` option: a new in-process connection to the PGlite session (one at a time). */
  stream: () => Duplex;
  close(): Promise<void>;
}

/**
 * The embedded default: PGlite (PostgreSQL compiled to WASM) keeping its files under `dataDir`,
 * reached by MikroORM with the same driver (node-postgres), SQL and migrations as production
 * PostgreSQL, through an in-process wire instead of a socket. `dataDir: null` keeps it in memory (tests).
 */
export async function startEmbeddedDatabase(dataDir: string | null): Promise<EmbeddedDatabase> {
  let db: PGlite;
  let unlock = async () => {};
  if (dataDir) {
    const dir = path.resolve(dataDir, 'pglite');
    await mkdir(dir, { recursive: true });
    unlock = await lockDataDir(dir, (err) => process.emitWarning(`the lock on ${dir} was lost: ${err.message}`));
    try {
      db = await PGlite.create(dir);
    } catch (err) {
      await unlock();
      throw err;
    }
  } else {
    db = await PGlite.create();
  }
  return {
    url: 'postgres://postgres@pglite/postgres?sslmode=disable',
    stream: () => new PGliteWire(db),
    close: async () => {
      try {
        await db.close();
      } finally {
        await unlock();
      }
    },
  };
}

/**
 * node-postgres's socket, answered by PGlite in this process: the protocol messages the client writes
 * in one turn of the event loop (Parse, Bind, Describe, Execute, Sync of a query) go to PGlite as one
 * call, and its answer comes back as the socket's data.
 *
 * It replaced a loopback TCP socket to pglite-socket's server, which handled each message on its own
 * (a queue entry, a lock, a WASM call and a socket write each) and cost the unread count over HTTP
 * ~410 µs of the server's thread per request.
 *
 * PGlite is one session: a new connection starts with no transaction open and no prepared
 * statement left from an earlier one (a new client prepares its statements again under the same names).
 */
class PGliteWire extends Duplex {
  private pending: Buffer[] = [];
  private flushing = false;
  private started = false;

  constructor(private readonly db: PGlite) {
    super();
  }

  // The parts of net.Socket that node-postgres calls.
  connect(): this {
    // exec() takes PGlite's query lock itself (runExclusive around it would wait for itself).
    void this.db
      .exec(`${this.db.isInTransaction() ? 'rollback; ' : ''}deallocate all`)
      .then(
        () => this.emit('connect'),
        (err: unknown) => this.destroy(err as Error),
      );
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.pending.push(chunk);
    if (!this.flushing) {
      this.flushing = true;
      // After the pending I/O, as a socket's answer would come, not in a microtask: answered at once, the
      // store's group commit never saw a second send waiting (a batch per send) and HTTP requests waited
      // behind the database: W1 fell from ~3,600 to ~1,250 msg/s (server CPU 275 -> 796 µs per send).
      setImmediate(() => void this.flush());
    }
    done();
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.length) {
        const input = Buffer.concat(this.pending.splice(0));
        // The startup packet (no type byte: it begins with its length's zero high byte) goes alone, as PGlite expects.
        const parts = !this.started ? [input.subarray(0, input.readInt32BE(0)), input.subarray(input.readInt32BE(0))] : [input];
        this.started = true;
        for (const part of parts) {
          if (!part.length) continue;
          // The streaming call hands the answer over as it is written; execProtocolRaw would also parse
          // it into results that nothing reads (and that pile up until PGlite's next exec()).
          const out: Buffer[] = [];
          await this.db.runExclusive(() => this.db.execProtocolRawStream(part, { onRawData: (data) => void out.push(Buffer.from(data)) }));
          if (out.length) this.push(out.length === 1 ? out[0] : Buffer.concat(out));
        }
      }
    } catch (err) {
      this.destroy(err as Error);
    } finally {
      this.flushing = false;
    }
  }

  override _final(done: (err?: Error | null) => void): void {
    this.push(null);
    done();
  }
}

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Duplex } from 'node:stream';
import { PGlite } from '@electric-sql/pglite';
import { lockDataDir } from './data-dir-lock.js';

export interface EmbeddedDatabase {
  /** A postgres:// URL for MikroORM's configuration; the connection itself goes through a stream. */
  url: string;
  /** node-postgres's `stream` option for a pool that never names statements (MikroORM's). */
  stream: () => Duplex;
  /**
   * The same for the one pool that names prepared statements (the store's, one connection at a time):
   * each of its connections starts by dropping the statements an earlier one prepared, since a new
   * client prepares its own again under the same names.
   */
  preparingStream: () => Duplex;
  close(): Promise<void>;
}

/**
 * The embedded default: PGlite (PostgreSQL compiled to WASM) keeping its files under `dataDir`,
 * reached with the same driver (node-postgres), SQL and migrations as production PostgreSQL, through
 * an in-process wire instead of a socket. `dataDir: null` keeps it in memory (tests).
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
  const session = new Session(db);
  return {
    url: 'postgres://postgres@pglite/postgres?sslmode=disable',
    stream: () => new PGliteWire(session, false),
    preparingStream: () => new PGliteWire(session, true),
    close: async () => {
      try {
        await db.close();
      } finally {
        await unlock();
      }
    },
  };
}

/** A simple-protocol Query message. */
function queryMessage(sql: string): Buffer {
  const text = Buffer.from(`${sql}\0`);
  const head = Buffer.alloc(5);
  head.write('Q');
  head.writeInt32BE(4 + text.length, 1);
  return Buffer.concat([head, text]);
}

/**
 * PGlite is ONE database session shared by every connection. While a connection's transaction is open,
 * the session is that connection's: the others' messages wait, so none runs inside a transaction it
 * did not begin, nor sees or ends it.
 */
class Session {
  private owner: PGliteWire | null = null;
  private waiting: (() => void)[] = [];

  constructor(private readonly db: PGlite) {}

  /** Runs protocol messages of `wire` (streaming the answer to `onData`) once no other wire's transaction is open. */
  async run(wire: PGliteWire, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<void> {
    for (;;) {
      // The check and the run share PGlite's lock, so no other wire can begin a transaction in between.
      const ran = await this.db.runExclusive(async () => {
        if (this.owner && this.owner !== wire) return false;
        // The streaming call hands the answer over as it is written; execProtocolRaw would also parse it
        // into results that nothing reads.
        await this.db.execProtocolRawStream(message, { onRawData: onData });
        this.owner = this.db.isInTransaction() ? wire : null;
        return true;
      });
      if (ran) break;
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    if (!this.owner) for (const wake of this.waiting.splice(0)) wake();
  }

  /** A new connection: no transaction left open, and (`deallocate`) none of the statements an earlier one prepared. */
  async open(wire: PGliteWire, deallocate: boolean): Promise<void> {
    const statements = [this.db.isInTransaction() && !this.owner ? 'rollback' : null, deallocate ? 'deallocate all' : null].filter(Boolean);
    if (statements.length) await this.run(wire, queryMessage(statements.join('; ')), () => undefined);
  }

  /** A connection that goes: its open transaction is rolled back, as a server does for a dropped connection. */
  async leave(wire: PGliteWire): Promise<void> {
    if (this.owner === wire) await this.run(wire, queryMessage('rollback'), () => undefined);
  }
}

/**
 * node-postgres's socket, answered by PGlite in this process: the protocol messages the client writes
 * in one turn of the event loop (Parse, Bind, Describe, Execute, Sync of a query) go to PGlite as one
 * call, and its answer comes back as the socket's data.
 */
class PGliteWire extends Duplex {
  private pending: Buffer[] = [];
  private flushing = false;
  private started = false;

  constructor(
    private readonly session: Session,
    private readonly deallocate: boolean,
  ) {
    super();
  }

  // The parts of net.Socket that node-postgres calls.
  connect(): this {
    this.session.open(this, this.deallocate).then(
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
      // store's group commit would never see a second send waiting, and HTTP requests would wait behind the database.
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
          const out: Buffer[] = [];
          await this.session.run(this, part, (data) => void out.push(Buffer.from(data)));
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
    this.session.leave(this).then(
      () => {
        this.push(null);
        done();
      },
      (err: unknown) => done(err as Error),
    );
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.session.leave(this).then(
      () => done(err),
      () => done(err),
    );
  }
}

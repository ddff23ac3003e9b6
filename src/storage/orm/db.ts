import pg from 'pg';
import type { Logger } from 'pino';
import type { EmbeddedDatabase } from '../embedded.js';
import { connectionSettings, rawDateTypes } from './connection.js';
import { framed } from './framed.js';
import { bind, type NoParams, type Statement } from './statement.js';

/**
 * Runs one statement with its named inputs and returns its rows. A pipelined transaction's (Db.tx with
 * `prepare`) also has `atCommit`: a write whose rows nobody reads, sent with the COMMIT in one round trip.
 */
export type Sql = (<P, R>(statement: Statement<P, R>, ...params: NoParams extends P ? [P?] : [P]) => Promise<R[]>) & {
  atCommit?: <P>(statement: Statement<P, unknown>, params: P) => void;
};

const RETRYABLE = new Set(['40P01', '40001']); // deadlock detected, serialization failure
const ATTEMPTS = 5;
/** Distinct statements prepared by name at most (all are constants: a bound that is never reached, kept as a guard). */
const MAX_PREPARED = 200;
/** How long a statement waits for a pooled connection (a new connection's own timeout is connection.ts's). */
const ACQUIRE_TIMEOUT_MS = 60_000;
/** An idle connection closes after this (one stays open when the pool has one at most). */
const IDLE_TIMEOUT_MS = 30_000;

export interface DbOptions {
  /** Connections at most (1 for the embedded database, which is one session). */
  max: number;
  logger?: Logger;
}

/**
 * The store's own node-postgres pool for its statements (MikroORM keeps its pool for migrations, the
 * schema and the EntityManager). Outside transactions each statement runs as a named prepared statement
 * (parsed once per connection); a statement PostgreSQL aborts to break a deadlock (concurrent
 * multi-recipient sends can lock users in different orders) runs again, a bounded number of times.
 */
export class Db {
  /** Sees every statement sent, as sent (`$n`), with its values (bench/explain.ts records them). */
  onStatement?: (text: string, values: readonly unknown[]) => void;
  private readonly pool: pg.Pool;
  private readonly names = new Map<Statement<unknown, unknown>, string | undefined>();

  constructor(database: string | EmbeddedDatabase, o: DbOptions) {
    const settings = connectionSettings(database);
    const connectTimeout = settings.connectionTimeoutMillis;
    // The pool's timeout bounds the wait for a connection; the connection's own attempt gets connection.ts's.
    class Client extends pg.Client {
      constructor(config: pg.ClientConfig) {
        super({ ...config, connectionTimeoutMillis: connectTimeout });
      }
    }
    this.pool = new pg.Pool({
      ...settings,
      ...(typeof database === 'string' ? {} : { connectionString: database.url, stream: database.preparingStream }),
      types: rawDateTypes(),
      max: o.max,
      min: o.max === 1 ? 1 : 0,
      idleTimeoutMillis: IDLE_TIMEOUT_MS,
      connectionTimeoutMillis: ACQUIRE_TIMEOUT_MS,
      Client: Client as unknown as typeof pg.Client & (new () => pg.ClientBase),
    });
    // An idle connection that fails (a server restart) leaves the pool; the next statement opens another.
    this.pool.on('error', (err) => o.logger?.warn({ err }, 'idle database connection failed'));
  }

  /** Outside any transaction, as a named prepared statement. */
  readonly sql: Sql = (statement, ...params) => this.retrying(() => this.run(statement, (params[0] ?? {}) as never, true));

  /**
   * The same, never prepared: for statements whose best plan depends on the size of an input (a send to
   * 10,000 users). A prepared statement switches to a generic plan after a few runs, which a statement
   * made for one recipient runs badly for ten thousand.
   */
  readonly unprepared: Sql = (statement, ...params) => this.retrying(() => this.run(statement, (params[0] ?? {}) as never, false));

  /**
   * Runs `work` in one transaction on one connection (READ COMMITTED: each statement sees what committed
   * before it started). Statements inside are not prepared: their plans depend on their inputs (a
   * catch-up for 500 users, a send's recipients); but those in `prepare` are, for hot statements whose
   * plans do not (SEND, as it runs alone, and the webhook events written with it). Such a hot transaction
   * is also pipelined: BEGIN goes with its first statement, COMMIT with the one given to `sql.atCommit`
   * (framed.ts), two round trips fewer. Retried whole on a deadlock.
   */
  async tx<T>(work: (sql: Sql) => Promise<T>, o: { prepare?: readonly { readonly source: string }[] } = {}): Promise<T> {
    const pipelined = o.prepare !== undefined;
    return this.retrying(async () => {
      const { client, release } = await this.checkout();
      let broken: Error | undefined;
      try {
        let begun = false;
        if (!pipelined) {
          await client.query('begin');
          begun = true;
        }
        try {
          const name = (statement: Statement<never, unknown>) => (o.prepare?.includes(statement) ? this.nameOf(statement) : undefined);
          const run = <P, R>(statement: Statement<P, R>, params: P, commit: boolean) => {
            const begin = !begun;
            begun = true;
            return this.send(client, statement, params, name(statement as never), { begin, commit });
          };
          const atCommit: [Statement<never, unknown>, unknown][] = [];
          const sql: Sql = (statement, ...params) => run(statement, (params[0] ?? {}) as never, false);
          if (pipelined) sql.atCommit = (statement, params) => void atCommit.push([statement as never, params]);
          const result = await work(sql);
          for (const [k, [statement, params]] of atCommit.entries()) await run(statement, params as never, k === atCommit.length - 1);
          if (!atCommit.length && begun) await client.query('commit');
          return result;
        } catch (err) {
          // A connection that cannot even roll back is broken: released with the error, the pool closes it.
          await client.query('rollback').catch((e: Error) => (broken = e));
          throw err;
        }
      } finally {
        release(broken);
      }
    });
  }

  /** Ends the pool's connections (statements still running finish first). */
  end(): Promise<void> {
    return this.pool.end();
  }

  private async retrying<R>(statement: () => Promise<R>): Promise<R> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await statement();
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (attempt >= ATTEMPTS || !code || !RETRYABLE.has(code)) throw err;
      }
    }
  }

  private async run<P, R>(statement: Statement<P, R>, params: P, prepared: boolean): Promise<R[]> {
    const { client, release } = await this.checkout();
    try {
      return await this.send(client, statement, params, prepared ? this.nameOf(statement) : undefined);
    } finally {
      release();
    }
  }

  /**
   * A pooled connection and its release. A connection lost while in use (a server restart, a terminated
   * backend) fails the statement running, and its 'error' event, unheard, would end the process: it is
   * heard here, and the connection goes back broken, for the pool to close.
   */
  private async checkout(): Promise<{ client: pg.PoolClient; release(err?: Error): void }> {
    const client = await this.pool.connect();
    let lost: Error | undefined;
    const onError = (err: Error) => (lost = err);
    client.on('error', onError);
    return {
      client,
      release: (err) => {
        client.off('error', onError);
        client.release(err ?? lost);
      },
    };
  }

  /** `frame`: BEGIN before it, COMMIT after it, in the same round trip (framed.ts). */
  private async send<P, R>(client: pg.PoolClient, statement: Statement<P, R>, params: P, name: string | undefined, frame?: { begin: boolean; commit: boolean }): Promise<R[]> {
    const values = bind(statement, params);
    this.onStatement?.(statement.text, values);
    if (frame && (frame.begin || frame.commit)) return (await framed(client, { name, text: statement.text, values }, frame)) as R[];
    return (await client.query({ name, text: statement.text, values })).rows as R[];
  }

  private nameOf(statement: Statement<unknown, unknown>): string | undefined {
    if (!this.names.has(statement)) this.names.set(statement, this.names.size < MAX_PREPARED ? `sm_${this.names.size}` : undefined);
    return this.names.get(statement);
  }
}

/** A list as one JSON input (`jsonb_array_elements_text(:ids::jsonb)`): one parameter however long the list. */
/** Statements with more ids than this run unprepared, planned for their size (see Db.unprepared). */
export const PREPARED_MAX_IDS = 50;

export const jsonList = (values: readonly unknown[]) => JSON.stringify(values);
/** Some of each user's messages: as a JSON list, the `:users` input of statements about many users. */
export type UserIds = { user_id: string; ids: readonly string[] };

import type { MikroORM } from '@mikro-orm/postgresql';

/** Runs one SQL statement with bound parameters ($n, not client-side interpolation) and returns its rows. */
export type Sql = <R = Record<string, unknown>>(text: string, bindings?: readonly unknown[]) => Promise<R[]>;

const RETRYABLE = new Set(['40P01', '40001']); // deadlock detected, serialization failure
const MAX_PREPARED = 200;

/** A pooled node-postgres connection, as knex's pool hands it out. */
interface Connection {
  query(q: { name?: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/** The part of knex's client used to borrow connections from MikroORM's pool. */
interface PooledClient {
  acquireConnection(): Promise<Connection>;
  releaseConnection(connection: Connection): Promise<void>;
}

/**
 * The thin layer between the store and MikroORM's connection pool: statements run on a borrowed
 * node-postgres connection (MikroORM manages the pool, the migrations and the schema, not these
 * set-based statements), with a bounded retry when PostgreSQL aborts a transaction to break a deadlock
 * (concurrent multi-recipient sends can lock users in different orders).
 */
export class Db {
  /** Sees every statement sent, with its bindings (bench/explain.ts records them). */
  onStatement?: (text: string, bindings: readonly unknown[]) => void;

  constructor(private readonly orm: MikroORM) {}

  /** A statement outside any transaction (single-statement reads). */
  readonly sql: Sql = (text, bindings = []) => this.prepared(text, bindings);

  /**
   * The same, never prepared: for statements whose best plan depends on the size of a parameter (a
   * send to 10,000 users). A prepared statement switches to a cached generic plan after a few runs;
   * one made for a single recipient ran a 10,000-recipient send 100 times slower.
   */
  readonly unprepared: Sql = (text, bindings = []) => this.prepared(text, bindings, false);

  /**
   * One self-contained write statement (atomic by itself, no BEGIN/COMMIT round trips), retried like
   * a transaction when PostgreSQL aborts it to break a deadlock.
   */
  readonly atomic: Sql = (text, bindings = []) => this.retrying(() => this.prepared(text, bindings));

  /** `atomic`, never prepared (see `unprepared`). */
  readonly atomicUnprepared: Sql = (text, bindings = []) => this.retrying(() => this.prepared(text, bindings, false));

  private async retrying<R>(statement: () => Promise<R>): Promise<R> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await statement();
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (attempt >= 5 || !code || !RETRYABLE.has(code)) throw err;
      }
    }
  }

  /**
   * Runs `work` in one transaction on one connection (READ COMMITTED: each statement sees what committed
   * before it started). Statements inside are never prepared: their plans depend on their parameters
   * (a catch-up for 500 users, a send's recipients). Retried whole on a deadlock.
   */
  async tx<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    return this.retrying(() =>
      this.borrow(async (connection) => {
        await connection.query({ text: 'begin', values: [] });
        try {
          const result = await work((text, bindings = []) => this.send(connection, this.statement(text), bindings, false));
          await connection.query({ text: 'commit', values: [] });
          return result;
        } catch (err) {
          // A connection that cannot even roll back is broken; the pool discards it (knex validates on acquire).
          await connection.query({ text: 'rollback', values: [] }).catch(() => undefined);
          throw err;
        }
      }),
    );
  }

  /**
   * Outside transactions, each distinct statement text runs as a named prepared statement on a pooled
   * connection: PostgreSQL then parses it once per connection instead of on every call (for the unread
   * count, parsing and planning cost ten times the execution). Past MAX_PREPARED texts (dynamic filter
   * combinations), statements run unnamed.
   */
  private async prepared<R>(text: string, bindings: readonly unknown[], named = true): Promise<R[]> {
    return this.borrow((connection) => this.send<R>(connection, this.statement(text), bindings, named));
  }

  private async send<R>(connection: Connection, statement: Statement, bindings: readonly unknown[], named: boolean): Promise<R[]> {
    this.onStatement?.(statement.text, bindings);
    const result = await connection.query({ name: named ? statement.name : undefined, text: statement.text, values: bindings as unknown[] });
    return result.rows as R[];
  }

  private async borrow<R>(use: (connection: Connection) => Promise<R>): Promise<R> {
    const client = this.orm.em.getKnex().client as unknown as PooledClient;
    const connection = await client.acquireConnection();
    try {
      return await use(connection);
    } finally {
      await client.releaseConnection(connection);
    }
  }

  /** The statement with `?` placeholders numbered ($1, $2, ...), and its prepared name while names last. */
  private statement(text: string): Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      let n = 0;
      statement = { name: this.statements.size < MAX_PREPARED ? `sm_${this.statements.size}` : undefined, text: text.replace(/\?/g, () => `$${++n}`) };
      this.statements.set(text, statement);
    }
    return statement;
  }

  private readonly statements = new Map<string, Statement>();
}

interface Statement {
  name: string | undefined;
  text: string;
}

/** A list as one JSON parameter: knex would expand an array binding into `?, ?, ?`. */
export const jsonList = (values: readonly unknown[]) => JSON.stringify(values);

import type { MikroORM } from '@mikro-orm/postgresql';

/** Runs one SQL statement with bound parameters ($n, not client-side interpolation) and returns its rows. */
export type Sql = <R = Record<string, unknown>>(text: string, bindings?: readonly unknown[]) => Promise<R[]>;

const RETRYABLE = new Set(['40P01', '40001']); // deadlock detected, serialization failure
const MAX_PREPARED = 200;

/** The part of knex's client (and node-postgres' Client) used for prepared statements. */
interface PooledClient {
  acquireConnection(): Promise<{ query(q: { name?: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }> }>;
  releaseConnection(connection: unknown): Promise<void>;
}

/**
 * The thin layer between the store and MikroORM: one EntityManager fork per operation, its
 * transaction context for every statement, and a bounded retry when PostgreSQL aborts a transaction
 * to break a deadlock (concurrent multi-recipient sends can lock users in different orders).
 */
export class Db {
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

  async tx<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.orm.em.fork().transactional(async (em) => {
          const trx = em.getTransactionContext();
          return work((text, bindings = []) => this.run(trx, text, bindings));
        });
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (attempt >= 5 || !code || !RETRYABLE.has(code)) throw err;
      }
    }
  }

  /**
   * Outside transactions, each distinct statement text runs as a named prepared statement on a pooled
   * connection: PostgreSQL then parses it once per connection instead of on every call (for the unread
   * count, parsing and planning cost ten times the execution). Past MAX_PREPARED texts (dynamic filter
   * combinations), statements run unnamed.
   */
  private async prepared<R>(text: string, bindings: readonly unknown[], named = true): Promise<R[]> {
    let statement = this.statements.get(text);
    if (!statement) {
      let n = 0;
      statement = { name: this.statements.size < MAX_PREPARED ? `sm_${this.statements.size}` : undefined, text: text.replace(/\?/g, () => `$${++n}`) };
      this.statements.set(text, statement);
    }
    if (!named) statement = { name: undefined, text: statement.text };
    const client = this.orm.em.getKnex().client as unknown as PooledClient;
    const connection = await client.acquireConnection();
    try {
      const result = await connection.query({ name: statement.name, text: statement.text, values: bindings as unknown[] });
      return result.rows as R[];
    } finally {
      await client.releaseConnection(connection);
    }
  }

  private readonly statements = new Map<string, { name: string | undefined; text: string }>();

  private async run<R>(trx: unknown, text: string, bindings: readonly unknown[]): Promise<R[]> {
    const query = this.orm.em.getKnex().raw(text, bindings as never);
    if (trx) query.transacting(trx as never);
    const result = (await query) as { rows: R[] };
    return result.rows;
  }
}

/** A list as one JSON parameter: knex would expand an array binding into `?, ?, ?`. */
export const jsonList = (values: readonly unknown[]) => JSON.stringify(values);

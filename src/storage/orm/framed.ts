import pg from 'pg';

/** The parts of node-postgres' connection a query writes to (pg 8's Connection). */
interface Wire {
  parse(m: { text: string; name: string; types: unknown[] }): void;
  bind(m: { portal: string; statement: string; values: unknown[] }): void;
  execute(m: { portal: string; rows?: number }): void;
  sync(): void;
}

/**
 * A statement sent with BEGIN before it and/or COMMIT after it in one pipeline (one Sync): one round trip
 * where there were two or three. node-postgres' Query writes Parse/Bind/Describe/Execute then Sync
 * (Query.prepare, Query._getRows in pg 8); this writes the unnamed BEGIN first and COMMIT before the Sync.
 * PostgreSQL runs them in order; an error skips the rest up to the Sync (the caller rolls back).
 */
class FramedQuery extends pg.Query {
  constructor(
    config: pg.QueryConfig,
    private readonly frame: { begin: boolean; commit: boolean },
    callback: (err: Error | null, results: pg.QueryResult | pg.QueryResult[]) => void,
  ) {
    super({ ...config, queryMode: 'extended', callback } as pg.QueryConfig);
  }

  prepare(connection: Wire): void {
    if (this.frame.begin) unnamed(connection, 'begin');
    (pg.Query.prototype as unknown as { prepare(c: Wire): void }).prepare.call(this, connection);
  }

  _getRows(connection: Wire, rows: number | undefined): void {
    connection.execute({ portal: '', rows });
    if (this.frame.commit) unnamed(connection, 'commit');
    connection.sync();
  }
}

function unnamed(connection: Wire, text: string): void {
  connection.parse({ text, name: '', types: [] });
  connection.bind({ portal: '', statement: '', values: [] });
  connection.execute({ portal: '' });
}

/** Runs the statement framed as asked on `client`; its rows (BEGIN's and COMMIT's results left out). */
export function framed(client: pg.PoolClient, config: pg.QueryConfig, frame: { begin: boolean; commit: boolean }): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const query = new FramedQuery(config, frame, (err, results) => {
      if (err) return reject(err);
      const all = Array.isArray(results) ? results : [results];
      resolve(all[frame.begin ? 1 : 0]?.rows ?? []);
    });
    void client.query(query as unknown as pg.QueryConfig);
  });
}

import pg from 'pg';
import type { EmbeddedDatabase } from '../embedded.js';

/**
 * No JIT compilation in the app's sessions. Its statements are short, and PostgreSQL decides to compile
 * from a plan's estimated cost alone: a generic plan estimated for many rows would compile for
 * milliseconds before running for a fraction of one.
 */
const NO_JIT = '-c jit=off';
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * node-postgres settings for a PostgreSQL server's URL, or for the embedded PGlite (its in-process
 * stream). node-postgres reads `sslmode`, `application_name` and the rest from the URL itself; the URL's
 * `options` get NO_JIT added (its own would replace ours). MikroORM's pool and the store's use the same.
 */
export function connectionSettings(database: string | EmbeddedDatabase) {
  if (typeof database !== 'string') return { options: NO_JIT, stream: database.stream };
  const url = new URL(database);
  const own = url.searchParams.get('options');
  url.searchParams.delete('options');
  // A host that accepts the connection and never answers fails in 10 s, not at the pool's acquire timeout.
  const connectionTimeoutMillis = url.searchParams.has('connect_timeout') ? undefined : CONNECT_TIMEOUT_MS;
  return { connectionString: url.toString(), options: own ? `${own} ${NO_JIT}` : NO_JIT, connectionTimeoutMillis };
}

/** Dates and times come back as PostgreSQL writes them (reads.ts parses them), as MikroORM's driver returns them. */
export function rawDateTypes(): pg.CustomTypesConfig {
  const types = new pg.TypeOverrides();
  for (const oid of [1082, 1114, 1184, 1186]) types.setTypeParser(oid, (s: string) => s); // date, timestamp, timestamptz, interval
  return types;
}

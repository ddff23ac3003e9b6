import type { BenchOptions } from './options.js';
import { fmt, type Summary } from './stats.js';

export interface BenchContext {
  opts: BenchOptions;
  log(message: string): void;
  /**
   * Baselines measured in this run: `typename:<backend>` (the app's `{ __typename }` req/s),
   * `yoga` (bare Yoga), `yogaPage` (bare Yoga sending W4's page of 100, pages/s), `storage:postgres` / `storage:embedded` / `storage:redis` (raw writes/s).
   */
  floors: Map<string, Summary>;
}

/** The baseline cell of a row: the HTTP floor of that backend's app and its raw storage floor. */
export function baselineText(ctx: BenchContext, backend: string, which: { http?: boolean; storage?: boolean } = { http: true, storage: true }): string {
  const parts: string[] = [];
  const http = ctx.floors.get(`typename:${backend}`);
  const storage = ctx.floors.get(`storage:${backend}`);
  if (which.http && http) parts.push(`{__typename} ${fmt(http.median)} req/s`);
  if (which.storage && storage) parts.push(`raw ${backend === 'redis' ? 'SET+INCR' : 'insert tx'} ${fmt(storage.median)}/s`);
  return parts.join('; ');
}

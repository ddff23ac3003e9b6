import { readFileSync } from 'node:fs';
import type { RedisClient } from './connection.js';

/** What a Lua script answers, as ioredis gives it (strings, integers, nested arrays, or null). */
export type LuaReply = unknown;

export interface ScriptSource {
  /** The folder of the `.lua` files: `new URL('./lua/', import.meta.url)` from the owning module. */
  dir: URL;
  /**
   * The script files, by the name the wrappers call them with; with `lib`, library files that script
   * needs besides the set's (a script pays, on every call, for each function its text defines).
   */
  scripts: Record<string, string | { file: string; lib: readonly string[] }>;
  /** Files prepended, in order, to every script of the set (EVAL scripts cannot `require`). */
  lib?: readonly string[];
}

export interface ScriptCall {
  name: string;
  keys: readonly string[];
  args?: readonly (string | number)[];
}

type Invoke = (args: unknown[]) => Promise<LuaReply>;
type PipelineLike = Record<string, (args: unknown[]) => void> & { exec(): Promise<[Error | null, unknown][] | null> };

/**
 * The one script loader of the project, for storage and live delivery: reads each script's `.lua`
 * file (after its set's library files) once, and registers it on a client with ioredis
 * `defineCommand`, which runs it by EVALSHA and falls back to EVAL once on any node that lacks it
 * (so a Redis Cluster, a failover or a SCRIPT FLUSH needs nothing more). Command names are
 * `<set>:<script>`, so two sets on one client cannot clash.
 */
export class LuaScripts<Name extends string> {
  /** The full text of each script as Redis receives it (library first). */
  readonly sources: Record<Name, string>;

  constructor(
    private readonly client: RedisClient,
    private readonly set: string,
    source: ScriptSource & { scripts: Record<Name, ScriptSource['scripts'][string]> },
  ) {
    this.sources = {} as Record<Name, string>;
    for (const [name, entry] of Object.entries(source.scripts) as [Name, ScriptSource['scripts'][string]][]) {
      const { file, lib } = typeof entry === 'string' ? { file: entry, lib: [] } : entry;
      const lua = [...(source.lib ?? []), ...lib, file].map((f) => readLua(source.dir, f)).join('\n');
      this.sources[name] = lua;
      client.defineCommand(this.command(name), { lua });
    }
  }

  /** Runs one script. */
  run(name: Name, keys: readonly string[], args: readonly (string | number)[] = []): Promise<LuaReply> {
    const invoke = (this.client as unknown as Record<string, Invoke>)[this.command(name)];
    return invoke.call(this.client, [keys.length, ...keys, ...args]);
  }

  /**
   * Runs many scripts as one pipeline: one write and one round trip (single server only: on a
   * cluster a pipeline may not span nodes). Answers in order; the first script that failed throws.
   */
  async pipeline(calls: readonly (ScriptCall & { name: Name })[]): Promise<LuaReply[]> {
    if (!calls.length) return [];
    const pipeline = this.client.pipeline() as unknown as PipelineLike;
    for (const { name, keys, args = [] } of calls) pipeline[this.command(name)]([keys.length, ...keys, ...args]);
    const results = (await pipeline.exec()) ?? [];
    return results.map(([err, reply]) => {
      if (err) throw err;
      return reply;
    });
  }

  private command(name: Name): string {
    return `${this.set}:${name}`;
  }
}

/** A `.lua` file's text; the build copies these files next to the compiled modules. */
function readLua(dir: URL, file: string): string {
  return readFileSync(new URL(file, dir), 'utf8');
}

import type { RedisClient } from './connection.js';
import { GLOBAL_SCRIPTS } from './lua/global.js';
import { LIB } from './lua/lib.js';
import { USER_SCRIPTS } from './lua/user.js';

export type ScriptName = keyof typeof USER_SCRIPTS | keyof typeof GLOBAL_SCRIPTS;
export type Reply = string[];

/**
 * The Lua scripts, each the shared library plus its body, registered with ioredis `defineCommand`
 * (EVALSHA, falling back to EVAL once when the server does not have the script cached).
 */
export class Scripts {
  constructor(private readonly client: RedisClient) {
    const all: Record<string, string> = { ...USER_SCRIPTS, ...GLOBAL_SCRIPTS };
    for (const [name, body] of Object.entries(all)) client.defineCommand(name, { lua: LIB + body });
  }

  /** Runs a script; every script answers a flat array of strings (or one string). */
  async run(name: ScriptName, keys: readonly string[], args: readonly (string | number)[] = []): Promise<Reply> {
    const command = (this.client as unknown as Record<ScriptName, (args: unknown[]) => Promise<Reply | string>>)[name];
    return asReply(await command.call(this.client, [keys.length, ...keys, ...args]));
  }

  /**
   * Runs many scripts as one pipeline: one write and one round trip for all of them (the storage
   * connection does not auto-pipeline). Single server only: on a cluster a pipeline may not span nodes.
   * Answers in order; the first script that failed throws.
   */
  async runPipelined(calls: readonly ScriptCall[]): Promise<Reply[]> {
    if (!calls.length) return [];
    const pipeline = this.client.pipeline() as unknown as Record<ScriptName, (args: unknown[]) => void> & { exec(): Promise<[Error | null, unknown][] | null> };
    for (const { name, keys, args = [] } of calls) pipeline[name]([keys.length, ...keys, ...args]);
    const results = (await pipeline.exec()) ?? [];
    return results.map(([err, reply]) => {
      if (err) throw err;
      return asReply(reply as Reply | string);
    });
  }
}

export interface ScriptCall {
  name: ScriptName;
  keys: readonly string[];
  args?: readonly (string | number)[];
}

const asReply = (reply: Reply | string): Reply => (Array.isArray(reply) ? reply : [reply]);

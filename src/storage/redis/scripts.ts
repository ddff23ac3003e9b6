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
    const reply = await command.call(this.client, [keys.length, ...keys, ...args]);
    return Array.isArray(reply) ? reply : [reply];
  }
}

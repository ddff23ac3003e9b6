#!/usr/bin/env node
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { BROADCAST_USAGE, CLEANUP_USAGE, MIGRATE_USAGE, RETRACT_USAGE, SEND_USAGE, SERVE_USAGE, TOKEN_USAGE, USAGE, UsageError } from './commands/usage.js';

type Options = NonNullable<ParseArgsConfig['options']>;
type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

interface Command {
  usage: string;
  options: Options;
  /** Resolves with the exit code; throws a UsageError for bad arguments. */
  run(values: Values, env: NodeJS.ProcessEnv): Promise<number>;
}

const MESSAGE_OPTIONS: Options = {
  text: { type: 'string' },
  level: { type: 'string' },
  url: { type: 'string' },
  category: { type: 'string' },
  critical: { type: 'boolean' },
  'deliver-at': { type: 'string' },
};
const messageArgs = (values: Values) => ({
  text: values.text as string | undefined,
  level: values.level as string | undefined,
  url: values.url as string | undefined,
  category: values.category as string | undefined,
  critical: values.critical as boolean | undefined,
  deliverAt: values['deliver-at'] as string | undefined,
});

// Each command loads its modules only when chosen: `token` starts without the server's dependencies.
const COMMANDS: Record<string, Command> = {
  serve: {
    usage: SERVE_USAGE,
    options: {},
    async run(_, env) {
      await import('./process-tuning.js');
      return (await import('./commands/serve.js')).serve(env);
    },
  },
  migrate: {
    usage: MIGRATE_USAGE,
    options: {},
    run: async (_, env) => (await import('./commands/migrate.js')).migrate(env),
  },
  token: {
    usage: TOKEN_USAGE,
    options: { sub: { type: 'string' }, scope: { type: 'string', multiple: true }, ttl: { type: 'string' } },
    async run(values, env) {
      if (typeof values.sub !== 'string') throw new UsageError('--sub is required');
      const { token } = await import('./commands/token.js');
      return token({ sub: values.sub, scopes: (values.scope as string[] | undefined) ?? [], ttl: values.ttl as string | undefined }, env);
    },
  },
  send: {
    usage: SEND_USAGE,
    options: { to: { type: 'string', multiple: true }, 'group-key': { type: 'string' }, ...MESSAGE_OPTIONS },
    run: async (values, env) =>
      (await import('./commands/produce.js')).send({ ...messageArgs(values), to: (values.to as string[] | undefined) ?? [], groupKey: values['group-key'] as string | undefined }, env),
  },
  broadcast: {
    usage: BROADCAST_USAGE,
    options: MESSAGE_OPTIONS,
    run: async (values, env) => (await import('./commands/produce.js')).broadcast(messageArgs(values), env),
  },
  retract: {
    usage: RETRACT_USAGE,
    options: { id: { type: 'string' } },
    run: async (values, env) => (await import('./commands/produce.js')).retract({ id: values.id as string | undefined }, env),
  },
  cleanup: {
    usage: CLEANUP_USAGE,
    options: {},
    run: async (_, env) => (await import('./commands/cleanup.js')).cleanup(env),
  },
};

/**
 * `stored-messages <command>` (package bin; `npm run cli -- <command>` from source). The second
 * entry point beside main.ts: the only other file that reads process.argv and process.env.
 */
async function cli(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return 0;
  }
  const command = name === undefined ? undefined : COMMANDS[name];
  if (!command) {
    console.error(`${name === undefined ? 'no command given' : `unknown command "${name}"`}\n\n${USAGE}`);
    return 2;
  }
  try {
    const { values } = parseArgs({ args: rest, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false });
    if (values.help) {
      console.log(command.usage);
      return 0;
    }
    return await command.run(values, env);
  } catch (err) {
    const parseError = typeof (err as { code?: unknown }).code === 'string' && (err as { code: string }).code.startsWith('ERR_PARSE_ARGS_');
    if (!(err instanceof UsageError) && !parseError) throw err;
    console.error(`stored-messages ${name}: ${(err as Error).message}\n${command.usage.split('\n')[0]}\nMore: stored-messages ${name} --help`);
    return 2;
  }
}

process.exit(await cli(process.argv.slice(2), process.env));

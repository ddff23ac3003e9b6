import type { App } from '../app.js';
import { loadConfig, type Config } from '../config.js';
import { AppError } from '../domain/errors.js';
import { isLevelName, type LevelName } from '../domain/levels.js';
import { producedSend, type MessageInput } from '../domain/message-input.js';
import type { Viewer } from '../domain/messages.js';
import { decodeMessageId, encodeMessageId } from '../graphql/ids.js';
import { reportStartupFailure } from '../startup-errors.js';
import { UsageError } from './usage.js';

type Env = Record<string, string | undefined>;

export interface MessageArgs {
  text: string | undefined;
  level: string | undefined;
  url: string | undefined;
  category: string | undefined;
  critical: boolean | undefined;
  /** ISO 8601 with an offset, as the DateTime scalar takes it. */
  deliverAt: string | undefined;
}

/** The command line writes as a producer with no user of its own (idempotency keys are not offered here). */
const CLI_PRODUCER: Viewer = { id: 'stored-messages-cli', producer: true };

/** `--level info` or `--level STORED_INFO`; the producer default is STORED_INFO, as addMessageFor's callers use. */
export function parseLevel(level: string | undefined): LevelName {
  if (level === undefined) return 'STORED_INFO';
  const name = level.trim().toUpperCase().replace(/[\s-]+/g, '_');
  if (!isLevelName(name)) throw new UsageError(`--level: "${level}" is not a level (DEBUG, INFO, SUCCESS, WARNING, ERROR or their STORED_ forms)`);
  return name;
}

/** An instant as the DateTime scalar accepts it: ISO 8601 with a time and an offset (or Z). */
function parseInstant(option: string, value: string | undefined): Date | null {
  if (value === undefined) return null;
  const at = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(value) || Number.isNaN(at.getTime())) {
    throw new UsageError(`${option}: "${value}" is not an ISO 8601 instant with an offset (2030-01-31T09:00:00Z)`);
  }
  return at;
}

function messageInput(args: MessageArgs) {
  if (args.text === undefined) throw new UsageError('--text is required');
  return {
    level: parseLevel(args.level),
    text: args.text,
    url: args.url ?? null,
    category: args.category ?? null,
    critical: args.critical ?? null,
    deliverAt: parseInstant('--deliver-at', args.deliverAt),
  };
}

/**
 * `stored-messages send --to ID[,ID...]`: stores the message through the same use case as the
 * addMessageFor mutation (its validation, its live events through REDIS_URL when set) and prints the
 * message's id and how many users it reached.
 */
export async function send(args: MessageArgs & { to: string[]; groupKey: string | undefined }, env: Env): Promise<number> {
  const userIds = args.to.flatMap((t) => t.split(',')).map((u) => u.trim()).filter(Boolean);
  if (!userIds.length) throw new UsageError('--to: give at least one user id');
  const input = { ...messageInput(args), groupKey: args.groupKey ?? null, userIds };
  return withApp(env, async (app) => printSent(await app.messages.addMessageFor(CLI_PRODUCER, input), input.deliverAt), checkSend(input));
}

/** `stored-messages broadcast`: one message for every known user, as broadcastMessage stores it. */
export async function broadcast(args: MessageArgs, env: Env): Promise<number> {
  const input = messageInput(args);
  return withApp(env, async (app) => printSent(await app.messages.broadcastMessage(CLI_PRODUCER, input), input.deliverAt), checkSend(input));
}

/** What the use case would refuse of a send, checked before storage is opened (the use case checks it again). */
const checkSend = (input: MessageInput & { userIds?: readonly string[] }) => (config: Config) => void producedSend(input, config.messageExpireDays);

/** `stored-messages retract --id ID`: takes a sent message back from every recipient, as retractMessage does; prints how many still had it. */
export async function retract(args: { id: string | undefined }, env: Env): Promise<number> {
  if (args.id === undefined) throw new UsageError('--id is required');
  const id = args.id;
  return withApp(env, async (app) => {
    const { recipientCount } = await app.messages.retractMessage(CLI_PRODUCER, decodeMessageId('input.id', id));
    console.log(recipientCount);
    console.error(`retracted from ${recipientCount} user${recipientCount === 1 ? '' : 's'}`);
  }, () => void decodeMessageId('input.id', id));
}

/**
 * Opens the server's storage and live delivery without serving HTTP, runs `work` (which prints its own
 * result), and closes. Resolves with the exit code: 0, 2 for input the use cases refused, 1 otherwise.
 * `check` refuses bad input first, before the server's modules are even loaded.
 */
export async function withApp(env: Env, work: (app: App) => Promise<void>, check?: (config: Config) => void): Promise<number> {
  let config: Config | null = null;
  let app: App | null = null;
  try {
    config = loadConfig(env, { needsAuth: false });
    check?.(config);
    const { createApp } = await import('../app.js');
    // A command's writes reach the outbox; the servers deliver them (a command ends before it could).
    app = await createApp(config, { dispatchWebhooks: false });
    await work(app);
    return 0;
  } catch (err) {
    if (err instanceof AppError) {
      console.error(`stored-messages: ${optionNamed(err)}`);
      return err.code === 'BAD_USER_INPUT' ? 2 : 1;
    }
    reportStartupFailure(err, config);
    return 1;
  } finally {
    await app?.close();
  }
}

/** Prints a stored (or scheduled) message's id (alone on stdout, so `$(…)` captures it) and how many users it reached. */
function printSent({ message, recipientCount }: { message: { id: string; stored: boolean }; recipientCount: number }, deliverAt: Date | null): void {
  console.log(encodeMessageId(message.id, message.stored));
  const users = `${recipientCount} user${recipientCount === 1 ? '' : 's'}`;
  console.error(deliverAt ? `scheduled for ${users} at ${deliverAt.toISOString()}` : `stored for ${users}`);
}

/** The use case names its input's fields (input.text); the command line names its options (--text). */
function optionNamed(err: AppError): string {
  const option = {
    'input.text': '--text',
    'input.url': '--url',
    'input.level': '--level',
    'input.userIds': '--to',
    'input.category': '--category',
    'input.groupKey': '--group-key',
    'input.deliverAt': '--deliver-at',
    'input.id': '--id',
  }[err.field ?? ''];
  return option && err.field ? `${option}${err.message.slice(err.field.length)}` : err.message;
}

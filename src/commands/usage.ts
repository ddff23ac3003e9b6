/** Bad command-line arguments: the CLI prints the message and the command's usage line, and exits with 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE = `Usage: stored-messages <command> [options]

Commands:
  serve     start the server (what \`npm start\` does)
  migrate   apply pending database migrations, then exit
  token     print a bearer token for a user
  send      store a message for some users and print its id
  broadcast store a message for every known user and print its id
  retract   take a sent message back from every recipient
  cleanup   reclaim expired messages now

Every command reads the server's environment (DATABASE_URL, AUTH_JWT_SECRET, DATA_DIR, ...).
\`stored-messages <command> --help\` shows a command's options.
Exit codes: 0 success, 1 failure, 2 bad arguments.`;

export const SERVE_USAGE = `Usage: stored-messages serve

Starts the GraphQL server (the same as \`npm start\`): applies pending migrations unless
MIGRATE_ON_START=false, serves http://HOST:PORT/graphql until SIGINT or SIGTERM.`;

export const MIGRATE_USAGE = `Usage: stored-messages migrate

Applies pending migrations to DATABASE_URL (or to the embedded database under DATA_DIR), then exits.`;

export const TOKEN_USAGE = `Usage: stored-messages token --sub ID [--scope SCOPE] [--ttl 1h]

Prints a bearer token (JWT, HS256) for the user ID, signed with AUTH_JWT_SECRET, or in development
(no AUTH_JWT_SECRET, AUTH_JWKS_URL or NODE_ENV=production) with the development secret under
DATA_DIR that \`npm start\` uses. It carries AUTH_ISSUER / AUTH_AUDIENCE when they are set.

  --sub ID        the user id (1 to 255 characters)
  --scope SCOPE   space-separated scopes; messages:send makes a producer (repeatable)
  --ttl DURATION  how long it is valid: a number with s, m, h, d or w (default 1h)
  --help          this text`;

const MESSAGE_OPTIONS = `  --text TEXT     the message (required; 1 to 10,000 characters)
  --level LEVEL   DEBUG, INFO, SUCCESS, WARNING, ERROR or their STORED_ forms, any case (default STORED_INFO)
  --url URL       where the message leads (an absolute http or https URL)
  --category C    its category (1 to 64 of a-z 0-9 . _ -): users who disabled it get nothing
  --critical      delivered even to users who disabled the category
  --deliver-at T  deliver at this ISO 8601 instant (2030-01-31T09:00:00Z) instead of now, up to 365 days ahead
  --help          this text`;

export const SEND_USAGE = `Usage: stored-messages send --to ID[,ID...] --text TEXT [--level LEVEL] [--url URL] [--category C] [--critical]
  [--group-key K] [--deliver-at T]

Stores a message for each user, as the addMessageFor mutation does (the same checks; live subscribers are
told when REDIS_URL is shared with the server), and prints the message's id.

  --to IDS        user ids, comma-separated or repeated (up to 10,000)
  --group-key K   its group (1 to 255 characters): a user's unread message of the group is marked read and counted into this one
${MESSAGE_OPTIONS}`;

export const BROADCAST_USAGE = `Usage: stored-messages broadcast --text TEXT [--level LEVEL] [--url URL] [--category C] [--critical] [--deliver-at T]

Stores one message for every known user, as the broadcastMessage mutation does, and prints its id.

${MESSAGE_OPTIONS}`;

export const RETRACT_USAGE = `Usage: stored-messages retract --id ID

Removes a sent message from every recipient's inbox and archive, as the retractMessage mutation does
(a scheduled one not delivered yet is cancelled), and prints how many recipients still had it.

  --id ID         the message's id, as send and broadcast printed it
  --help          this text`;

export const CLEANUP_USAGE = `Usage: stored-messages cleanup

Reclaims expired messages and idempotency records now (the server also does it every
CLEANUP_INTERVAL_SECONDS) and prints how many went.`;

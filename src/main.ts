import './process-tuning.js'; // first: V8 settings for a serving process (see the file)
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createApp } from './app.js';
import { signToken, SEND_SCOPE } from './auth.js';
import { ConfigError, loadConfig, type Config } from './config.js';

/** The only place that reads process.env, listens, and handles process signals. */
async function main() {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }

  let devSecret: string | null = null;
  if (config.nodeEnv !== 'production' && !config.auth.jwtSecret && !config.auth.jwksUrl) {
    devSecret = await developmentSecret(config.dataDir);
    config = { ...config, auth: { ...config.auth, jwtSecret: devSecret } };
  }

  const tokens = await developmentTokens(config);
  const app = await createApp(config, { graphiqlToken: tokens?.user });
  app.server.on('error', (err) => {
    // ws/http swallow listen errors otherwise (STACK.md trap 3): fail loudly instead of hanging.
    app.logger.fatal({ err }, 'server error');
    process.exit(1);
  });
  await new Promise<void>((resolve) => app.server.listen(config.port, config.host, resolve));
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  app.logger.info(`stored-messages listening on http://${shownHost}:${port}/graphql (${config.databaseUrl ? 'PostgreSQL' : 'embedded database'})`);

  if (tokens) {
    console.log(
      [
        '',
        'Development tokens (valid 30 days; GraphiQL opens with the user header filled in):',
        `  user    (sub demo-user):        {"Authorization": "Bearer ${tokens.user}"}`,
        `  service (scope messages:send):  {"Authorization": "Bearer ${tokens.service}"}`,
        devSecret ? `  (signed with a development secret kept in ${path.join(config.dataDir, 'dev-secret')})` : '',
        '',
      ].join('\n'),
    );
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.logger.info(`${signal}: shutting down`);
    await app.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

/** The demo user's and demo service's tokens, in development when tokens can be signed here; else null. */
async function developmentTokens(config: Config): Promise<{ user: string; service: string } | null> {
  if (config.nodeEnv === 'production' || !config.auth.jwtSecret) return null;
  const secret = config.auth.jwtSecret;
  const opts = { issuer: config.auth.issuer ?? undefined, audience: config.auth.audience ?? undefined, expiresIn: '30d' };
  return {
    user: await signToken(secret, { ...opts, sub: 'demo-user' }),
    service: await signToken(secret, { ...opts, sub: 'demo-service', scope: SEND_SCOPE }),
  };
}

/** A secret kept under DATA_DIR so development tokens survive restarts. Never used in production. */
async function developmentSecret(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'dev-secret');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const secret = randomBytes(32).toString('base64url');
    await mkdir(dataDir, { recursive: true });
    await writeFile(file, `${secret}\n`, { mode: 0o600 });
    return secret;
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

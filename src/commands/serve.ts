import type { Server } from 'node:http';
import { createApp, type App } from '../app.js';
import { signToken, SEND_SCOPE } from '../auth.js';
import { loadConfig, type Config } from '../config.js';
import { developmentSecretFile, usesDevelopmentSecret, withDevelopmentSecret } from '../dev-secret.js';
import { ListenError, reportStartupFailure } from '../startup-errors.js';

type Env = Record<string, string | undefined>;

/**
 * `npm start` / `stored-messages serve`: starts the server from `env`, serves until SIGINT or
 * SIGTERM, then closes gracefully. Resolves with the process's exit code: 0 after a shutdown, 1
 * when it could not start (the reason printed in a line or two naming the setting, see
 * startup-errors.ts). The caller exits with it.
 */
export async function serve(env: Env): Promise<number> {
  let config: Config | null = null;
  let app: App | null = null;
  try {
    config = loadConfig(env);
    const developmentSigned = usesDevelopmentSecret(config);
    config = await withDevelopmentSecret(config);
    const tokens = await developmentTokens(config);
    app = await createApp(config, { graphiqlToken: tokens?.user });
    await listen(app.server, config.port, config.host);
    app.server.on('error', (err) => {
      // Later server errors would otherwise go unnoticed: fail loudly.
      app!.logger.fatal({ err }, 'server error');
      process.exit(1);
    });
    announce(app, config, tokens, developmentSigned);
  } catch (err) {
    await app?.close().catch(() => undefined);
    reportStartupFailure(err, config);
    return 1;
  }
  // Kept registered: a second signal during the shutdown does not kill it halfway.
  const signal = await new Promise<string>((resolve) => {
    process.on('SIGINT', () => resolve('SIGINT'));
    process.on('SIGTERM', () => resolve('SIGTERM'));
  });
  app.drain();
  if (config.shutdownDrainSeconds > 0) {
    app.logger.info(`${signal}: /ready answers 503; closing in ${config.shutdownDrainSeconds} s (SHUTDOWN_DRAIN_SECONDS)`);
    await new Promise((resolve) => setTimeout(resolve, config!.shutdownDrainSeconds * 1000));
  }
  app.logger.info(`${signal}: shutting down`);
  await app.close();
  return 0;
}

/** Listens, rejecting with the listen error (EADDRINUSE...) for startup-errors.ts to name PORT or HOST. */
function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const failed = (err: Error) => reject(new ListenError(err));
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
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

function announce(app: App, config: Config, tokens: { user: string; service: string } | null, developmentSigned: boolean): void {
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  app.logger.info(`stored-messages listening on http://${shownHost}:${port}/graphql (${config.databaseUrl ? 'PostgreSQL' : 'embedded database'})`);
  if (config.demoPage) app.logger.info(`web inbox demo page: http://${shownHost}:${port}/`);
  if (!tokens) return;
  console.log(
    [
      '',
      `Development tokens (valid 30 days${config.graphiql ? '; GraphiQL opens with the user header filled in' : ''}):`,
      `  user    (sub demo-user):        {"Authorization": "Bearer ${tokens.user}"}`,
      `  service (scope messages:send):  {"Authorization": "Bearer ${tokens.service}"}`,
      developmentSigned ? `  (signed with a development secret kept in ${developmentSecretFile(config.dataDir)})` : '',
      '  More: npm run cli -- token --sub SOMEONE [--scope messages:send] [--ttl 1h]',
      '',
    ].join('\n'),
  );
}

import { signToken } from '../auth.js';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { withDevelopmentSecret } from '../dev-secret.js';
import { codePoints } from '../domain/validate.js';
import { reportStartupFailure } from '../startup-errors.js';
import { UsageError } from './usage.js';

export interface TokenArgs {
  sub: string;
  scopes: string[];
  ttl: string | undefined;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** `30m`, `12h`, `7d` or plain seconds, as seconds; throws a UsageError otherwise. */
export function parseTtl(ttl: string): number {
  const m = /^(\d{1,9})\s*([smhdw]?)$/.exec(ttl.trim());
  const seconds = m ? Number(m[1]) * UNIT_SECONDS[m[2] || 's'] : 0;
  if (!m || seconds < 1) throw new UsageError(`--ttl: "${ttl}" is not a duration such as 30m, 12h or 7d`);
  return seconds;
}

/**
 * `stored-messages token`: prints one token on stdout (nothing else, so `$(…)` captures it).
 * Bad arguments throw a UsageError (exit 2); a configuration that cannot sign resolves 1.
 */
export async function token(args: TokenArgs, env: Record<string, string | undefined>): Promise<number> {
  if (codePoints(args.sub) < 1 || codePoints(args.sub) > 255) throw new UsageError('--sub: the user id must be 1 to 255 characters');
  const seconds = parseTtl(args.ttl ?? '1h');
  const scope = args.scopes.flatMap((s) => s.split(/\s+/)).filter(Boolean).join(' ');
  let config: Config | null = null;
  try {
    config = loadConfig(env);
    config = await withDevelopmentSecret(config);
    const secret = config.auth.jwtSecret;
    if (!secret) throw new ConfigError(['AUTH_JWT_SECRET: not set, so this server has no secret to sign with (tokens for AUTH_JWKS_URL come from your identity provider)']);
    const issuer = config.auth.issuer ?? undefined;
    const audience = config.auth.audience ?? undefined;
    console.log(await signToken(secret, { sub: args.sub, scope: scope || undefined, expiresIn: `${seconds}s`, issuer, audience }));
    return 0;
  } catch (err) {
    reportStartupFailure(err, config);
    return 1;
  }
}

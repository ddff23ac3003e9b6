import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from './config.js';

/** Where the development secret lives: shown at start-up, shared by `serve` and the `token` command. */
export const developmentSecretFile = (dataDir: string) => path.join(dataDir, 'dev-secret');

/** True when tokens are signed with the development secret: no secret, no JWKS, not production. */
export const usesDevelopmentSecret = (config: Config) => config.nodeEnv !== 'production' && !config.auth.jwtSecret && !config.auth.jwksUrl;

/**
 * A secret kept under DATA_DIR so development tokens survive restarts, created on first use.
 * Never used in production. Throws the file system's error (ENOTDIR, EACCES...) when DATA_DIR is not writable.
 */
export async function developmentSecret(dataDir: string): Promise<string> {
  const file = developmentSecretFile(dataDir);
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const secret = randomBytes(32).toString('base64url');
    await mkdir(dataDir, { recursive: true });
    await writeFile(file, `${secret}\n`, { mode: 0o600 });
    return secret;
  }
}

/** The configuration with the development secret filled in when it applies (see usesDevelopmentSecret). */
export async function withDevelopmentSecret(config: Config): Promise<Config> {
  if (!usesDevelopmentSecret(config)) return config;
  return { ...config, auth: { ...config.auth, jwtSecret: await developmentSecret(config.dataDir) } };
}

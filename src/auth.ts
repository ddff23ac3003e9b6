import { createRemoteJWKSet, errors as joseErrors, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { unauthenticated, AppError } from './domain/errors.js';
import type { Viewer } from './domain/messages.js';
import { codePoints, isStorableText } from './domain/validate.js';

export const SEND_SCOPE = 'messages:send';

export interface AuthOptions {
  /** HS256 shared secret. */
  jwtSecret: string | null;
  /** JWKS endpoint for RS256/ES256/EdDSA tokens. */
  jwksUrl: string | null;
  issuer: string | null;
  audience: string | null;
}

export interface Authenticated {
  viewer: Viewer;
  /** Seconds since the epoch; the WebSocket layer closes the socket (4401) when it passes. */
  expiresAt: number | null;
}

export type Authenticator = (authorization: string | null | undefined) => Promise<Authenticated>;

const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/**
 * Verifies `Bearer <JWT>` values. Every failure (missing, malformed, bad signature, `alg: none`,
 * expired, wrong iss/aud, bad `sub`) is an UNAUTHENTICATED AppError. Algorithms are pinned per key
 * type, so a token can never pick its own verification method.
 */
export function createAuthenticator(o: AuthOptions): Authenticator {
  const secret = o.jwtSecret ? new TextEncoder().encode(o.jwtSecret) : null;
  const jwks: JWTVerifyGetKey | null = o.jwksUrl ? createRemoteJWKSet(new URL(o.jwksUrl)) : null;
  const claims = { ...(o.issuer ? { issuer: o.issuer } : {}), ...(o.audience ? { audience: o.audience } : {}) };

  const verify = async (token: string): Promise<JWTPayload> => {
    const header = decodeHeader(token);
    if (secret && header.alg === 'HS256') return (await jwtVerify(token, secret, { ...claims, algorithms: ['HS256'] })).payload;
    if (jwks && ASYMMETRIC.includes(String(header.alg))) return (await jwtVerify(token, jwks, { ...claims, algorithms: ASYMMETRIC })).payload;
    throw unauthenticated('unsupported token algorithm');
  };

  const verified = new VerifiedTokens();

  return async (authorization) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) throw unauthenticated();
    const cached = verified.get(match[1]);
    if (cached) return cached;
    let payload: JWTPayload;
    try {
      payload = await verify(match[1]);
    } catch (err) {
      if (err instanceof AppError) throw err;
      if (err instanceof joseErrors.JWTExpired) throw unauthenticated('token expired');
      throw unauthenticated('invalid token');
    }
    const sub = payload.sub;
    if (typeof sub !== 'string' || sub.length === 0 || codePoints(sub) > 255 || !isStorableText(sub)) {
      throw unauthenticated('token subject must be 1 to 255 characters');
    }
    const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
    const result: Authenticated = { viewer: { id: sub, producer: scopes.includes(SEND_SCOPE) }, expiresAt: typeof payload.exp === 'number' ? payload.exp : null };
    verified.set(match[1], result);
    return result;
  };
}

const CACHE_MAX = 10_000;
const CACHE_SECONDS = 60;

/**
 * Tokens verified recently, keyed by the exact token string: verifying a signature (WebCrypto) costs more
 * than the rest of a small request, and clients send the same token on every request.
 * An entry lives until the token's `exp` and at most 60 s (so a JWKS key rotation or revocation is seen
 * within a minute); only successful verifications are kept; the oldest entries go past 10,000.
 */
class VerifiedTokens {
  private readonly entries = new Map<string, { auth: Authenticated; until: number }>();

  get(token: string): Authenticated | null {
    const entry = this.entries.get(token);
    if (!entry) return null;
    if (entry.until > Date.now()) return entry.auth;
    this.entries.delete(token);
    return null;
  }

  set(token: string, auth: Authenticated): void {
    const ceiling = Date.now() + CACHE_SECONDS * 1000;
    const until = auth.expiresAt === null ? ceiling : Math.min(ceiling, auth.expiresAt * 1000);
    if (this.entries.size >= CACHE_MAX) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(token, { auth, until });
  }
}

function decodeHeader(token: string): { alg?: unknown } {
  const [head] = token.split('.');
  try {
    return JSON.parse(Buffer.from(head, 'base64url').toString('utf8')) as { alg?: unknown };
  } catch {
    throw unauthenticated('invalid token');
  }
}

/** Signs an HS256 token: development tokens, tests and the CLI. */
export async function signToken(secret: string, o: { sub: string; scope?: string; expiresIn?: string | number; issuer?: string; audience?: string }): Promise<string> {
  let jwt = new SignJWT({ ...(o.scope ? { scope: o.scope } : {}) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(o.sub)
    .setIssuedAt()
    .setExpirationTime(o.expiresIn ?? '30d');
  if (o.issuer) jwt = jwt.setIssuer(o.issuer);
  if (o.audience) jwt = jwt.setAudience(o.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}

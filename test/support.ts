import { randomBytes } from 'node:crypto';
import { signToken, SEND_SCOPE } from '../src/auth.js';
import { TEST_SECRET } from './env.js';

/**
 * The small helpers every test file needs: unique ids, waiting on a condition or the clock, and
 * tokens signed with the test secret. One copy here; test files import, never redefine.
 */

/** A unique id (`prefix-<12 hex>`), so tests never share users, keys or prefixes. */
export const uid = (prefix = 'u') => `${prefix}-${randomBytes(6).toString('hex')}`;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface WaitOptions {
  /** Fail after this long (default 15 s: generous on a loaded machine, since a passing wait ends early). */
  timeoutMs?: number;
  /** Poll this often (default 50 ms). */
  everyMs?: number;
  /** Named in the failure message. */
  what?: string;
}

/** Polls `check` until it holds; throws once the deadline passes. For waiting on the world, not for asserting speed. */
export async function waitFor(check: () => boolean | Promise<boolean>, o: WaitOptions = {}): Promise<void> {
  const { timeoutMs = 15_000, everyMs = 50, what = 'condition' } = o;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

/**
 * Waits until the clock has passed `at` (plus `marginMs`): the services run on this machine, so
 * PostgreSQL's now() and Redis' TIME have passed it too.
 */
export async function waitUntilPast(at: Date | number, marginMs = 100): Promise<void> {
  const ms = (typeof at === 'number' ? at : at.getTime()) + marginMs;
  await waitFor(() => Date.now() > ms, { timeoutMs: Math.max(0, ms - Date.now()) + 15_000, everyMs: 20, what: `clock past ${new Date(ms).toISOString()}` });
}

/** A time `ms` from now, for expiries. */
export const inMs = (ms: number) => new Date(Date.now() + ms);

export interface TokenOptions {
  /** A jose duration ('1h', '5s') or an absolute `exp` in seconds since the epoch; default '1h'. */
  expiresIn?: string | number;
  /** Sign with this secret instead of the test one (a token the server must refuse). */
  secret?: string;
}

/** A user token for `sub` (a unique one unless given). */
export async function userToken(sub = uid('user'), o: TokenOptions = {}): Promise<{ sub: string; token: string }> {
  return { sub, token: await signToken(o.secret ?? TEST_SECRET, { sub, expiresIn: o.expiresIn ?? '1h' }) };
}

/** A producer token (scope messages:send). */
export async function producerToken(sub = uid('producer'), o: TokenOptions = {}): Promise<{ sub: string; token: string }> {
  return { sub, token: await signToken(o.secret ?? TEST_SECRET, { sub, scope: SEND_SCOPE, expiresIn: o.expiresIn ?? '1h' }) };
}

/** A token that expired ten seconds ago. */
export const expiredToken = async (sub = uid('user')) => (await userToken(sub, { expiresIn: Math.floor(Date.now() / 1000) - 10 })).token;

/** When a token expires (its `exp`), in milliseconds since the epoch. */
export function expiryOf(token: string): number {
  const { exp } = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as { exp?: number };
  if (typeof exp !== 'number') throw new Error('token has no exp');
  return exp * 1000;
}

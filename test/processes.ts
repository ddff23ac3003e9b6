import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep } from './support.js';

export const repoRoot = path.resolve(fileURLToPath(new URL('..', import.meta.url)));

export interface Ended {
  /** null when it was still running after the time limit (and was killed). */
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node --import tsx <script> [...args]` from the repository root with exactly `env` (plus
 * PATH/HOME) and returns how it ended. A process still running after `timeoutMs` is killed: a server
 * that accepted a bad setting keeps running, which is a failure, not a hang.
 */
export function runSource(script: string, args: string[], env: Record<string, string>, timeoutMs = 90_000): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface Running {
  /** Resolves with the first line of stdout or stderr matching `pattern` (its match); rejects when the process ends first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** How many lines of stdout and stderr so far match `pattern`. */
  count(pattern: RegExp): number;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `node --import tsx <script> [...args]` like runSource, for a process that keeps running (a server). */
export function startSource(script: string, args: string[], env: Record<string, string>): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  for (const stream of [child.stdout, child.stderr]) stream.on('data', (d) => (output += d));
  return {
    async waitFor(pattern, timeoutMs = 90_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = output.split('\n').map((line) => pattern.exec(line)).find(Boolean);
        if (match) return match;
        if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode} before ${pattern}:\n${output}`);
        if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${output}`);
        await sleep(50);
      }
    },
    count(pattern) {
      return output.split('\n').filter((line) => pattern.test(line)).length;
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

export interface ServerProcess extends Running {
  /** The server's base URL (http://127.0.0.1:<port>). */
  url: string;
}

/** A real server process (src/main.ts) on `storage`, logging at debug level (the periodic jobs log their rounds there). */
export async function startServerProcess(storage: Record<string, string>, testSecret: string): Promise<ServerProcess> {
  const env = { ...storage, NODE_ENV: 'test', AUTH_JWT_SECRET: testSecret, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'debug' };
  const running = startSource('src/main.ts', [], env);
  try {
    return Object.assign(running, { url: (await running.waitFor(/listening on (http:\S+)\/graphql/))[1] });
  } catch (err) {
    await running.stop('SIGKILL');
    throw err;
  }
}

/**
 * W8 (live subscriptions) lives in bench/live.ts: it runs as a child process (`npx tsx bench/live.ts`,
 * with `--quick` in a quick run) and its printed table is included.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { onCleanup } from '../lib/cleanup.js';
import type { BenchContext } from '../lib/context.js';

const LIVE = fileURLToPath(new URL('../live.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface LiveOutcome {
  status: 'ok' | 'failed';
  exitCode: number | null;
  /** The markdown table lines it printed (or its whole output when it printed no table). */
  table: string;
  output: string;
}

export async function w8(ctx: BenchContext): Promise<LiveOutcome> {
  const limitMs = (ctx.opts.quick ? 5 : 30) * 60_000;
  const child = spawn('npx', ['tsx', LIVE, ...(ctx.opts.quick ? ['--quick'] : [])], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  // Stop only this child (by its pid) if the run is interrupted or too slow.
  const stop = onCleanup('bench/live.ts', async () => {
    if (child.exitCode === null && child.pid) child.kill('SIGTERM');
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    process.stdout.write(chunk);
  });
  child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  const timer = setTimeout(() => {
    output += `\n(bench/live.ts stopped after ${limitMs / 60_000} minutes)\n`;
    child.kill('SIGTERM');
  }, limitMs);
  const exitCode = await new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', () => resolve(null));
  });
  clearTimeout(timer);
  await stop();
  const tableLines = output.split('\n').filter((l) => l.trimStart().startsWith('|'));
  return { status: exitCode === 0 ? 'ok' : 'failed', exitCode, table: tableLines.join('\n'), output };
}

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { onCleanup } from './cleanup.js';

/**
 * A webhook endpoint in a process of its own (so its work is not counted as the server's) that answers
 * 200 at once and counts what it received. W14 reads the count and the time of the last arrival.
 */
export interface BenchReceiver {
  url: string;
  /** Webhooks received so far, and when the last one arrived (Date.now() of this machine). */
  count(): Promise<{ count: number; lastAt: number }>;
  close(): Promise<void>;
  /** The receiver process's CPU time so far (user + system, ms). */
  cpuMs(): number;
}

const SERVER = `
const http = require('node:http');
let count = 0, lastAt = 0;
http.createServer((req, res) => {
  if (req.method === 'GET') return res.end(JSON.stringify({ count, lastAt }));
  req.resume();
  req.on('end', () => { count++; lastAt = Date.now(); res.writeHead(200).end(); });
}).listen(0, '127.0.0.1', function () { console.log(this.address().port); });
`;

export async function startBenchReceiver(): Promise<BenchReceiver> {
  const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const stop = onCleanup('webhook receiver', async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
  });
  const port = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the webhook receiver exited with ${code}`)));
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    url: `${base}/hooks`,
    count: async () => (await (await fetch(base)).json()) as { count: number; lastAt: number },
    close: stop,
    cpuMs: () => {
      const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return (Number(f[11]) + Number(f[12])) * 10;
    },
  };
}

/**
 * The server process of bench/live.ts: `node --expose-gc --import tsx bench/live-server.ts`, configured
 * by its environment. Sends { port } over IPC once listening, answers { type: 'stats' } with its
 * live-delivery counters, and { type: 'measure' } with its memory after a full garbage collection too.
 */
import '../src/process-tuning.js'; // as main.ts does
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';

const app = await createApp(loadConfig(process.env), { logger: pino({ level: 'warn' }) });
app.server.on('error', (err) => {
  console.error(err);
  process.exit(1);
});
await new Promise<void>((resolve) => app.server.listen(0, '127.0.0.1', resolve));
process.send?.({ type: 'ready', port: (app.server.address() as AddressInfo).port });

const gc = (globalThis as { gc?: () => void }).gc;
process.on('message', (m: { type: string }) => {
  if (m.type === 'stats') process.send?.({ type: 'stats', stats: app.realtime.live.stats(), cpuMs: process.cpuUsage().user / 1000 + process.cpuUsage().system / 1000 });
  if (m.type !== 'measure') return;
  for (let i = 0; i < 3; i++) gc?.();
  const mem = process.memoryUsage();
  process.send?.({ type: 'measured', heapUsed: mem.heapUsed, rss: mem.rss, external: mem.external, stats: app.realtime.live.stats(), gc: Boolean(gc) });
});

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await app.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('disconnect', () => void stop());

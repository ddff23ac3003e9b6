// A second server process for the multi-process tests: `node --import tsx test/live/server-process.ts`,
// configured by its environment; prints "listening <port>" once ready and closes cleanly on SIGTERM.
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';

const config = loadConfig(process.env);
const app = await createApp(config, { embeddedInMemory: true });
app.server.on('error', (err) => {
  console.error(err);
  process.exit(1);
});
// PORT (0 unless the test sets one: a restart on the same address) as the real server would.
await new Promise<void>((resolve) => app.server.listen(config.port, '127.0.0.1', resolve));
console.log(`listening ${(app.server.address() as AddressInfo).port}`);

const stop = async () => {
  await app.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
// The parent went away without stopping us (a killed test run): do not linger.
process.stdin.on('end', () => void stop());
process.stdin.resume();

import { createApp, type App } from '../app.js';
import { loadConfig, type Config } from '../config.js';
import { reportStartupFailure } from '../startup-errors.js';

/** `stored-messages cleanup`: reclaims expired messages now and prints how many went. */
export async function cleanup(env: Record<string, string | undefined>): Promise<number> {
  let config: Config | null = null;
  let app: App | null = null;
  try {
    config = loadConfig(env, { needsAuth: false });
    app = await createApp(config);
    console.log(`reclaimed ${await app.cleanup()} expired deliveries and messages`);
    return 0;
  } catch (err) {
    reportStartupFailure(err, config);
    return 1;
  } finally {
    await app?.close();
  }
}

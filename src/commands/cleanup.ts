import { withApp } from './produce.js';

/** `stored-messages cleanup`: reclaims expired messages now and prints how many went. */
export function cleanup(env: Record<string, string | undefined>): Promise<number> {
  return withApp(env, async (app) => {
    console.log(`reclaimed ${await app.cleanup()} expired deliveries and messages`);
  });
}

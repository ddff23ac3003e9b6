/**
 * The demo page (GET / in development, or with DEMO_PAGE=true): the web inbox in a navigation bar,
 * signed in as `demo-user` through GET /demo/tokens, and a producer panel that sends to that user,
 * broadcasts, or flashes, so the element can be tried without writing a client.
 */
export function demoPage(o: { canSign: boolean }): string {
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>stored-messages: web inbox demo</title>
    <style>
      body { margin: 0; font: 15px/1.5 system-ui, sans-serif; color: #1f2328; background: #f6f8fa; }
      body.dark { color: #e6edf3; background: #0d1117; }
      nav { display: flex; align-items: center; justify-content: space-between; padding: 10px 20px; background: #24292f; color: #fff; }
      main { max-width: 640px; margin: 32px auto; padding: 0 20px; }
      fieldset { border: 1px solid #d1d9e0; border-radius: 8px; padding: 16px; display: grid; gap: 10px; }
      label { display: grid; gap: 4px; }
      input, select, button { font: inherit; padding: 6px 8px; }
      .buttons { display: flex; gap: 8px; flex-wrap: wrap; }
      code { background: rgba(127, 127, 127, 0.15); padding: 1px 4px; border-radius: 4px; }
    </style>
    <script type="module" src="/inbox.js"></script>
  </head>
  <body>
    <nav>
      <strong>stored-messages</strong>
      <stored-messages-inbox></stored-messages-inbox>
    </nav>
    <main>
      <h1>Web inbox demo</h1>
      <p>Signed in as <code>demo-user</code>. Send messages below and watch the bell; open another tab to see both stay in step.</p>
      ${o.canSign ? '' : '<p role="alert">This server verifies tokens with AUTH_JWKS_URL only: the demo page needs AUTH_JWT_SECRET to sign its tokens.</p>'}
      <form id="producer">
        <fieldset>
          <legend>Producer</legend>
          <label>Text <input name="text" required value="Your report is ready" /></label>
          <label>Level
            <select name="level"><option>INFO</option><option>SUCCESS</option><option>WARNING</option><option>ERROR</option></select>
          </label>
          <label>Link (optional) <input name="url" type="url" placeholder="https://example.com/reports/42" /></label>
          <label>Category (optional) <input name="category" pattern="[a-z0-9._-]{1,64}" placeholder="reports" /></label>
          <div class="buttons">
            <button type="submit" value="send">Send to me</button>
            <button type="submit" value="broadcast">Broadcast</button>
            <button type="submit" value="flash">Flash</button>
            <label style="display:flex;align-items:center;gap:6px"><input type="checkbox" id="dark" /> Dark theme</label>
          </div>
          <output id="result" aria-live="polite"></output>
        </fieldset>
      </form>
    </main>
    <script type="module">
      const inbox = document.querySelector('stored-messages-inbox');
      let tokens = null;
      let fetchedAt = 0;
      // The tokens live 15 minutes: fetch new ones well before.
      async function fresh() {
        if (!tokens || Date.now() - fetchedAt > 10 * 60 * 1000) {
          const response = await fetch('/demo/tokens');
          if (!response.ok) throw new Error(await response.text());
          tokens = await response.json();
          fetchedAt = Date.now();
        }
        return tokens;
      }
      inbox.getToken = async () => (await fresh()).user;

      async function gql(token, query, input) {
        const response = await fetch('/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token },
          body: JSON.stringify({ query, variables: { input } }),
        });
        const result = await response.json();
        if (result.errors) throw new Error(result.errors.map((e) => e.message).join('; '));
        return result.data;
      }
      const SEND = 'mutation Send($input: AddMessageForInput!) { addMessageFor(input: $input) { recipientCount } }';
      const BROADCAST = 'mutation Broadcast($input: BroadcastMessageInput!) { broadcastMessage(input: $input) { recipientCount } }';
      const FLASH = 'mutation Flash($input: AddMessageInput!) { addMessage(input: $input) { stored } }';

      document.getElementById('producer').addEventListener('submit', async (event) => {
        event.preventDefault();
        const form = new FormData(event.target);
        const input = { text: form.get('text'), level: form.get('level') };
        const result = document.getElementById('result');
        try {
          const { user, service } = await fresh();
          const kind = event.submitter.value;
          if (!service && kind !== 'flash') throw new Error('send and broadcast need a producer token, which the demo page hands out in development only');
          const extra = { ...(form.get('url') ? { url: form.get('url') } : {}), ...(form.get('category') ? { category: form.get('category') } : {}) };
          if (kind === 'send') await gql(service, SEND, { ...input, ...extra, userIds: ['demo-user'] });
          if (kind === 'broadcast') await gql(service, BROADCAST, { ...input, ...extra });
          // INFO and the other plain levels are not in the default STORE_LEVELS: addMessage makes them flash messages.
          if (kind === 'flash') await gql(user, FLASH, input);
          result.textContent = 'Sent (' + kind + ')';
        } catch (error) {
          result.textContent = String(error.message ?? error);
        }
      });
      document.getElementById('dark').addEventListener('change', (event) => {
        inbox.theme = event.target.checked ? 'dark' : 'light';
        document.body.classList.toggle('dark', event.target.checked);
      });
    </script>
  </body>
</html>
`;
}

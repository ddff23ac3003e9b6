// stored-messages inside a plain node:http server: GraphQL (HTTP, SSE and WebSocket) on /graphql beside the application's own routes.
import { createServer, type IncomingMessage } from 'node:http';
import { AppError, createStoredMessages } from 'stored-messages';

const stored = await createStoredMessages({
  databaseUrl: process.env.DATABASE_URL,
  authJwtSecret: process.env.AUTH_JWT_SECRET,
  logLevel: 'warn',
});

async function jsonBody(req: IncomingMessage): Promise<{ userId: string; text: string }> {
  let body = '';
  for await (const chunk of req) body += chunk;
  return JSON.parse(body);
}

const server = createServer(async (req, res) => {
  // The application's own route: it notifies a user through the use cases, with the addMessageFor mutation's rules.
  if (req.method === 'POST' && req.url === '/notify') {
    try {
      const { userId, text } = await jsonBody(req);
      const { message, recipientCount } = await stored.messages.addMessageFor({ userIds: [userId], level: 'STORED_INFO', text });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: message.id, recipientCount }));
    } catch (err) {
      const status = err instanceof AppError ? 400 : 500;
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: err instanceof AppError ? err.message : 'internal error' }));
    }
    return;
  }
  // Everything else: GraphQL on /graphql, /health and /ready, 404 otherwise.
  stored.handler(req, res);
});
stored.attachWebSocket(server);

server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : ''}/graphql`);
});

process.once('SIGTERM', async () => {
  await stored.close();
  server.close();
});

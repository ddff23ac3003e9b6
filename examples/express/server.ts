// stored-messages inside an Express 5 application: GraphQL (HTTP, SSE and WebSocket) mounted on /graphql beside the application's own routes.
import express from 'express';
import { AppError, createStoredMessages } from 'stored-messages';

const stored = await createStoredMessages({
  databaseUrl: process.env.DATABASE_URL,
  authJwtSecret: process.env.AUTH_JWT_SECRET,
  logLevel: 'warn',
});

const app = express();

// The application's own route: it notifies a user through the use cases, with the addMessageFor mutation's rules.
app.post('/notify', express.json(), async (req, res) => {
  const { userId, text } = req.body as { userId: string; text: string };
  const { message, recipientCount } = await stored.messages.addMessageFor({ userIds: [userId], level: 'STORED_INFO', text });
  res.json({ id: message.id, recipientCount });
});

// Yoga reads the mounted path from req.originalUrl: mount it at its own endpoint.
app.use(stored.handler.graphqlEndpoint, (req, res) => stored.handler(req, res));

// Refused input (AppError: BAD_USER_INPUT...) is the caller's to fix; anything else is ours.
app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
  res.status(err instanceof AppError ? 400 : 500).json({ error: err instanceof AppError ? err.message : 'internal error' });
});

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : ''}/graphql`);
});
stored.attachWebSocket(server);

process.once('SIGTERM', async () => {
  await stored.close();
  server.close();
});

// stored-messages/client: what a browser (or Node) front end imports. Nothing here may import the server.
export * from './generated.js';
export { createRequest, GraphQLRequestError, type GraphQLErrorShape, type RequestOptions } from './request.js';
export { CLOSE_TOKEN_EXPIRED, CLOSE_TOKEN_INVALID, createInboxClient, watchInbox, type InboxEvent, type InboxSource, type WatchInboxOptions } from './watch-inbox.js';

import { IncomingMessage } from 'node:http';
import { createGraphQLError, type Plugin } from 'graphql-yoga';

/** The largest request body (long id lists go as variables; 10,000 ids fit with room). */
export const MAX_REQUEST_BODY_BYTES = 4 * 1024 * 1024;

const CONTENT_LENGTH = /^\d+$/;

const tooLarge = () =>
  createGraphQLError('Request body too large', { extensions: { http: { status: 413 }, code: 'REQUEST_ENTITY_TOO_LARGE' } });
const badLength = () => createGraphQLError('Content-Length header is invalid.', { extensions: { http: { status: 400 }, code: 'BAD_REQUEST' } });

/**
 * Yoga's request body limit (its `maxRequestBodySize`, switched off in createApp), with the same
 * answers: 400 for a malformed Content-Length, 413 when it exceeds `limit`, 413 when a body without
 * one streams past it. The difference is cost: Yoga pipes every body through a TransformStream to
 * count its bytes (a stream pipeline, an AbortController and an AbortError per request), a large
 * share of a small operation's cost (docs/performance.md).
 * A body that came through Node's HTTP server with a Content-Length cannot be longer than that
 * header (Node's parser frames the body by it, and refuses a request that also says chunked), so
 * only the others are counted as they stream: chunked bodies, and Requests that did not come through
 * node:http (`yoga.fetch`).
 */
export function limitRequestBody(limit = MAX_REQUEST_BODY_BYTES): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI, serverContext }) {
      const declared = request.headers.get('content-length');
      if (declared !== null) {
        if (!CONTENT_LENGTH.test(declared)) throw badLength();
        if (Number(declared) > limit) throw tooLarge();
        const framedByNode = (serverContext as { req?: unknown }).req instanceof IncomingMessage;
        if (framedByNode) return;
      }
      if (!requestParser || !request.body) return;
      const parse = requestParser;
      setRequestParser((req) => parse(counted(req, limit, fetchAPI)));
    },
  };
}

/** The request with its body counted as it streams; past `limit` the body errors with 413 (Yoga's limitRequestBodySize). */
function counted(request: Request, limit: number, fetchAPI: { Request: typeof Request; TransformStream: typeof TransformStream }): Request {
  const body = request.body;
  if (!body) return request;
  // A native body (a Request made outside whatwg-node) only pipes through the native TransformStream.
  const Transform = body instanceof ReadableStream ? globalThis.TransformStream : fetchAPI.TransformStream;
  let bytes = 0;
  const limited = body.pipeThrough(
    new Transform<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        bytes += chunk.byteLength;
        if (bytes > limit) return controller.error(tooLarge());
        controller.enqueue(chunk);
      },
    }),
  );
  return new fetchAPI.Request(request.url, { method: request.method, headers: request.headers, signal: request.signal, body: limited, duplex: 'half' } as RequestInit);
}

import { authFor, type FuzzRequest, type Tokens } from './fuzz-request.js';
import type { Rng } from './fuzz-values.js';

/**
 * Malformed HTTP: methods, content types, GET parameters, and framing that only a raw socket can
 * send (Content-Length that lies or is not a number). Bodies here never send a message, so every
 * refusal must change nothing.
 */

const QUERY = '{ unreadCount }';
const BODY = JSON.stringify({ query: QUERY });

const CONTENT_TYPES = [
  'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'multipart/form-data', 'application/graphql',
  'application/json; charset=latin1', 'application/json; charset=utf-16', 'application/jsonx', '', 'application/json, text/html', '*/*',
  'application/graphql-response+json', 'application/json;;;', 'APPLICATION/JSON',
];

const GET_PARAMS = [
  '', 'query=', `query=${encodeURIComponent(QUERY)}&query=${encodeURIComponent('{ x }')}`, `query=${encodeURIComponent(QUERY)}&variables=%7B`,
  `query=${encodeURIComponent(QUERY)}&variables=null`, `query=${encodeURIComponent(QUERY)}&variables=%5B1%5D`, `query=${encodeURIComponent(QUERY)}&variables=%22s%22`,
  `query=${encodeURIComponent(QUERY)}&variables=%7B%22a%22%3A`, `query=${encodeURIComponent(QUERY)}&variables=${encodeURIComponent('{"a":1}')}`,
  `query=${encodeURIComponent(QUERY)}&extensions=%7B`, `query=${encodeURIComponent(QUERY)}&extensions=%5B%5D`, `query=${encodeURIComponent(QUERY)}&operationName=%00`,
  'query=%ff%fe', 'query=%', 'query=%E0%A4%A', `query=${encodeURIComponent('mutation { markAllRead { count } }')}`, 'variables={}', '&&&=&=',
  `query=${encodeURIComponent('subscription { messageAdded { id } }')}`, `query=${encodeURIComponent(QUERY)}&query=`, 'query[]=x', 'query[a]=b',
];

/** A raw HTTP/1.1 request with `Connection: close`, so the server ends the socket after answering. */
function raw(head: string[], body: Buffer | string): Buffer {
  return Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\nConnection: close\r\n\r\n`, 'latin1'), Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8')]);
}

export function httpCase(r: Rng, tokens: Tokens): FuzzRequest {
  const auth = authFor(r, tokens, false);
  const base = { producer: false };
  const authLines = Object.entries(auth).map(([k, v]) => `${k}: ${v}`);
  switch (r.int(6)) {
    case 0: {
      const method = r.pick(['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND']);
      return { ...base, label: `method ${method}`, method, path: '/graphql', headers: { ...auth, 'content-type': 'application/json' }, body: ['HEAD', 'TRACE'].includes(method) ? undefined : Buffer.from(BODY) };
    }
    case 1: {
      const type = r.pick(CONTENT_TYPES);
      const body = type.startsWith('application/x-www') ? `query=${encodeURIComponent(QUERY)}` : type === 'application/graphql' ? QUERY : BODY;
      return { ...base, label: `content-type ${JSON.stringify(type)}`, method: 'POST', path: '/graphql', headers: { ...auth, ...(type ? { 'content-type': type } : {}) }, body: Buffer.from(body) };
    }
    case 2: {
      const params = r.pick(GET_PARAMS);
      const accept = r.pick(['application/json', 'text/html', 'text/event-stream', '*/*', 'image/png']);
      // An event stream may rightly stay open (a subscription): read it for a moment, as for SSE.
      return { ...base, label: `GET ?${params.slice(0, 80)}`, method: 'GET', path: `/graphql?${params}`, headers: { ...auth, accept }, stream: accept === 'text/event-stream' };
    }
    case 3: {
      const path = r.pick(['/graphql/', '/GRAPHQL', '/graphql/../graphql', '//graphql', '/graphql%00', '/health?x=%ff', '/ready/', '/nope', '/graphql;x', `/graphql?${'a'.repeat(9_000)}`]);
      return { ...base, label: `path ${path.slice(0, 60)}`, method: r.pick(['GET', 'POST']), path, headers: { ...auth, 'content-type': 'application/json' }, body: Buffer.from(BODY) };
    }
    case 4: {
      // Content-Length that is not a length, or disagrees with the body (the rest parses as a next request, or the body ends early).
      const length = r.pick(['abc', '-1', '1e3', ' 26', '0x1a', '99999999999999999999', String(BODY.length + 10), '3', `${BODY.length}, ${BODY.length}`]);
      const head = ['POST /graphql HTTP/1.1', 'Host: localhost', 'Content-Type: application/json', ...authLines, `Content-Length: ${length}`];
      return { ...base, label: `Content-Length ${length}`, method: 'POST', path: '/graphql', headers: {}, raw: raw(head, BODY) };
    }
    default: {
      const variant = r.int(5);
      const heads = [
        ['POST /graphql HTTP/1.1', 'Host: localhost', 'Content-Type: application/json', ...authLines, `Content-Length: ${BODY.length}`, `Content-Length: ${BODY.length + 1}`],
        ['POST /graphql HTTP/1.1', 'Host: localhost', 'Content-Type: application/json', ...authLines, 'Transfer-Encoding: chunked'],
        ['POST /graphql HTTP/1.0', 'Content-Type: application/json', ...authLines],
        ['GET /graphql?query=%7B%20unreadCount%20%7D HTTP/1.1', 'Host: localhost', ...authLines, 'X-Request-Id: \u00ff\u00fe'],
        ['POST /graphql HTTP/1.1', 'Host: localhost', 'Content-Type: application/json', ...authLines, `Content-Length: ${BODY.length}`, 'Expect: 100-continue'],
      ];
      const body = variant === 1 ? r.pick([`zz\r\n${BODY}\r\n0\r\n\r\n`, `${BODY.length.toString(16)}\r\n${BODY}\r\n`, `5\r\n${BODY}\r\n0\r\n\r\n`]) : BODY;
      return { ...base, label: `framing ${variant}`, method: 'POST', path: '/graphql', headers: {}, raw: raw(heads[variant], body) };
    }
  }
}

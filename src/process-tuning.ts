import v8 from 'node:v8';

/**
 * V8 settings for a process that serves requests. Imported first by main.ts (and by the bench,
 * which measures the server in-process); an application that embeds the server can import it too,
 * or start node with the same flag.
 *
 * `--no-allocation-site-pretenuring`. V8 watches each allocation site and, when most of its
 * objects survive a young-generation GC, allocates that site's objects straight in the old
 * generation from then on, for good. The object each HTTP request's context is built on (the
 * `{ req, res, waitUntil }` literal in @whatwg-node/server, which Yoga and Envelop then extend)
 * passes that test while the process warms up: its young generation is small at first, so GCs
 * come every few milliseconds and catch most requests in flight. From then on every context is
 * born old, and a dead old object still keeps what it points to alive through young GCs (they do
 * not trace the old generation): the request, its headers, the response and the parsed body are
 * copied and promoted, to be freed only by full GCs (docs/performance.md has the measurements).
 */
v8.setFlagsFromString('--no-allocation-site-pretenuring');

import http from 'node:http';
import net from 'node:net';
import type { FuzzRequest } from './fuzz-request.js';

/**
 * Sends one fuzz case over real HTTP (node:http, which sends any method, or a raw socket) and
 * reports what came back. Nothing waits forever: past `timeoutMs` the case is a hang.
 */

export interface Outcome {
  /** Every HTTP status seen (a raw socket may carry several responses). */
  statuses: number[];
  text: string;
  hang: boolean;
  /** The connection failed before any answer (reset, refused). */
  error: string | null;
}

/** How long an SSE stream is read before the client hangs up (it may legitimately stay open). */
const STREAM_READ_MS = 400;

export function send(baseUrl: string, req: FuzzRequest, timeoutMs: number): Promise<Outcome> {
  return req.raw ? sendRaw(baseUrl, req.raw, timeoutMs) : sendHttp(baseUrl, req, timeoutMs);
}

function sendHttp(baseUrl: string, req: FuzzRequest, timeoutMs: number): Promise<Outcome> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve) => {
    let text = '';
    let status = 0;
    let done = false;
    const finish = (o: Partial<Outcome>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ statuses: status ? [status] : [], text, hang: false, error: null, ...o });
      request.destroy();
    };
    const timer = setTimeout(() => finish({ hang: true }), timeoutMs);
    const headers = { ...req.headers, ...(req.body ? { 'content-length': String(req.body.length) } : {}) };
    const request = http.request({ host: hostname, port, method: req.method, path: req.path, headers }, (res) => {
      status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
        if (req.stream && text.includes('event: complete')) finish({});
      });
      res.on('end', () => finish({}));
      res.on('error', () => finish({}));
      if (req.stream) setTimeout(() => finish({}), STREAM_READ_MS);
    });
    // A reset after the server answered (431 for an oversized request line, as Node ends those) is its answer, not a failure.
    request.on('error', (err) => finish({ error: status ? null : ((err as NodeJS.ErrnoException).code ?? err.message) }));
    request.end(req.body);
  });
}

/** Writes the bytes, half-closes after a moment (so a body promised but never sent ends), reads until the server closes. */
function sendRaw(baseUrl: string, bytes: Buffer, timeoutMs: number): Promise<Outcome> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let done = false;
    const socket = net.connect(Number(port), hostname, () => socket.write(bytes));
    const finish = (o: Partial<Outcome>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(halfClose);
      const text = Buffer.concat(chunks).toString('latin1');
      const statuses = [...text.matchAll(/^HTTP\/1\.[01] (\d{3})/gm)].map((m) => Number(m[1]));
      resolve({ statuses, text, hang: false, error: null, ...o });
      socket.destroy();
    };
    const timer = setTimeout(() => finish({ hang: true }), timeoutMs);
    const halfClose = setTimeout(() => socket.end(), 300);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => finish({}));
    socket.on('close', () => finish({}));
    // A reset after the server answered a malformed request is how Node ends such connections.
    socket.on('error', (err) => finish({ error: chunks.length ? null : ((err as NodeJS.ErrnoException).code ?? err.message) }));
  });
}

/** A result carrying data: something may have run (a refusal carries errors and no data). */
export const carriesData = (text: string) => /"data"\s*:\s*[{[]/.test(text);

/** What is wrong with an outcome, whatever the request: a hang, a 5xx, an unexpected error, a dropped connection. */
export function problems(req: FuzzRequest, o: Outcome): string[] {
  const out: string[] = [];
  if (o.hang) out.push('no answer within the timeout');
  for (const s of o.statuses) if (s >= 500) out.push(`HTTP ${s}`);
  if (o.text.includes('INTERNAL_SERVER_ERROR')) out.push('INTERNAL_SERVER_ERROR in the body');
  if (o.error && !req.raw) out.push(`connection error ${o.error}`);
  if (!o.hang && !o.error && o.statuses.length === 0 && !req.raw) out.push('no HTTP status');
  if (req.pastLimit && !o.hang && (carriesData(o.text) || (req.pastLimit === 'body' && !o.statuses.includes(413)))) out.push(`past the ${req.pastLimit} limit, yet not refused`);
  return out;
}

/**
 * One HTTP request of a smoke check (src/steps/smoke.ts): its status, its latency and the first part of its body, or
 * why no answer came, told apart (refused, no answer in time, reset, host not found, stopped).
 *
 * - node:http(s) directly, like the Prometheus adapter: a smoke check makes a handful of requests, so the client's CPU
 *   matters less than there, but it loads nothing (axios would be imported for a few requests, `fetch` loads undici on
 *   its first call: about 320 ms and 130 ms on the shared 2-core test machine, against nothing for node:http), and
 *   it keeps a URL's `user:password@` as basic auth, where `fetch` refuses such a URL.
 * - A fresh connection per request (no keep-alive): a check sees what a new client sees, and a connection the
 *   previous colour left open cannot answer for the new one.
 * - Redirects are not followed (a 301 is a status to expect or not); the body is read up to `MAX_BODY` bytes.
 */
import http from 'node:http';
import https from 'node:https';
import { formatDuration } from '../core/duration.js';
import { FailedError } from '../core/errors.js';

/** The most of a body kept for the checks (contains, JSON field): a smoke endpoint answers small. */
export const MAX_BODY = 1024 * 1024;

export interface HttpCheckRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string;
  /** The whole exchange, answer included, within this. */
  timeoutMs: number;
  signal: AbortSignal;
}

export type HttpCheckAnswer =
  | { ok: true; status: number; latencyMs: number; body: string; contentType: string }
  | { ok: false; kind: 'refused' | 'timeout' | 'reset' | 'dns' | 'aborted' | 'error'; error: string; latencyMs: number };

/** The check's own wait ran out (caught below and said as a timeout). */
class Timeout extends FailedError {}

export function httpCheck(req: HttpCheckRequest): Promise<HttpCheckAnswer> {
  const started = performance.now();
  const took = () => Math.round(performance.now() - started);
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    return Promise.resolve({ ok: false, kind: 'error', error: 'not a URL', latencyMs: 0 });
  }
  const request = url.protocol === 'https:' ? https.request : http.request;
  const headers: Record<string, string> = { 'user-agent': 'release-cockpit smoke', accept: '*/*', ...req.headers };
  if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
  return new Promise<HttpCheckAnswer>((resolve) => {
    let done = false;
    const settle = (a: HttpCheckAnswer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(a);
    };
    const r = request(url, { method: req.method, headers, agent: false, signal: req.signal }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < MAX_BODY) chunks.push(c);
        size += c.length;
      });
      res.on('error', (e) => settle(failure(e, req, took())));
      res.on('end', () =>
        settle({
          ok: true,
          status: res.statusCode ?? 0,
          latencyMs: took(),
          body: Buffer.concat(chunks).subarray(0, MAX_BODY).toString('utf8'),
          contentType: String(res.headers['content-type'] ?? ''),
        }),
      );
    });
    const timer = setTimeout(() => r.destroy(new Timeout('the check waited its whole timeout')), req.timeoutMs);
    r.on('error', (e) => settle(failure(e, req, took())));
    r.end(req.body);
  });
}

function failure(e: unknown, req: HttpCheckRequest, latencyMs: number): HttpCheckAnswer {
  const err = e as { code?: string; message?: string };
  if (e instanceof Timeout || err.code === 'ETIMEDOUT')
    return { ok: false, kind: 'timeout', error: `no answer within ${formatDuration(req.timeoutMs)}`, latencyMs };
  if (req.signal.aborted || err.code === 'ABORT_ERR') return { ok: false, kind: 'aborted', error: 'stopped', latencyMs };
  if (err.code === 'ECONNREFUSED') return { ok: false, kind: 'refused', error: 'connection refused: nothing listens there', latencyMs };
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE')
    return { ok: false, kind: 'reset', error: 'the connection was closed before an answer', latencyMs };
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return { ok: false, kind: 'dns', error: 'host not found', latencyMs };
  return { ok: false, kind: 'error', error: `${err.code ?? 'error'}: ${err.message ?? String(e)}`, latencyMs };
}

/**
 * One HTTP request of a notification (src/core/notify/delivery.ts says which, and what its answer means): node:http(s)
 * directly, like the smoke checks and Prometheus (nothing to load), a fresh connection each time, the answer's
 * status, body (up to 64 KB) and `Retry-After`, or why no answer came (timeout, refused, reset, host not found).
 * The URL holds a secret: no error message here quotes it.
 */
import http from 'node:http';
import https from 'node:https';
import { formatDuration } from '../core/duration.js';
import type { NotifyHttpAnswer, NotifyHttpRequest } from '../core/notify/delivery.js';

const MAX_BODY = 64 * 1024;

/** Slack allows about one message a second per webhook, Statuspage one request a second per API key. */
export const MIN_SPACING_MS = 1000;
const lastStart = new Map<string, number>();

/**
 * A request no sooner than {@link MIN_SPACING_MS} after the previous one to the same webhook or with the same API
 * key (in this process): a burst of messages is spaced instead of being answered 429.
 */
export async function spacedNotifyRequest(req: NotifyHttpRequest, signal: AbortSignal): Promise<NotifyHttpAnswer> {
  const key = req.headers.authorization ?? req.url;
  const wait = (lastStart.get(key) ?? -Infinity) + MIN_SPACING_MS - performance.now();
  if (wait > 0)
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, wait);
      signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
    });
  if (signal.aborted) return { ok: false, kind: 'aborted', error: 'stopped' };
  lastStart.set(key, performance.now());
  return notifyRequest(req, signal);
}

export function notifyRequest(req: NotifyHttpRequest, signal: AbortSignal): Promise<NotifyHttpAnswer> {
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    return Promise.resolve({ ok: false, kind: 'error', error: 'the configured URL is not a URL' });
  }
  const request = url.protocol === 'https:' ? https.request : http.request;
  const headers: Record<string, string> = { 'user-agent': 'release-cockpit notify', ...req.headers };
  if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
  return new Promise<NotifyHttpAnswer>((resolve) => {
    let done = false;
    let timedOut = false;
    const settle = (a: NotifyHttpAnswer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(a);
    };
    const r = request(url, { method: req.method, headers, agent: false, signal }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < MAX_BODY) chunks.push(c);
        size += c.length;
      });
      res.on('error', (e) => settle(failure(e, timedOut, signal, req.timeoutMs)));
      res.on('end', () => {
        const retryAfter = res.headers['retry-after'];
        settle({
          ok: true,
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).subarray(0, MAX_BODY).toString('utf8'),
          retryAfter: typeof retryAfter === 'string' ? retryAfter : null,
        });
      });
    });
    const timer = setTimeout(() => {
      timedOut = true;
      r.destroy();
    }, req.timeoutMs);
    r.on('error', (e) => settle(failure(e, timedOut, signal, req.timeoutMs)));
    r.end(req.body);
  });
}

function failure(e: unknown, timedOut: boolean, signal: AbortSignal, timeoutMs: number): NotifyHttpAnswer {
  const code = (e as { code?: string }).code;
  if (timedOut) return { ok: false, kind: 'timeout', error: `no answer within ${formatDuration(timeoutMs)}` };
  if (signal.aborted || code === 'ABORT_ERR') return { ok: false, kind: 'aborted', error: 'stopped' };
  if (code === 'ECONNREFUSED') return { ok: false, kind: 'refused', error: 'connection refused' };
  if (code === 'ECONNRESET' || code === 'EPIPE') return { ok: false, kind: 'reset', error: 'the connection was closed before an answer' };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { ok: false, kind: 'dns', error: 'host not found' };
  // Node's messages name the host at most, never the path; the code alone is safer still.
  return { ok: false, kind: 'error', error: `request failed (${code ?? 'error'})` };
}

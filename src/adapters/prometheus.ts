/**
 * The Prometheus HTTP API (instant queries), for the post-deploy watch.
 *
 * - POST with a form body (`application/x-www-form-urlencoded`), so long PromQL never meets a URL length limit.
 * - The server-side `timeout=` is sent, and the client waits a little longer, so a slow query ends as Prometheus's
 *   own `timeout` error (with its message) rather than as a cut connection.
 * - Every outcome is told apart, because the watch must never show missing data as OK: a value, no data (an empty
 *   vector: no series matched, or all were stale), a query error (HTTP 400/422/503 with `errorType`/`error`), and
 *   Prometheus unreachable (connection refused, timeout, a proxy's non-JSON answer).
 * - Values stay strings until classified: Prometheus sends "NaN", "+Inf" and "-Inf" as strings.
 * - Keep-alive connections: a one-hour watch at a 1 s interval sends tens of thousands of queries.
 * - node:http(s) directly: a poll's CPU is mostly the HTTP client's, and this costs half of what axios did and a
 *   third of Node's `fetch` (scripts/bench/watch.ts measures both beside the watch). Like axios, a URL's
 *   `user:password@` is sent as basic auth (`fetch` refuses such a URL).
 */
import { setMaxListeners } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import zlib from 'node:zlib';
import { FailedError } from '../core/errors.js';
import type { PrometheusPort, QueryOutcome } from '../core/watch/run.js';

export interface PrometheusOptions {
  url: string;
  /** Server-side query timeout (ms); the HTTP request waits 2 s longer. */
  timeoutMs: number;
  /** Sent with every query: custom headers and Authorization (built from the config by prometheusHeaders). */
  headers?: Record<string, string>;
}

export type { QueryOutcome };

export interface PrometheusClient extends PrometheusPort {
  close(): void;
}

interface ApiBody {
  status?: string;
  data?: { resultType?: string; result?: unknown };
  errorType?: string;
  error?: string;
  warnings?: string[];
  infos?: string[];
}

function valueOf(data: ApiBody['data']): { raw: string | undefined; series: number } | { error: string } {
  const result = data?.result;
  switch (data?.resultType) {
    case 'vector': {
      const list = Array.isArray(result) ? (result as Array<{ value?: [number, string] }>) : [];
      return { raw: list[0]?.value?.[1], series: list.length };
    }
    case 'scalar':
      return { raw: Array.isArray(result) ? String(result[1]) : undefined, series: 1 };
    default:
      return {
        error: `the query gives a ${data?.resultType ?? 'missing'} result; a watch signal must give one number (an instant vector of one series, or a scalar)`,
      };
  }
}

function parseBody(text: string): ApiBody | null {
  try {
    const body: unknown = JSON.parse(text);
    return body && typeof body === 'object' ? (body as ApiBody) : null;
  } catch {
    return null;
  }
}

/** The answer's text; a compressed one (a proxy that ignores `Accept-Encoding: identity`) is inflated. */
function readText(res: http.IncomingMessage, chunks: Buffer[]): string {
  const raw = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  switch (res.headers['content-encoding']) {
    case 'gzip':
    case 'x-gzip':
      return zlib.gunzipSync(raw).toString('utf8');
    case 'deflate':
      return zlib.inflateSync(raw).toString('utf8');
    case 'br':
      return zlib.brotliDecompressSync(raw).toString('utf8');
    default:
      return raw.toString('utf8');
  }
}

/** The client's own wait ran out (told apart from the server's timeout); caught below and said as unreachable. */
class Timeout extends FailedError {}

export function prometheusClient(opts: PrometheusOptions): PrometheusClient {
  const base = opts.url.replace(/\/+$/, '');
  const endpoint = new URL(`${base}/api/v1/query`);
  const secure = endpoint.protocol === 'https:';
  const waitMs = opts.timeoutMs + 2000;
  // Header names are case-insensitive: the configured ones first, then these (which win).
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(opts.headers ?? {})) headers[name.toLowerCase()] = value;
  headers['accept'] = 'application/json';
  // Uncompressed: a watch's answers are a few hundred bytes, and inflating each cost more CPU than the rest of the
  // request (a third of a poll's CPU in the benchmark).
  headers['accept-encoding'] = 'identity';
  headers['content-type'] = 'application/x-www-form-urlencoded;charset=utf-8';
  const agent = secure ? new https.Agent({ keepAlive: true, maxSockets: 16 }) : new http.Agent({ keepAlive: true, maxSockets: 16 });
  const request = secure ? https.request : http.request;
  const widened = new WeakSet<AbortSignal>();
  const serverTimeout = `${Math.max(1, Math.round(opts.timeoutMs / 1000))}s`;

  /** One POST: its status and text. Redirects are not followed: credentials are not sent on to another host. */
  const post = (body: string, signal: AbortSignal | undefined) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        endpoint,
        { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, signal },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            try {
              resolve({ status: res.statusCode ?? 0, text: readText(res, chunks) });
            } catch (e) {
              reject(e as Error);
            }
          });
        },
      );
      // The whole exchange, answer included, within waitMs.
      const timer = setTimeout(() => req.destroy(new Timeout("the client's wait ran out")), waitMs);
      req.on('close', () => clearTimeout(timer));
      req.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      req.end(body);
    });

  return {
    url: base,
    async query(query, timeSec, signal) {
      // One stop signal serves every query of a watch (several at once, each with its abort listener).
      if (signal && !widened.has(signal)) {
        setMaxListeners(0, signal);
        widened.add(signal);
      }
      const started = performance.now();
      const took = () => performance.now() - started;
      const form = new URLSearchParams({ query, time: timeSec.toFixed(3), timeout: serverTimeout }).toString();
      let status: number;
      let text: string;
      try {
        ({ status, text } = await post(form, signal));
      } catch (e) {
        const err = e as { code?: string; message?: string };
        const why =
          e instanceof Timeout || err.code === 'ETIMEDOUT'
            ? `no answer within ${Math.round(waitMs / 1000)} s`
            : signal?.aborted || err.code === 'ABORT_ERR'
              ? 'cancelled'
              : err.code === 'ECONNREFUSED'
                ? `connection refused (${base})`
                : err.code === 'ECONNRESET'
                  ? `connection reset (${base})`
                  : err.code === 'ENOTFOUND'
                    ? `host not found (${base})`
                    : `${err.code ?? 'error'}: ${err.message ?? String(e)}`;
        return { ok: false, kind: 'unreachable', error: why, latencyMs: took() };
      }
      const answer = parseBody(text);
      if (!answer || typeof answer.status !== 'string') {
        return { ok: false, kind: 'unreachable', error: `HTTP ${status}: not a Prometheus API answer`, status, latencyMs: took() };
      }
      if (answer.status !== 'success') {
        return {
          ok: false,
          kind: status === 400 || status === 422 ? 'query' : 'unreachable',
          error: `${answer.errorType ?? 'error'}: ${answer.error ?? `HTTP ${status}`}`,
          status,
          errorType: answer.errorType,
          latencyMs: took(),
        };
      }
      const v = valueOf(answer.data);
      if ('error' in v) return { ok: false, kind: 'query', error: v.error, status, latencyMs: took() };
      return { ok: true, raw: v.raw, series: v.series, warnings: [...(answer.warnings ?? []), ...(answer.infos ?? [])], latencyMs: took() };
    },
    close() {
      agent.destroy();
    },
  };
}

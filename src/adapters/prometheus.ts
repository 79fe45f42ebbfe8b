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
 */
import { setMaxListeners } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosInstance } from 'axios';
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

export function prometheusClient(opts: PrometheusOptions): PrometheusClient {
  const base = opts.url.replace(/\/+$/, '');
  // Uncompressed: a watch's answers are a few hundred bytes, and inflating each cost more CPU than the rest of the
  // request (a third of a poll's CPU in the benchmark).
  const headers: Record<string, string> = { ...(opts.headers ?? {}), Accept: 'application/json', 'Accept-Encoding': 'identity' };
  const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 16 });
  const api: AxiosInstance = axios.create({
    baseURL: base,
    timeout: opts.timeoutMs + 2000,
    headers,
    httpAgent,
    httpsAgent,
    // Every status is looked at here: Prometheus puts the reason for a 400/422/503 in the JSON body.
    validateStatus: () => true,
    // No redirects: credentials are not sent on to another host.
    maxRedirects: 0,
    responseType: 'json',
    transitional: { clarifyTimeoutError: true },
  });
  const widened = new WeakSet<AbortSignal>();
  const serverTimeout = `${Math.max(1, Math.round(opts.timeoutMs / 1000))}s`;

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
      const form = new URLSearchParams({ query, time: timeSec.toFixed(3), timeout: serverTimeout });
      let res;
      try {
        res = await api.post<ApiBody>('/api/v1/query', form, { signal });
      } catch (e) {
        const err = e as { code?: string; message?: string };
        const why =
          err.code === 'ECONNREFUSED'
            ? `connection refused (${base})`
            : err.code === 'ECONNRESET'
              ? `connection reset (${base})`
              : err.code === 'ETIMEDOUT' || err.code === 'ECONNABORTED'
                ? `no answer within ${Math.round((opts.timeoutMs + 2000) / 1000)} s`
                : err.code === 'ENOTFOUND'
                  ? `host not found (${base})`
                  : err.code === 'ERR_CANCELED'
                    ? 'cancelled'
                    : `${err.code ?? 'error'}: ${err.message ?? String(e)}`;
        return { ok: false, kind: 'unreachable', error: why, latencyMs: took() };
      }
      const body = res.data && typeof res.data === 'object' ? res.data : null;
      if (!body || typeof body.status !== 'string') {
        return {
          ok: false,
          kind: 'unreachable',
          error: `HTTP ${res.status}: not a Prometheus API answer`,
          status: res.status,
          latencyMs: took(),
        };
      }
      if (body.status !== 'success') {
        return {
          ok: false,
          kind: res.status === 400 || res.status === 422 ? 'query' : 'unreachable',
          error: `${body.errorType ?? 'error'}: ${body.error ?? `HTTP ${res.status}`}`,
          status: res.status,
          errorType: body.errorType,
          latencyMs: took(),
        };
      }
      const v = valueOf(body.data);
      if ('error' in v) return { ok: false, kind: 'query', error: v.error, status: res.status, latencyMs: took() };
      return { ok: true, raw: v.raw, series: v.series, warnings: [...(body.warnings ?? []), ...(body.infos ?? [])], latencyMs: took() };
    },
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

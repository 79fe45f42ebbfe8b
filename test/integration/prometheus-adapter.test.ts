import http from 'node:http';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prometheusClient } from '../../src/adapters/prometheus.js';
import { scenarioTime, steady } from '../helpers/metrics-scenarios.js';
import { buildBlocks, cleanupPrometheusHarness, prometheusTest, startPrometheus, type PromServer } from '../helpers/prometheus.js';
import { freePort } from '../helpers/postgres.js';

// The watch's Prometheus client (src/adapters/prometheus.ts) against a real Prometheus and, for what a Prometheus
// does not do on demand (hang, answer HTML, redirect), a small real HTTP server in front of it or instead of it.

const info = prometheusTest();

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The client's side of the connection: the same port for queries sent over one kept-alive connection. */
  remotePort: number;
}

type Answer = (req: Seen, res: http.ServerResponse) => void;

/** A real HTTP server that notes each request; `answer` replies (default: passed on to `target`). */
async function server(target: string | null, answer?: Answer): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s: Seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        remotePort: req.socket.remotePort ?? 0,
      };
      seen.push(s);
      if (answer) return answer(s, res);
      const to = new URL(target!);
      const up = http.request(
        { host: to.hostname, port: to.port, path: req.url, method: req.method, headers: { ...req.headers, host: to.host } },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      up.on('error', () => res.destroy());
      up.end(s.body);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise((r) => {
        srv.closeAllConnections();
        srv.close(() => r());
      }),
  };
}

describe.skipIf(!info.ok)(`the watch's Prometheus client${info.skipReason}`, () => {
  let prom: PromServer;
  const at = scenarioTime(30);
  const rate = 'sum(rate(http_request_duration_seconds_count{job="app"}[5m]))';

  beforeAll(async () => {
    prom = await startPrometheus({ dataDir: await buildBlocks(steady()) });
  });
  afterAll(async () => {
    await prom?.close();
    await cleanupPrometheusHarness();
  });

  it('tells apart a value, no data, too many series, a query error with its errorType and a result that is not one number', async () => {
    const client = prometheusClient({ url: prom.url, timeoutMs: 5000 });
    try {
      const value = await client.query(rate, at);
      expect(value).toMatchObject({ ok: true, series: 1, warnings: [] });
      expect(value.ok && Number(value.raw)).toBeGreaterThan(0);

      const scalar = await client.query('scalar(vector(0.25))', at);
      expect(scalar).toMatchObject({ ok: true, raw: '0.25', series: 1 });

      const none = await client.query('sum(rate(no_such_metric_total[5m]))', at);
      expect(none).toMatchObject({ ok: true, raw: undefined, series: 0 });

      const many = await client.query('rate(http_request_duration_seconds_count{job="app"}[5m])', at);
      expect(many.ok && many.series).toBeGreaterThan(1);

      const bad = await client.query('sum(rate(', at);
      expect(bad).toMatchObject({ ok: false, kind: 'query', status: 400, errorType: 'bad_data' });
      expect(!bad.ok && bad.error).toMatch(/^bad_data: /);

      const range = await client.query('http_request_duration_seconds_count{job="app"}[5m]', at);
      expect(range).toMatchObject({ ok: false, kind: 'query', status: 200 });
      expect(!range.ok && range.error).toMatch(/gives a matrix result/);
    } finally {
      client.close();
    }
  });

  it('POSTs a form with the server-side timeout, asks for an uncompressed answer, sends the configured headers and keeps the connection', async () => {
    const proxy = await server(prom.url);
    const client = prometheusClient({
      url: `${proxy.url}/`,
      timeoutMs: 7000,
      headers: { Authorization: 'Bearer tok-123', 'X-Scope-OrgID': 'acme' },
    });
    try {
      for (let i = 0; i < 5; i++) expect(await client.query(rate, at + i)).toMatchObject({ ok: true, series: 1 });
      expect(proxy.seen).toHaveLength(5);
      for (const [i, s] of proxy.seen.entries()) {
        expect(s.method).toBe('POST');
        expect(s.url).toBe('/api/v1/query');
        expect(s.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded(;charset=utf-8)?$/);
        expect(s.headers['accept-encoding']).toBe('identity');
        expect(s.headers.authorization).toBe('Bearer tok-123');
        expect(s.headers['x-scope-orgid']).toBe('acme');
        const form = new URLSearchParams(s.body);
        expect(form.get('query')).toBe(rate);
        expect(form.get('time')).toBe((at + i).toFixed(3));
        expect(form.get('timeout')).toBe('7s');
      }
      // one kept-alive connection for queries sent one after another
      expect(new Set(proxy.seen.map((s) => s.remotePort)).size).toBe(1);
    } finally {
      client.close();
      await proxy.close();
    }
  });

  it("sends a URL's user:password as basic auth", async () => {
    const proxy = await server(prom.url);
    const u = new URL(proxy.url);
    const client = prometheusClient({ url: `http://watch:s3cret@${u.host}`, timeoutMs: 5000 });
    try {
      expect(await client.query(rate, at)).toMatchObject({ ok: true });
      expect(proxy.seen[0].headers.authorization).toBe(`Basic ${Buffer.from('watch:s3cret').toString('base64')}`);
    } finally {
      client.close();
      await proxy.close();
    }
  });

  it('Prometheus unreachable: connection refused, an answer that is not the API, a redirect (not followed)', async () => {
    const port = await freePort();
    const refused = prometheusClient({ url: `http://127.0.0.1:${port}`, timeoutMs: 5000 });
    expect(await refused.query(rate, at)).toMatchObject({
      ok: false,
      kind: 'unreachable',
      error: `connection refused (http://127.0.0.1:${port})`,
    });
    refused.close();

    const html = await server(null, (_s, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html><body>Bad gateway</body></html>');
    });
    const elsewhere = await server(prom.url);
    const redirect = await server(null, (_s, res) => {
      res.writeHead(307, { location: `${elsewhere.url}/api/v1/query` });
      res.end();
    });
    const viaHtml = prometheusClient({ url: html.url, timeoutMs: 5000 });
    const viaRedirect = prometheusClient({ url: redirect.url, timeoutMs: 5000, headers: { Authorization: 'Bearer tok-123' } });
    try {
      expect(await viaHtml.query(rate, at)).toMatchObject({
        ok: false,
        kind: 'unreachable',
        status: 502,
        error: 'HTTP 502: not a Prometheus API answer',
      });
      expect(await viaRedirect.query(rate, at)).toMatchObject({ ok: false, kind: 'unreachable', status: 307 });
      expect(elsewhere.seen).toHaveLength(0); // the credentials went nowhere else
    } finally {
      viaHtml.close();
      viaRedirect.close();
      await Promise.all([html.close(), elsewhere.close(), redirect.close()]);
    }
  });

  it('waits 2 s longer than the server-side timeout for an answer, and a stop cancels a query at once', async () => {
    const hang = await server(null, () => undefined); // never answers
    const client = prometheusClient({ url: hang.url, timeoutMs: 1000 });
    try {
      const t0 = performance.now();
      const late = await client.query(rate, at);
      const waited = performance.now() - t0;
      expect(late).toMatchObject({ ok: false, kind: 'unreachable', error: 'no answer within 3 s' });
      expect(waited).toBeGreaterThanOrEqual(2900);
      expect(waited).toBeLessThan(6000);

      const stop = new AbortController();
      const pending = client.query(rate, at, stop.signal);
      setTimeout(() => stop.abort(), 100);
      const t1 = performance.now();
      expect(await pending).toMatchObject({ ok: false, kind: 'unreachable', error: 'cancelled' });
      expect(performance.now() - t1).toBeLessThan(1000);
    } finally {
      client.close();
      await hang.close();
    }
  });
});

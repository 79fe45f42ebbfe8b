// The demo's Property app as a real HTTP service: one process per colour of the blue/green target, behind the
// HAProxy that scripts/deploy.sh drives (see ./deploy.ts). Bundled into dist/demo-app.js (with prom-client) so the
// sandbox runs it with nothing but Node.
//
//   node demo-app.js --port P --version V [--colour C]
//
// Every answer carries `X-App-Version` (the switch is verified by it). GET /health is 503 while draining, so the
// proxy's checks and the deploy script see a stopping process as unhealthy. SIGTERM drains: the listener closes,
// idle keep-alive connections close, requests in flight finish, then the process exits (forced after 10 s).
import http from 'node:http';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

interface Options {
  port: number;
  version: string;
  colour: string;
}

function parseArgs(argv: string[]): Options {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const port = Number(get('port'));
  const version = get('version');
  if (!Number.isInteger(port) || port <= 0 || !version) {
    process.stderr.write('usage: demo-app --port <port> --version <version> [--colour <colour>]\n');
    process.exit(2);
  }
  return { port, version, colour: get('colour') ?? 'none' };
}

const LISTINGS = [
  { id: 1, title: 'Two-room flat by the river', price: 1150 },
  { id: 2, title: 'House with a garden', price: 2400 },
  { id: 3, title: 'Studio near the station', price: 780 },
];

function startApp(opts: Options): { server: http.Server; drain: () => Promise<void> } {
  const registry = new Registry();
  registry.setDefaultLabels({ colour: opts.colour, version: opts.version });
  collectDefaultMetrics({ register: registry });
  const requests = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration in seconds',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const payments = new Counter({ name: 'payments_total', help: 'Payments by result', labelNames: ['result'], registers: [registry] });
  // Both series exist from the start: the watch's failed-payments rule needs the failed series before the first failure.
  payments.inc({ result: 'ok' }, 0);
  payments.inc({ result: 'failed' }, 0);

  let draining = false;
  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const server = http.createServer((req, res) => {
    const end = requests.startTimer({ method: req.method ?? 'GET' });
    res.setHeader('X-App-Version', opts.version);
    res.setHeader('X-App-Colour', opts.colour);
    if (draining) res.setHeader('connection', 'close');
    const url = new URL(req.url ?? '/', 'http://app');
    let route = url.pathname;
    res.on('finish', () => end({ route, status_code: String(res.statusCode) }));
    if (req.method === 'GET' && url.pathname === '/health') {
      json(res, draining ? 503 : 200, { status: draining ? 'draining' : 'ok', version: opts.version, colour: opts.colour });
    } else if (req.method === 'GET' && url.pathname === '/version') {
      json(res, 200, { version: opts.version, colour: opts.colour });
    } else if (req.method === 'GET' && url.pathname === '/metrics') {
      void registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(text);
      });
    } else if (req.method === 'GET' && url.pathname === '/api/listings') {
      const max = Number(url.searchParams.get('max_price') ?? Infinity);
      // `delay_ms` (at most 5 s): a slow query, to see latency in the watch and a drain wait for it.
      const delay = Math.min(Math.max(Number(url.searchParams.get('delay_ms')) || 0, 0), 5000);
      setTimeout(() => json(res, 200, { listings: LISTINGS.filter((l) => l.price <= max) }), delay);
    } else if (req.method === 'POST' && url.pathname === '/api/payments') {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => {
        if (body.length < 10_000) body += c;
      });
      req.on('end', () => {
        let amount = NaN;
        try {
          amount = Number((JSON.parse(body) as { amount_cents?: unknown }).amount_cents);
        } catch {
          /* not JSON: a failed payment */
        }
        const ok = Number.isInteger(amount) && amount > 0;
        payments.inc({ result: ok ? 'ok' : 'failed' });
        json(
          res,
          ok ? 201 : 422,
          ok ? { status: 'paid', amount_cents: amount } : { status: 'failed', error: 'amount_cents must be a positive integer' },
        );
      });
    } else {
      route = 'unmatched';
      json(res, 404, { error: 'not found' });
    }
  });
  server.keepAliveTimeout = 30_000;

  const drain = () =>
    new Promise<void>((resolve) => {
      draining = true;
      // close() stops accepting; the callback runs once every connection has ended (in-flight requests finish,
      // answered with `connection: close`); idle keep-alive connections are closed now.
      server.close(() => resolve());
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), 10_000).unref();
    });
  return { server, drain };
}

function main(): void {
  const opts = parseArgs(process.argv.slice(2));
  const { server, drain } = startApp(opts);
  server.on('error', (e) => {
    process.stderr.write(`demo-app: ${e.message}\n`);
    process.exit(1);
  });
  server.listen(opts.port, '127.0.0.1', () => {
    process.stdout.write(`Property ${opts.version} (${opts.colour}) listening on http://127.0.0.1:${opts.port}\n`);
  });
  let stopping = false;
  const stop = (sig: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${sig}: draining\n`);
    void drain().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main();

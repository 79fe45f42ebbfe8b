// The demo's Property app as a real HTTP service: one process per colour of the blue/green target, behind the
// HAProxy that scripts/deploy.sh drives (see ./deploy.ts). Bundled into dist/demo-app.js (with prom-client) so the
// sandbox runs it with nothing but Node.
//
//   node demo-app.js --port P --version V [--colour C] [--scenario bad-payments|slow]
//
// Its three flows are the issue's: GET /api/listings, GET /api/search?q=…, POST /api/payments {amount_cents}. A
// scenario is a fault this process has, for the demo's story (the deploy driver passes it only to the versions it is
// about, see deploy.ts): `bad-payments` fails every 50th payment (2%: a 500, payments_total{result="failed"}),
// `slow` adds 300 ms to every listings and search answer.
//
// Metrics (GET /metrics, prom-client): http_request_duration_seconds{method,route,status_code}, payments_total{result}
// (both results from the start), prom-client's process metrics, and node_cpu_seconds_total{cpu,mode}: this
// machine's CPU time as node_exporter counts it. The demo's database runs on this machine, so that is the database
// host's CPU the watch's built-in db_cpu signal reads; in real life it comes from node_exporter on the database host.
//
// Every answer carries `X-App-Version` (the switch is verified by it). GET /health is 503 while draining, so the
// proxy's checks and the deploy script see a stopping process as unhealthy. SIGTERM drains: the listener closes,
// idle keep-alive connections close, requests in flight finish, then the process exits (forced after 10 s).
import http from 'node:http';
import os from 'node:os';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { PORT_TAKEN_EXIT } from './exit-codes.js';
import { SCENARIOS, SLOW_EXTRA_MS, type Scenario, isScenario, paymentFails } from './scenario.js';

interface Options {
  port: number;
  version: string;
  colour: string;
  scenario: Scenario | null;
}

function parseArgs(argv: string[]): Options {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const port = Number(get('port'));
  const version = get('version');
  const scenario = get('scenario') ?? null;
  if (!Number.isInteger(port) || port <= 0 || !version || (scenario !== null && !isScenario(scenario))) {
    process.stderr.write(`usage: demo-app --port <port> --version <version> [--colour <colour>] [--scenario ${SCENARIOS.join('|')}]\n`);
    process.exit(2);
  }
  return { port, version, colour: get('colour') ?? 'none', scenario };
}

const LISTINGS = [
  { id: 1, title: 'Two-room flat by the river', city: 'Lisbon', price: 1150 },
  { id: 2, title: 'House with a garden', city: 'Porto', price: 2400 },
  { id: 3, title: 'Studio near the station', city: 'Lisbon', price: 780 },
  { id: 4, title: 'Loft above the old market', city: 'Porto', price: 1320 },
  { id: 5, title: 'Cottage by the sea', city: 'Faro', price: 1680 },
];

const CPU_MODES = ['user', 'nice', 'sys', 'idle', 'irq'] as const;
/** node_exporter's names for os.cpus()'s times. */
const NODE_MODE: Record<(typeof CPU_MODES)[number], string> = { user: 'user', nice: 'nice', sys: 'system', idle: 'idle', irq: 'irq' };

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
  // node_exporter's counters, read at each scrape (os.cpus() gives each CPU's time by mode, in ms since boot).
  new Counter({
    name: 'node_cpu_seconds_total',
    help: "Seconds the CPUs spent in each mode (this machine's, where the demo's database runs)",
    labelNames: ['cpu', 'mode'],
    registers: [registry],
    collect() {
      this.reset();
      os.cpus().forEach((c, i) => {
        for (const m of CPU_MODES) this.inc({ cpu: String(i), mode: NODE_MODE[m] }, c.times[m] / 1000);
      });
    },
  });
  const extraMs = opts.scenario === 'slow' ? SLOW_EXTRA_MS : 0;
  let validPayments = 0;

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
    // The proxy's health checks (several a second) and the scrapes are not the users' requests: timed, they would
    // swamp the rates, error ratio and latency the watch reads.
    if (url.pathname !== '/health' && url.pathname !== '/metrics')
      res.on('finish', () => end({ route, status_code: String(res.statusCode) }));
    if (req.method === 'GET' && url.pathname === '/health') {
      // Its pid: the deploy script knows the answer is from the process it started, not from another on the port.
      json(res, draining ? 503 : 200, {
        status: draining ? 'draining' : 'ok',
        version: opts.version,
        colour: opts.colour,
        pid: process.pid,
      });
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
      setTimeout(() => json(res, 200, { listings: LISTINGS.filter((l) => l.price <= max) }), delay + extraMs);
    } else if (req.method === 'GET' && url.pathname === '/api/search') {
      const q = (url.searchParams.get('q') ?? '').toLowerCase().slice(0, 100);
      const found = LISTINGS.filter((l) => `${l.title} ${l.city}`.toLowerCase().includes(q));
      setTimeout(() => json(res, 200, { query: q, listings: found }), extraMs);
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
        const valid = Number.isInteger(amount) && amount > 0;
        // The bad-payments fault: a valid payment that this version fails (its bug, a 500), as a user would see it.
        if (valid) validPayments++;
        const broken = valid && opts.scenario === 'bad-payments' && paymentFails(validPayments);
        payments.inc({ result: valid && !broken ? 'ok' : 'failed' });
        if (broken) json(res, 500, { status: 'failed', error: 'the payment could not be recorded' });
        else
          json(
            res,
            valid ? 201 : 422,
            valid ? { status: 'paid', amount_cents: amount } : { status: 'failed', error: 'amount_cents must be a positive integer' },
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
    // The port was free when the deploy script chose it, and taken since: it starts the app again on another.
    process.exit((e as NodeJS.ErrnoException).code === 'EADDRINUSE' ? PORT_TAKEN_EXIT : 1);
  });
  server.listen(opts.port, '127.0.0.1', () => {
    const fault = opts.scenario ? ` with the ${opts.scenario} scenario` : '';
    process.stdout.write(`Property ${opts.version} (${opts.colour}) listening on http://127.0.0.1:${opts.port}${fault}\n`);
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

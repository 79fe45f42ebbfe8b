// The load loop of the blue/green tests and benchmark: keep-alive clients on the loopback, bounded, counting every
// request sent, every failure (an error or a status other than 2xx), the versions served and each latency.
import http from 'node:http';
import { performance } from 'node:perf_hooks';

export interface LoadTally {
  sent: number;
  failed: number;
  versions: Map<string, number>;
  errors: string[];
  /** [when it was answered (performance.now()), latency in ms] of each request. */
  latencies: Array<[number, number]>;
}

/**
 * `clients` keep-alive clients sending GET /api/listings and POST /api/payments to `url` until stopped (at most
 * `max` requests or 60 s: bounded whatever happens).
 */
export function loadLoop(url: string, clients = 8, max = 50_000) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  let stop = false;
  const tally: LoadTally = { sent: 0, failed: 0, versions: new Map(), errors: [], latencies: [] };
  const one = () =>
    new Promise<void>((resolve) => {
      const post = tally.sent % 4 === 3;
      tally.sent++;
      const t0 = performance.now();
      const req = http.request(
        `${url}/api/${post ? 'payments' : 'listings'}`,
        { agent, method: post ? 'POST' : 'GET', headers: post ? { 'content-type': 'application/json' } : {} },
        (res) => {
          res.resume();
          res.on('end', () => {
            const t1 = performance.now();
            tally.latencies.push([t1, t1 - t0]);
            const v = String(res.headers['x-app-version']);
            tally.versions.set(v, (tally.versions.get(v) ?? 0) + 1);
            if (res.statusCode! < 200 || res.statusCode! >= 300) {
              tally.failed++;
              tally.errors.push(`status ${res.statusCode}`);
            }
            resolve();
          });
        },
      );
      req.on('error', (e) => {
        tally.failed++;
        tally.errors.push(e.message);
        resolve();
      });
      req.end(post ? JSON.stringify({ amount_cents: 1200 }) : undefined);
    });
  const until = Date.now() + 60_000;
  const workers = Array.from({ length: clients }, async () => {
    while (!stop && tally.sent < max && Date.now() < until) await one();
  });
  return {
    tally,
    async finish() {
      stop = true;
      await Promise.all(workers);
      agent.destroy();
      return tally;
    },
  };
}

// The demo's Prometheus (optional): when `prometheus` is on the PATH, one server on a free loopback port scraping
// every second the Property app's colours of every environment, found through the file_sd lists the deploy driver
// keeps (`<sandbox>/.cockpit/bluegreen/<env>/targets.json`, labels env and colour; see bluegreen/deploy.ts). Each
// environment is its own job, `property-<env>`: the sandbox's watch reads production's (`vars.job` in its
// cockpit.config.yaml). Data and log under `.sandbox/demo/prometheus/`, kept 6 hours. The watch's URL depends on
// the port, so it goes to cockpit.local.yaml (localConfig), not to the committed config.
//
// Without Prometheus the service fails with how to install it; the demo goes on without the live watch.
import { freePort } from '../adapters/free-port.js';
import { processRuns } from '../adapters/process-alive.js';
import { spawn } from 'node:child_process';
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { stringify } from 'yaml';
import { FailedError } from '../core/errors.js';
import { demoProcess, type DemoContext, type DemoService, type StartedService } from './service.js';

/** Prometheus is not installed, or did not start. */
export class PrometheusUnavailable extends FailedError {}

export const PROMETHEUS_MISSING =
  'Prometheus is not installed (no `prometheus` on the PATH): install it (Debian/Ubuntu: sudo apt-get install prometheus; ' +
  'macOS: brew install prometheus) and start the demo again to see the live watch. Everything else in the demo works without it.';

/** The environments the sandbox deploys to (its cockpit.config.yaml): scraped even before their first deploy. */
const ENVIRONMENTS = ['staging', 'production'];
const READY_TIMEOUT_MS = 30_000;
const RETENTION = '6h';

/** The Prometheus job of an environment's app processes (the sandbox config's `watch.vars.job` is production's). */
export const jobOf = (env: string): string => `property-${env}`;

/** `prometheus` on the PATH (or PROMETHEUS_BIN), or null. */
export function findPrometheus(env: NodeJS.ProcessEnv = process.env): string | null {
  const candidates = env.PROMETHEUS_BIN
    ? [env.PROMETHEUS_BIN]
    : (env.PATH ?? '')
        .split(path.delimiter)
        .filter(Boolean)
        .map((d) => path.join(d, 'prometheus'));
  for (const p of candidates) {
    try {
      accessSync(p, constants.X_OK);
      if (statSync(p).isFile()) return p;
    } catch {
      /* not this one */
    }
  }
  return null;
}

/** The sandbox's environments: the configured ones and any the deploy driver has a folder for. */
function environments(dir: string): string[] {
  const found = new Set(ENVIRONMENTS);
  try {
    for (const e of readdirSync(path.join(dir, '.cockpit', 'bluegreen'), { withFileTypes: true })) if (e.isDirectory()) found.add(e.name);
  } catch {
    /* nothing deployed yet */
  }
  return [...found];
}

/** prometheus.yml: a 1 s scrape of each environment's file_sd list, one job per environment. */
export function prometheusConfig(dir: string): string {
  return stringify({
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    scrape_configs: environments(dir).map((env) => ({
      job_name: jobOf(env),
      file_sd_configs: [{ files: [path.join(dir, '.cockpit', 'bluegreen', env, 'targets.json')], refresh_interval: '5s' }],
    })),
  });
}

/** GET url: its status, or the error's message. */
function status(url: string, timeoutMs = 2000): Promise<number | string> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e) => resolve(e.message));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tail(file: string, from: number, lines = 8): string {
  try {
    return readFileSync(file).subarray(from).toString('utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** One start on `port`: the pid once /-/ready answers 200; null when the port was taken (try another). */
async function launch(bin: string, home: string, port: number): Promise<number | null> {
  const logFile = path.join(home, 'prometheus.log');
  const from = existsSync(logFile) ? statSync(logFile).size : 0;
  const log = openSync(logFile, 'a');
  const child = spawn(
    bin,
    [
      `--config.file=${path.join(home, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(home, 'data')}`,
      `--storage.tsdb.retention.time=${RETENTION}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { cwd: home, detached: true, stdio: ['ignore', log, log] },
  );
  closeSync(log);
  const spawnError = new Promise<Error>((resolve) => child.on('error', resolve));
  child.unref();
  const pid = child.pid;
  if (!pid) throw new PrometheusUnavailable(`prometheus did not start: ${(await spawnError).message}`);
  const until = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if ((await status(`http://127.0.0.1:${port}/-/ready`)) === 200) return pid;
    if (!processRuns(pid)) {
      const why = tail(logFile, from);
      if (/address already in use/i.test(why)) return null;
      throw new PrometheusUnavailable(`prometheus exited at start-up; its log (${logFile}) ends:\n${why}`);
    }
    if (Date.now() > until) {
      process.kill(pid, 'SIGKILL');
      throw new PrometheusUnavailable(`prometheus (pid ${pid}) was not ready within ${READY_TIMEOUT_MS / 1000}s; its log: ${logFile}`);
    }
    await sleep(100);
  }
}

/** The service: Prometheus for the demo's live watch. */
export const prometheusService: DemoService = {
  name: 'prometheus',
  optional: true,
  async start(ctx: DemoContext): Promise<StartedService> {
    const bin = findPrometheus();
    if (!bin) throw new PrometheusUnavailable(PROMETHEUS_MISSING);
    const t0 = Date.now();
    const home = path.join(ctx.stateDir, 'prometheus');
    mkdirSync(path.join(home, 'data'), { recursive: true });
    for (const env of environments(ctx.dir)) mkdirSync(path.join(ctx.dir, '.cockpit', 'bluegreen', env), { recursive: true });
    writeFileSync(path.join(home, 'prometheus.yml'), prometheusConfig(ctx.dir));
    let pid: number | null = null;
    let port = 0;
    for (let attempt = 0; pid === null; attempt++) {
      if (attempt === 3) throw new PrometheusUnavailable('prometheus found no free port in 3 tries');
      port = await freePort();
      pid = await launch(bin, home, port);
    }
    const url = `http://127.0.0.1:${port}`;
    ctx.log(`Prometheus on ${url}, scraping the app every second (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    return {
      name: 'prometheus',
      processes: [demoProcess('prometheus', pid)],
      urls: { prometheus: url },
      localConfig: { watch: { prometheus: { url } } },
      detail: { port, home },
    };
  },
  async check(s: StartedService): Promise<true | string> {
    const url = s.urls?.prometheus;
    if (!url) return 'no Prometheus URL recorded';
    const r = await status(`${url}/-/ready`);
    return r === 200 ? true : `Prometheus at ${url} is not ready (${typeof r === 'number' ? `HTTP ${r}` : r})`;
  },
};

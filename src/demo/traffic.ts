// The demo's traffic generator: a bounded mix of the Property app's three flows (listings, search, payments with
// valid amounts) sent to the public URL of each environment, so the watch has rates, latency and payments to read.
// Its own node process (src/demo/traffic-main.ts, bundled as dist/demo-traffic.js):
//
//   node demo-traffic.js --target production=http://127.0.0.1:P [--target staging=…] [--rps 20] [--concurrency 8]
//                        [--parent PID] [--max-time 3h] [--summary-every 60s]
//
// Bounded: `--rps` requests a second in all (shared by the targets), at most `--concurrency` in flight (a request
// that would exceed it is skipped and counted), loopback only (a URL whose host is not a loopback IP literal is
// refused: 127.0.0.0/8 or [::1]; no name lookups, no redirects followed). It exits by itself when the `--parent`
// process is gone (polled every 2 s), after `--max-time`, or on SIGTERM/SIGINT, and writes a one-line summary per
// target every `--summary-every` on stdout (the service sends it to `.sandbox/demo/traffic/traffic.log`).
//
// The service (`trafficService`) starts it after the targets: the URLs are what `scripts/deploy.sh status --env E
// --json` reports for staging and production (or given to `trafficService({urls})`).
import { processRuns } from '../adapters/process-alive.js';
import { execFile, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { formatDuration, parseDuration } from '../core/duration.js';
import { FailedError, UsageError } from '../core/errors.js';
import { packageRoot } from '../paths.js';
import { demoProcess, sameProcess, type DemoContext, type DemoService, type StartedService } from './service.js';

export const TRAFFIC_DEFAULTS = { rps: 20, concurrency: 8, maxTime: '3h', summaryEvery: '60s' } as const;
const LIMITS = { rps: 200, concurrency: 32 } as const;
const REQUEST_TIMEOUT_MS = 5000;
const PARENT_POLL_MS = 2000;

export interface TrafficOptions {
  targets: Array<{ name: string; url: URL }>;
  rps: number;
  concurrency: number;
  parent: number | null;
  maxTimeMs: number;
  summaryEveryMs: number;
}

/** The URL, when it is http:// to a loopback IP literal; else why not. */
export function loopbackUrl(text: string): URL | string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return `not a URL: ${JSON.stringify(text)}`;
  }
  if (u.protocol !== 'http:') return `${text}: only http:// (the demo's apps on this machine)`;
  if (u.username || u.password) return `${text}: no credentials in the URL`;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const loopback = (net.isIPv4(host) && host.split('.')[0] === '127') || (net.isIPv6(host) && host === '::1');
  if (!loopback) return `${text}: not a loopback address (the traffic generator only sends to 127.0.0.0/8 or [::1])`;
  return u;
}

/** The command line, or a UsageError saying what is wrong. */
export function parseTrafficArgs(argv: string[]): TrafficOptions {
  const targets: TrafficOptions['targets'] = [];
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new UsageError(`unexpected argument ${JSON.stringify(a)}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new UsageError(`--${m[1]} needs a value`);
    if (m[1] === 'target') {
      const eq = value.indexOf('=');
      if (eq <= 0) throw new UsageError(`--target ${value}: expected NAME=URL`);
      const url = loopbackUrl(value.slice(eq + 1));
      if (typeof url === 'string') throw new UsageError(`--target ${value.slice(0, eq)}: ${url}`);
      targets.push({ name: value.slice(0, eq), url });
    } else if (['rps', 'concurrency', 'parent', 'max-time', 'summary-every'].includes(m[1])) flags[m[1]] = value;
    else throw new UsageError(`unknown option --${m[1]}`);
  }
  if (!targets.length) throw new UsageError('no --target NAME=URL given');
  const num = (flag: string, d: number, max: number) => {
    const v = flags[flag] === undefined ? d : Number(flags[flag]);
    if (!(v > 0 && v <= max)) throw new UsageError(`--${flag} ${flags[flag]}: expected a number above 0, at most ${max}`);
    return v;
  };
  const dur = (flag: string, d: string) => {
    const ms = parseDuration(flags[flag] ?? d);
    if (!ms || ms < 100) throw new UsageError(`--${flag} ${flags[flag]}: expected a duration (e.g. 60s, 3h)`);
    return ms;
  };
  const parent = flags.parent === undefined ? null : Number(flags.parent);
  if (parent !== null && !(Number.isInteger(parent) && parent > 0)) throw new UsageError(`--parent ${flags.parent}: expected a pid`);
  return {
    targets,
    rps: num('rps', TRAFFIC_DEFAULTS.rps, LIMITS.rps),
    concurrency: Math.floor(num('concurrency', TRAFFIC_DEFAULTS.concurrency, LIMITS.concurrency)),
    parent,
    maxTimeMs: dur('max-time', TRAFFIC_DEFAULTS.maxTime),
    summaryEveryMs: dur('summary-every', TRAFFIC_DEFAULTS.summaryEvery),
  };
}

type Flow = 'listings' | 'search' | 'payments';
/** Four listings, three searches, three payments in every ten requests to a target. */
const MIX: Flow[] = ['listings', 'search', 'payments', 'listings', 'search', 'payments', 'listings', 'search', 'payments', 'listings'];
const SEARCHES = ['lisbon', 'porto', 'garden', 'studio', 'sea', 'flat'];

/** One period's requests to a target, counted when answered (or failed). */
interface Tally {
  sent: number;
  ok: number;
  failed: number;
  /** Status or error → count, for the failures. */
  why: Map<string, number>;
  paymentsFailed: number;
  payments: number;
  latencies: number[];
}
const newTally = (): Tally => ({ sent: 0, ok: 0, failed: 0, why: new Map(), paymentsFailed: 0, payments: 0, latencies: [] });

function p95(ms: number[]): number | null {
  if (!ms.length) return null;
  const s = [...ms].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * 0.95) - 1)];
}

/** The summary line of one period. */
function summary(at: Date, names: string[], tallies: Map<string, Tally>, skipped: number): string {
  const parts = names.map((n) => {
    const t = tallies.get(n)!;
    const why = [...t.why].map(([w, c]) => `${c} ${w}`).join(', ');
    const p = p95(t.latencies);
    return (
      `${n}: ${t.sent} requests, ${t.ok} ok, ${t.failed} failed${why ? ` (${why})` : ''}; ` +
      `payments ${t.payments - t.paymentsFailed} ok, ${t.paymentsFailed} failed; p95 ${p === null ? '-' : `${Math.round(p)} ms`}`
    );
  });
  return `${at.toISOString().replace(/\.\d+Z$/, 'Z')} ${parts.join(' | ')}${skipped ? ` | ${skipped} skipped (too many in flight)` : ''}`;
}

/**
 * Sends the traffic until stopped: resolves with the reason (parent gone, time up, a signal). `log` gets the start
 * line and the summaries.
 */
export function runTraffic(opts: TrafficOptions, log: (line: string) => void): { done: Promise<string>; stop: (why: string) => void } {
  const agents = new Map(opts.targets.map((t) => [t.name, new http.Agent({ keepAlive: true, maxSockets: opts.concurrency })]));
  let tallies = new Map(opts.targets.map((t) => [t.name, newTally()]));
  let skipped = 0;
  let inFlight = 0;
  let n = 0;
  let finish: (why: string) => void = () => {};
  const done = new Promise<string>((resolve) => (finish = resolve));

  const send = (target: { name: string; url: URL }, flow: Flow) => {
    inFlight++;
    const body = flow === 'payments' ? JSON.stringify({ amount_cents: 500 + Math.floor(Math.random() * 200_000) }) : null;
    const p =
      flow === 'listings'
        ? `/api/listings?max_price=${[900, 1500, 2500][n % 3]}`
        : flow === 'search'
          ? `/api/search?q=${SEARCHES[n % SEARCHES.length]}`
          : '/api/payments';
    const t0 = performance.now();
    let ended = false;
    const end = (ok: boolean, why?: string) => {
      if (ended) return; // a response cut short can report twice (the response's error, then the request's)
      ended = true;
      inFlight--;
      const now = tallies.get(target.name)!; // counted in the period it ends in
      now.sent++;
      if (flow === 'payments') now.payments++;
      if (ok) {
        now.ok++;
        now.latencies.push(performance.now() - t0);
      } else {
        now.failed++;
        now.why.set(why!, (now.why.get(why!) ?? 0) + 1);
        if (flow === 'payments') now.paymentsFailed++;
      }
    };
    const req = http.request(
      new URL(p, target.url),
      {
        method: body ? 'POST' : 'GET',
        agent: agents.get(target.name),
        timeout: REQUEST_TIMEOUT_MS,
        headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {},
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          const s = res.statusCode ?? 0;
          end(s >= 200 && s < 300, `${flow} answered ${s}`);
        });
        res.on('error', (e) => end(false, e.message));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000}s`)));
    req.on('error', (e) => end(false, (e as NodeJS.ErrnoException).code ?? e.message));
    req.end(body ?? undefined);
  };

  const tick = setInterval(() => {
    const target = opts.targets[n % opts.targets.length];
    const flow = MIX[Math.floor(n / opts.targets.length) % MIX.length];
    n++;
    if (inFlight >= opts.concurrency) skipped++;
    else send(target, flow);
  }, 1000 / opts.rps);

  const report = () => {
    log(
      summary(
        new Date(),
        opts.targets.map((t) => t.name),
        tallies,
        skipped,
      ),
    );
    tallies = new Map(opts.targets.map((t) => [t.name, newTally()]));
    skipped = 0;
  };
  const period = setInterval(report, opts.summaryEveryMs);

  const parentPoll =
    opts.parent === null
      ? null
      : setInterval(() => {
          if (!processRuns(opts.parent!)) stop(`its parent (pid ${opts.parent}) is gone`);
        }, PARENT_POLL_MS);
  const maxTime = setTimeout(() => stop(`it ran for its maximum time (${formatDuration(opts.maxTimeMs)})`), opts.maxTimeMs);

  let stopped = false;
  const stop = (why: string) => {
    if (stopped) return;
    stopped = true;
    clearInterval(tick);
    clearInterval(period);
    if (parentPoll) clearInterval(parentPoll);
    clearTimeout(maxTime);
    report(); // the last, partial period
    for (const a of agents.values()) a.destroy();
    log(`traffic stopped: ${why}`);
    finish(why);
  };

  log(
    `traffic: ${opts.rps} requests/s to ${opts.targets.map((t) => `${t.name} ${t.url.origin}`).join(', ')} ` +
      `(listings, search, payments), at most ${opts.concurrency} in flight; stops after ${formatDuration(opts.maxTimeMs)}` +
      `${opts.parent !== null ? ` or when pid ${opts.parent} is gone` : ''}`,
  );
  return { done, stop };
}

/** The process: `node demo-traffic.js …` (traffic-main.ts). */
export async function trafficMain(argv: string[]): Promise<number> {
  let opts: TrafficOptions;
  try {
    opts = parseTrafficArgs(argv);
  } catch (e) {
    process.stderr.write(`demo-traffic: ${(e as Error).message}\n`);
    return 2;
  }
  const run = runTraffic(opts, (line) => process.stdout.write(`${line}\n`));
  process.on('SIGTERM', () => run.stop('SIGTERM'));
  process.on('SIGINT', () => run.stop('SIGINT'));
  await run.done;
  return 0;
}

// ---------------------------------------------------------------------------------------------------------------
// The service

/** The traffic generator could not start. */
export class TrafficError extends FailedError {}

/** The bundle the service runs: the cockpit's own dist/demo-traffic.js. */
export const trafficScript = (): string => path.join(packageRoot(), 'dist', 'demo-traffic.js');

/** The public URL of an environment, as the sandbox's deploy script reports it (`status --env E --json`). */
function publicUrl(dir: string, env: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(path.join(dir, 'scripts', 'deploy.sh'), ['status', '--env', env, '--json'], { cwd: dir, timeout: 20_000 }, (err, stdout) => {
      if (err) return reject(new TrafficError(`scripts/deploy.sh status --env ${env} failed: ${err.message}`));
      try {
        const st = JSON.parse(stdout) as { url: string | null; proxy: { running: boolean } };
        if (!st.url || !st.proxy.running) return reject(new TrafficError(`${env} is not running (scripts/deploy.sh status --env ${env})`));
        resolve(st.url);
      } catch {
        reject(new TrafficError(`scripts/deploy.sh status --env ${env} --json did not answer JSON`));
      }
    });
  });
}

/** The public URLs of the environments that run (production, staging): one at least, else why not. */
async function runningUrls(ctx: DemoContext): Promise<Record<string, string>> {
  const urls: Record<string, string> = {};
  const problems: string[] = [];
  for (const env of ['production', 'staging']) {
    try {
      urls[env] = await publicUrl(ctx.dir, env);
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  if (!Object.keys(urls).length) throw new TrafficError(`no environment to send traffic to: ${problems.join('; ')}`);
  for (const p of problems) ctx.log(`traffic: ${p}; not sending there`);
  return urls;
}

export interface TrafficServiceOptions {
  /** The public URL of each environment; default: production's and staging's from scripts/deploy.sh status (those that run). */
  urls?: Record<string, string>;
  rps?: number;
  concurrency?: number;
  maxTime?: string;
  summaryEvery?: string;
}

/** The service: the traffic generator, after the targets (it needs their public URLs). */
export function trafficService(opts: TrafficServiceOptions = {}): DemoService {
  let noTargets = false;
  return {
    name: 'traffic',
    // Skipped, not failed, when the targets it sends to did not start (they said why).
    get optional() {
      return noTargets;
    },
    async start(ctx: DemoContext): Promise<StartedService> {
      let urls: Record<string, string>;
      try {
        urls = opts.urls ?? (await runningUrls(ctx));
      } catch (e) {
        noTargets = !ctx.started.targets;
        if (noTargets) throw new TrafficError(`the deploy targets did not start, so ${(e as Error).message}`);
        throw e;
      }
      const home = path.join(ctx.stateDir, 'traffic');
      mkdirSync(home, { recursive: true });
      const logFile = path.join(home, 'traffic.log');
      const args = [
        trafficScript(),
        ...Object.entries(urls).flatMap(([name, url]) => ['--target', `${name}=${url}`]),
        '--rps',
        String(opts.rps ?? TRAFFIC_DEFAULTS.rps),
        '--concurrency',
        String(opts.concurrency ?? TRAFFIC_DEFAULTS.concurrency),
        '--max-time',
        opts.maxTime ?? TRAFFIC_DEFAULTS.maxTime,
        '--summary-every',
        opts.summaryEvery ?? TRAFFIC_DEFAULTS.summaryEvery,
        '--parent',
        String(ctx.parentPid),
      ];
      // Checked here too: a bad URL is the caller's error, said now rather than in a log.
      for (const [name, url] of Object.entries(urls)) {
        const u = loopbackUrl(url);
        if (typeof u === 'string') throw new TrafficError(`traffic to ${name}: ${u}`);
      }
      const log = openSync(logFile, 'a');
      const child = spawn(process.execPath, args, { cwd: home, detached: true, stdio: ['ignore', log, log] });
      closeSync(log);
      child.on('error', () => {});
      child.unref();
      if (!child.pid) throw new TrafficError('could not start the traffic generator');
      const pid = child.pid;
      // It fails at once on bad arguments: a moment's wait tells a start from a usage error.
      await new Promise((r) => setTimeout(r, 300));
      if (!processRuns(pid))
        throw new TrafficError(`the traffic generator exited at once; its log (${logFile}) ends:\n${logTail(logFile)}`);
      const total = opts.rps ?? TRAFFIC_DEFAULTS.rps;
      ctx.log(`traffic: ${total} requests/s to ${Object.keys(urls).join(' and ')} (pid ${pid}, log ${path.relative(ctx.dir, logFile)})`);
      return {
        name: 'traffic',
        processes: [demoProcess('traffic', pid)],
        detail: { log: logFile, pid, urls },
      };
    },
    check(s: StartedService): Promise<true | string> {
      const p = s.processes[0];
      if (!p) return Promise.resolve('no traffic process recorded');
      if (sameProcess(p)) return Promise.resolve(true);
      const log = typeof s.detail?.log === 'string' ? s.detail.log : '';
      return Promise.resolve(`the traffic generator (pid ${p.pid}) has stopped${log ? `; its log ends: ${logTail(log, 1)}` : ''}`);
    },
  };
}

function logTail(file: string, lines = 5): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

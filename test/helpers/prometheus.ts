/**
 * A real Prometheus for tests (Debian's `prometheus` / `promtool` 2.42), fed either live by a simulated app
 * (test/fixtures/metrics-service.mjs) or by backfilled blocks built from deterministic scenarios
 * (test/helpers/metrics-scenarios.ts).
 *
 *   const prom = prometheusTest();                       // skips loudly when missing; throws with CI=true
 *   describe.skipIf(!prom.ok)(`watch${prom.skipReason}`, () => {
 *     afterAll(cleanupPrometheusHarness);                // kills whatever is still running, removes temp dirs
 *     it('…', async () => {
 *       const svc = await startMetricsService({ rps: 50 });
 *       const server = await startPrometheus({ scrape: [{ job: 'app', target: svc.target }, { job: 'db', target: svc.target, path: '/db-metrics' }] });
 *       await svc.set({ errorRatio: 0.05 });
 *       …  // or: startPrometheus({ dataDir: await buildBlocks(errorSpikeAt(20)) }) and query at scenarioTime(30)
 *     });
 *   });
 *
 * Processes: every process started here is tracked; a process 'exit' hook SIGKILLs what is left and removes the
 * harness's temp dirs; the metrics service also exits when its stdin pipe closes, and each Prometheus has a small
 * detached watchdog (`sh`) that kills it if the test process dies without running exit hooks (SIGKILL, SIGTERM).
 * Liveness is read from /proc/<pid>/stat (PID 1 in the container does not reap zombies, so kill(pid, 0) lies).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  accessSync,
  closeSync,
  constants,
  fstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import axios, { type AxiosInstance } from 'axios';
import { BASELINE, type Settings } from './metrics-scenarios.js';
import { cockpit } from './cli.js';
import { freePort } from './postgres.js';

export type { Settings } from './metrics-scenarios.js';

const SERVICE_SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/metrics-service.mjs');
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;
const START_ATTEMPTS = 3;

// ───────────────────────────── discovery ─────────────────────────────

let binCache: { prometheus: string; promtool: string } | { missing: string } | undefined;

function findExecutable(name: string, envVar: string): string | null {
  const fromEnv = process.env[envVar];
  if (fromEnv) return isExecutable(fromEnv) ? fromEnv : null;
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), '/usr/bin', '/usr/local/bin'];
  for (const d of dirs) {
    const p = path.join(d, name);
    if (isExecutable(p)) return p;
  }
  return null;
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where `prometheus` and `promtool` are (PATH, then /usr/bin and /usr/local/bin; PROMETHEUS_BIN / PROMTOOL_BIN
 * override), each checked with `--version`; or why not. Cached.
 */
export function prometheusBinaries(): { prometheus: string; promtool: string } | { missing: string } {
  if (binCache) return binCache;
  const found: Record<string, string> = {};
  const problems: string[] = [];
  for (const [name, env] of [
    ['prometheus', 'PROMETHEUS_BIN'],
    ['promtool', 'PROMTOOL_BIN'],
  ] as const) {
    const p = findExecutable(name, env);
    if (!p) {
      problems.push(
        process.env[env] ? `${env}=${process.env[env]} is not executable` : `\`${name}\` not found on PATH or in /usr/bin, /usr/local/bin`,
      );
      continue;
    }
    const r = spawnSync(p, ['--version'], { encoding: 'utf8', timeout: 15_000 });
    if (r.status !== 0) {
      problems.push(
        `\`${p} --version\` failed (${r.error?.message ?? `exit ${r.status}`}): ${(r.stderr || r.stdout || '').trim().split('\n')[0] ?? ''}`,
      );
      continue;
    }
    found[name] = p;
  }
  binCache = problems.length
    ? { missing: `${problems.join('; ')} (install the Debian package: apt-get install -y prometheus)` }
    : { prometheus: found.prometheus, promtool: found.promtool };
  return binCache;
}

export interface PrometheusTestInfo {
  /** Both binaries are usable. */
  ok: boolean;
  /** Why not ('' when ok). */
  why: string;
  /** ' (skipped: <why>)' when not ok, else '' — to append to a describe title. */
  skipReason: string;
}

let warned = false;

/**
 * For a test file's top level. When Prometheus is missing: with CI=true this throws (the file fails); otherwise it
 * prints a loud warning once and returns ok=false so that `describe.skipIf(!info.ok)` skips.
 */
export function prometheusTest(): PrometheusTestInfo {
  const bins = prometheusBinaries();
  if (!('missing' in bins)) return { ok: true, why: '', skipReason: '' };
  const why = `Prometheus not available: ${bins.missing}`;
  if (process.env.CI === 'true') throw new Error(`Prometheus is required in CI but not available: ${bins.missing}`);
  if (!warned) {
    warned = true;
    const bar = '!'.repeat(78);
    console.warn(`\n${bar}\n!! Prometheus tests will be SKIPPED: ${why}\n!! With CI=true this is an error.\n${bar}\n`);
  }
  return { ok: false, why, skipReason: ` (skipped: ${why})` };
}

function requireBinaries(): { prometheus: string; promtool: string } {
  const bins = prometheusBinaries();
  if ('missing' in bins) throw new Error(`Prometheus not available: ${bins.missing}`);
  return bins;
}

// ───────────────────────────── process bookkeeping ─────────────────────────────

interface Tracked {
  name: string;
  child: ChildProcess;
  watchdog?: ChildProcess;
}

const live = new Set<Tracked>();
/** Temp dirs the harness made; removed by cleanupPrometheusHarness() or at exit. */
const ownedDirs = new Set<string>();
/** close() functions of everything still open, for cleanupPrometheusHarness(). */
const openHandles = new Set<() => Promise<void>>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const t of live) {
      killSync(t.child.pid, 'SIGKILL');
      killSync(t.watchdog?.pid, 'SIGKILL');
    }
    live.clear();
    for (const d of ownedDirs) {
      try {
        rmSync(d, { recursive: true, force: true });
      } catch {
        /* best effort */
      }
    }
  });
}

function killSync(pid: number | undefined, sig: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

/** Process state letter from /proc/<pid>/stat ('R', 'S', 'Z', …), or null when there is no such process. */
export function processState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) || null;
  } catch {
    return null;
  }
}

/** Running (not gone, not a zombie). */
export function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  const s = processState(pid);
  return s !== null && s !== 'Z' && s !== 'X' && s !== 'x';
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null || !isAlive(child.pid);
}

async function waitExited(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (!exited(child)) {
    if (Date.now() > until) return false;
    await sleep(20);
  }
  return true;
}

/** SIGTERM, wait up to graceMs, then SIGKILL. Throws if the process still runs after that. */
async function terminate(child: ChildProcess, name: string, graceMs = STOP_GRACE_MS): Promise<void> {
  if (exited(child)) return;
  child.kill('SIGTERM');
  if (await waitExited(child, graceMs)) return;
  child.kill('SIGKILL');
  if (!(await waitExited(child, 5_000))) throw new Error(`${name} (pid ${child.pid}) is still running after SIGKILL`);
}

/**
 * A detached `sh` that kills `pid` (and removes `dirs`) if this process dies first — the case neither stop() nor the
 * exit hook covers. It exits by itself when `pid` ends. Liveness via /proc/<pid>/stat, zombies count as dead.
 */
function startWatchdog(pid: number, dirs: string[]): ChildProcess | undefined {
  const script = [
    'alive() { s=$(sed -n "s/.*) \\(.\\).*/\\1/p" /proc/$1/stat 2>/dev/null); [ -n "$s" ] && [ "$s" != Z ] && [ "$s" != X ]; }',
    'parent=$1; child=$2; shift 2',
    'while alive "$parent" && alive "$child"; do sleep 1; done',
    'alive "$parent" && exit 0',
    'if alive "$child"; then kill -TERM "$child"; sleep 3; alive "$child" && kill -KILL "$child"; fi',
    '[ $# -gt 0 ] && rm -rf "$@"',
    'exit 0',
  ].join('\n');
  try {
    const w = spawn('/bin/sh', ['-c', script, 'cockpit-prom-watchdog', String(process.pid), String(pid), ...dirs], {
      detached: true,
      stdio: 'ignore',
    });
    w.on('error', () => {});
    w.unref();
    return w;
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The last `lines` lines of `file`, from byte `from` on (to show only the latest run of a restarted server). */
function logTail(file: string, lines = 25, from = 0): string {
  try {
    return readFileSync(file).subarray(from).toString('utf8').trimEnd().split('\n').slice(-lines).join('\n') || '(empty)';
  } catch (err) {
    return `(no log at ${file}: ${(err as Error).message})`;
  }
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

/** Kill every process the harness started and still runs, remove its temp dirs. For afterAll. */
export async function cleanupPrometheusHarness(): Promise<void> {
  const errors: string[] = [];
  for (const close of [...openHandles]) {
    try {
      await close();
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  for (const t of [...live]) {
    try {
      await terminate(t.child, t.name, 3_000);
    } catch (err) {
      errors.push((err as Error).message);
    }
    killSync(t.watchdog?.pid, 'SIGKILL');
    live.delete(t);
  }
  for (const d of ownedDirs) rmSync(d, { recursive: true, force: true });
  ownedDirs.clear();
  if (errors.length) throw new Error(`cleanupPrometheusHarness: ${errors.join('; ')}`);
}

// ───────────────────────────── metrics service ─────────────────────────────

export interface MetricsService {
  /** http://127.0.0.1:PORT */
  url: string;
  /** 127.0.0.1:PORT — a Prometheus scrape target (and the `instance` label Prometheus gives its series). */
  target: string;
  /** The service's process id (e.g. to SIGKILL it in a crash test). */
  pid: number;
  /** Change the simulation at once (any subset). Rejects on invalid values. */
  set(p: Partial<Settings>): Promise<void>;
  /** The current settings. */
  get(): Promise<Settings>;
  /** Stop the process (SIGTERM, then SIGKILL). Idempotent. */
  stop(): Promise<void>;
}

/**
 * Start test/fixtures/metrics-service.mjs on a free loopback port with `initial` settings over BASELINE
 * (metrics-scenarios.ts). Its job "app" metrics are at /metrics, job "db" at /db-metrics.
 */
export async function startMetricsService(initial: Partial<Settings> = {}): Promise<MetricsService> {
  installExitHook();
  const settings = { ...BASELINE, ...initial };
  const child = spawn(process.execPath, [SERVICE_SCRIPT, '--port', '0', '--settings', JSON.stringify(settings)], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const tracked: Tracked = { name: 'metrics service', child };
  live.add(tracked);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-8000);
  });
  child.stdin!.on('error', () => {}); // EPIPE if it died

  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('no {"port":N} line within 15 s')), 15_000);
      const onData = (d: Buffer) => {
        out += d.toString();
        const nl = out.indexOf('\n');
        if (nl < 0) return;
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        try {
          const p = (JSON.parse(out.slice(0, nl)) as { port?: unknown }).port;
          if (typeof p !== 'number') throw new Error('no port');
          resolve(p);
        } catch {
          reject(new Error(`unexpected first line ${JSON.stringify(out.slice(0, nl))}`));
        }
      };
      child.stdout!.on('data', onData);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once('exit', (code, sig) => {
        clearTimeout(timer);
        reject(new Error(`exited (${sig ?? `code ${code}`}) before listening`));
      });
    });
  } catch (err) {
    await terminate(child, 'metrics service', 2_000).catch(() => {});
    live.delete(tracked);
    throw new Error(
      `metrics service failed to start: ${(err as Error).message}\n  command: node ${SERVICE_SCRIPT}\n  stderr:\n${indent(stderr.trim() || '(none)')}`,
    );
  }

  const url = `http://127.0.0.1:${port}`;
  const http = axios.create({ baseURL: url, proxy: false, timeout: 10_000, validateStatus: () => true });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    openHandles.delete(stop);
    try {
      await terminate(child, 'metrics service', 3_000);
    } finally {
      live.delete(tracked);
    }
  };
  openHandles.add(stop);
  return {
    url,
    target: `127.0.0.1:${port}`,
    pid: child.pid!,
    async set(p) {
      const r = await http.post('/control', p);
      if (r.status !== 200) throw new Error(`metrics service rejected ${JSON.stringify(p)}: HTTP ${r.status} ${JSON.stringify(r.data)}`);
    },
    async get() {
      const r = await http.get('/control');
      if (r.status !== 200) throw new Error(`metrics service GET /control: HTTP ${r.status}`);
      return r.data as Settings;
    },
    stop,
  };
}

// ───────────────────────────── prometheus server ─────────────────────────────

export interface ScrapeTarget {
  job: string;
  /** host:port */
  target: string;
  /** metrics_path (default /metrics) */
  path?: string;
  /** Extra target labels. */
  labels?: Record<string, string>;
}

export interface PrometheusOptions {
  scrape?: ScrapeTarget[];
  /** Scrape (and evaluation) interval; default '1s'. The scrape timeout equals it. */
  scrapeInterval?: string;
  /** An existing TSDB dir (e.g. from buildBlocks()) to serve. Default: a fresh one in the server's temp dir. */
  dataDir?: string;
  /** More command-line flags, e.g. ['--query.lookback-delta=1m']. */
  extraArgs?: string[];
  /**
   * After /-/ready, also wait until every scrape target has been scraped successfully once (default: true when
   * `scrape` is given). Prometheus 2.42 hands new targets to the scrapers only every 5 s, so this takes ~5 s; pass
   * false for a target meant to be down.
   */
  waitForTargets?: boolean;
}

export interface PromServer {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  dataDir: string;
  /** The running server's process id, or null while stopped. */
  readonly pid: number | null;
  /** Kill the server (SIGTERM, then SIGKILL); keep its data dir and port. Idempotent. */
  stop(): Promise<void>;
  /**
   * Start it again on the same port and data dir; resolves when /-/ready answers and, unless
   * `waitForTargets: false` (default: as given to startPrometheus), every target has been scraped. No-op when running.
   */
  start(opts?: { waitForTargets?: boolean }): Promise<void>;
  /** stop() and delete its temp dir (config, log, and the data dir if the server made it). Idempotent. */
  close(): Promise<void>;
  /** The server log's last lines (for assertion messages). */
  logTail(lines?: number): string;
}

function scrapeConfig(scrape: ScrapeTarget[], interval: string): unknown {
  const jobs = new Map<string, { path: string; targets: Array<{ targets: string[]; labels?: Record<string, string> }> }>();
  for (const s of scrape) {
    const p = s.path ?? '/metrics';
    const j = jobs.get(s.job);
    if (j && j.path !== p)
      throw new Error(`startPrometheus: job "${s.job}" is given two paths (${j.path}, ${p}); use one job name per path`);
    const entry = { targets: [s.target], ...(s.labels ? { labels: s.labels } : {}) };
    if (j) j.targets.push(entry);
    else jobs.set(s.job, { path: p, targets: [entry] });
  }
  return {
    global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
    scrape_configs: [...jobs].map(([job_name, j]) => ({ job_name, metrics_path: j.path, static_configs: j.targets })),
  };
}

/**
 * Start a Prometheus on a free 127.0.0.1 port with a temp config (JSON, which is YAML) scraping `scrape`, retention
 * 100y (backfilled data lies in the past), logging to a file whose tail is in any start error. Resolves when
 * /-/ready answers 200 and (see waitForTargets) every target has been scraped once.
 */
export async function startPrometheus(opts: PrometheusOptions = {}): Promise<PromServer> {
  installExitHook();
  const bins = requireBinaries();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cockpit-prom-'));
  ownedDirs.add(dir);
  const configFile = path.join(dir, 'prometheus.yml');
  const logFile = path.join(dir, 'prometheus.log');
  const dataDir = opts.dataDir ? path.resolve(opts.dataDir) : path.join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(configFile, `${JSON.stringify(scrapeConfig(opts.scrape ?? [], opts.scrapeInterval ?? '1s'), null, 2)}\n`);

  let port = 0;
  let tracked: Tracked | null = null;
  const expectedTargets = (opts.scrape ?? []).length;
  const defaultWaitForTargets = opts.waitForTargets ?? expectedTargets > 0;

  const launch = async (waitForTargets: boolean): Promise<void> => {
    const args = [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${dataDir}`,
      '--storage.tsdb.retention.time=100y',
      `--web.listen-address=127.0.0.1:${port}`,
      ...(opts.extraArgs ?? []),
    ];
    const logFd = openSync(logFile, 'a');
    const logFrom = fstatSync(logFd).size;
    let child: ChildProcess;
    try {
      writeFileSync(logFd, `\n[harness] ${new Date().toISOString()} starting: ${bins.prometheus} ${args.join(' ')}\n`);
      child = spawn(bins.prometheus, args, { cwd: dir, stdio: ['ignore', logFd, logFd] });
    } finally {
      closeSync(logFd);
    }
    let spawnError: Error | null = null;
    child.on('error', (err) => (spawnError = err));
    tracked = { name: `prometheus on port ${port}`, child };
    live.add(tracked);
    if (child.pid)
      tracked.watchdog = startWatchdog(child.pid, [dir, ...(ownedDirs.has(buildRootOf(dataDir)) ? [buildRootOf(dataDir)] : [])]);

    const until = Date.now() + READY_TIMEOUT_MS;
    let lastProblem = '';
    let ready = false;
    for (;;) {
      if (spawnError || exited(child)) {
        await terminateTracked().catch(() => {});
        const how = spawnError
          ? `could not run it: ${(spawnError as Error).message}`
          : `it exited (${child.signalCode ?? `code ${child.exitCode}`})`;
        throw new PrometheusStartError(`prometheus did not become ready: ${how}`, logTail(logFile, 25, logFrom));
      }
      try {
        if (!ready) {
          const r = await axios.get(`http://127.0.0.1:${port}/-/ready`, { proxy: false, timeout: 2_000, validateStatus: () => true });
          if (r.status === 200) ready = true;
          else lastProblem = `/-/ready answered HTTP ${r.status}`;
        }
        if (ready) {
          if (!waitForTargets) return;
          const problem = await targetsProblem(port, expectedTargets);
          if (!problem) return;
          lastProblem = problem;
        }
      } catch (err) {
        lastProblem = (err as Error).message;
      }
      if (Date.now() > until) {
        await terminateTracked().catch(() => {});
        throw new PrometheusStartError(`prometheus not ready after ${READY_TIMEOUT_MS} ms (${lastProblem})`, logTail(logFile, 25, logFrom));
      }
      await sleep(100);
    }
  };

  const terminateTracked = async (): Promise<void> => {
    const t = tracked;
    if (!t) return;
    try {
      await terminate(t.child, t.name);
    } finally {
      killSync(t.watchdog?.pid, 'SIGKILL');
      live.delete(t);
      tracked = null;
    }
  };

  try {
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        await launch(defaultWaitForTargets);
        break;
      } catch (err) {
        const portTaken = err instanceof PrometheusStartError && /address already in use/i.test(err.log);
        if (portTaken && attempt < START_ATTEMPTS) continue;
        throw err;
      }
    }
  } catch (err) {
    const msg =
      err instanceof PrometheusStartError ? `${err.message}\n  log (${logFile}, last lines):\n${indent(err.log)}` : (err as Error).message;
    rmSync(dir, { recursive: true, force: true });
    ownedDirs.delete(dir);
    throw new Error(msg, { cause: err });
  }

  let closed = false;
  const server: PromServer = {
    url: `http://127.0.0.1:${port}`,
    port,
    dataDir,
    get pid() {
      return tracked && !exited(tracked.child) ? (tracked.child.pid ?? null) : null;
    },
    stop: () => terminateTracked(),
    async start(startOpts = {}) {
      if (closed) throw new Error('PromServer.start(): the server was closed');
      if (tracked && !exited(tracked.child)) return;
      await terminateTracked(); // forget a crashed one
      try {
        await launch(startOpts.waitForTargets ?? defaultWaitForTargets);
      } catch (err) {
        if (err instanceof PrometheusStartError)
          throw new Error(`${err.message} (restart on port ${port})\n  log (${logFile}, last lines):\n${indent(err.log)}`, { cause: err });
        throw err;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      openHandles.delete(server.close);
      await terminateTracked();
      rmSync(dir, { recursive: true, force: true });
      ownedDirs.delete(dir);
    },
    logTail: (lines = 25) => logTail(logFile, lines),
  };
  openHandles.add(server.close);
  return server;
}

/** Why not every active target has been scraped successfully yet, or '' when all have. */
async function targetsProblem(port: number, expected: number): Promise<string> {
  const r = await axios.get(`http://127.0.0.1:${port}/api/v1/targets`, {
    params: { state: 'active' },
    proxy: false,
    timeout: 2_000,
    validateStatus: () => true,
  });
  if (r.status !== 200) return `/api/v1/targets answered HTTP ${r.status}`;
  const targets =
    (r.data as { data?: { activeTargets?: Array<{ scrapePool: string; scrapeUrl: string; health: string; lastError: string }> } }).data
      ?.activeTargets ?? [];
  if (targets.length < expected) return `${targets.length} of ${expected} scrape targets known yet`;
  const bad = targets.filter((t) => t.health !== 'up');
  return bad.length
    ? `targets not scraped successfully yet: ${bad.map((t) => `${t.scrapePool} ${t.scrapeUrl} (${t.health}${t.lastError ? `: ${t.lastError}` : ''})`).join(', ')}`
    : '';
}

class PrometheusStartError extends Error {
  constructor(
    message: string,
    readonly log: string,
  ) {
    super(message);
  }
}

// ───────────────────────────── backfill ─────────────────────────────

/** buildBlocks() dirs are <root>/data; the root (with nothing else of value) is what we own. */
function buildRootOf(dataDir: string): string {
  return path.basename(dataDir) === 'data' ? path.dirname(dataDir) : dataDir;
}

/**
 * Build TSDB blocks from OpenMetrics text with `promtool tsdb create-blocks-from openmetrics` into a new temp data dir,
 * and return that dir (for startPrometheus({ dataDir })). Several texts go into the same dir (one promtool run each;
 * Prometheus ≥ 2.39 merges overlapping blocks): give their series distinct labels (e.g. `instance`), or they clash.
 * The dir is removed by cleanupPrometheusHarness() or at exit. Throws with promtool's output on failure.
 */
export async function buildBlocks(openMetricsText: string | string[]): Promise<string> {
  installExitHook();
  const bins = requireBinaries();
  const root = mkdtempSync(path.join(os.tmpdir(), 'cockpit-prom-blocks-'));
  ownedDirs.add(root);
  const dataDir = path.join(root, 'data');
  mkdirSync(dataDir);
  const texts = Array.isArray(openMetricsText) ? openMetricsText : [openMetricsText];
  for (const [i, text] of texts.entries()) {
    if (!/(^|\n)# EOF\n?$/.test(text)) throw new Error(`buildBlocks: input ${i + 1} does not end with "# EOF" (OpenMetrics requires it)`);
    const input = path.join(root, `input-${i + 1}.om`);
    writeFileSync(input, text);
    const args = ['tsdb', 'create-blocks-from', 'openmetrics', input, dataDir];
    const r = await run(bins.promtool, args, 120_000);
    if (r.code !== 0) {
      throw new Error(
        `promtool failed (${r.signal ?? `exit code ${r.code}`}) on input ${i + 1}/${texts.length} (the input file: ${input})\n  command: ${bins.promtool} ${args.join(' ')}\n  stderr:\n${indent(r.stderr.trim() || '(none)')}\n  stdout:\n${indent(r.stdout.trim().slice(-2000) || '(none)')}`,
      );
    }
    rmSync(input, { force: true });
  }
  return dataDir;
}

function run(
  cmd: string,
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const tracked: Tracked = { name: path.basename(cmd), child };
    live.add(tracked);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      stderr += `\n[harness] killed after ${timeoutMs} ms`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      live.delete(tracked);
      reject(new Error(`could not run ${cmd}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      live.delete(tracked);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

// ───────────────────────────── querying (ground truth for tests) ─────────────────────────────

export interface PromSample {
  metric: Record<string, string>;
  /** Parsed with Number(): NaN, Infinity and -Infinity come through as such. */
  value: number;
  /** Unix seconds. */
  t: number;
}

const queryClients = new Map<string, AxiosInstance>();
function clientFor(url: string): AxiosInstance {
  let c = queryClients.get(url);
  if (!c) {
    c = axios.create({ baseURL: url, proxy: false, timeout: 15_000, validateStatus: () => true });
    queryClients.set(url, c);
  }
  return c;
}

/**
 * Instant query (POST form, like the watch will do). `time` in unix seconds or a Date; default: the server's now.
 * Returns the vector (a scalar result becomes one sample with no labels). Throws with Prometheus's error otherwise.
 */
export async function promQuery(promUrl: string, query: string, time?: number | Date): Promise<PromSample[]> {
  const form = new URLSearchParams({ query });
  if (time !== undefined) form.set('time', String(time instanceof Date ? time.getTime() / 1000 : time));
  const r = await clientFor(promUrl).post('/api/v1/query', form);
  const body = r.data as { status?: string; error?: string; errorType?: string; data?: { resultType: string; result: unknown } };
  if (r.status !== 200 || body?.status !== 'success' || !body.data) {
    throw new Error(
      `query failed (HTTP ${r.status}${body?.errorType ? `, ${body.errorType}` : ''}): ${body?.error ?? JSON.stringify(r.data)}\n  query: ${query}`,
    );
  }
  const { resultType, result } = body.data;
  if (resultType === 'scalar') {
    const [t, v] = result as [number, string];
    return [{ metric: {}, value: Number(v), t }];
  }
  if (resultType !== 'vector') throw new Error(`promQuery: expected a vector, got ${resultType}\n  query: ${query}`);
  return (result as Array<{ metric: Record<string, string>; value: [number, string] }>).map((s) => ({
    metric: s.metric,
    value: Number(s.value[1]),
    t: s.value[0],
  }));
}

/** The single value of a query; null for an empty vector; throws if more than one series comes back. */
export async function promValue(promUrl: string, query: string, time?: number | Date): Promise<number | null> {
  const v = await promQuery(promUrl, query, time);
  if (v.length > 1) throw new Error(`promValue: ${v.length} series for ${query}: ${JSON.stringify(v.map((s) => s.metric))}`);
  return v.length ? v[0].value : null;
}

/**
 * Poll `fn` until `accept(value)` holds; resolve with that value. On timeout, throw with the last value (or error)
 * so a failing test shows where it got stuck.
 */
export async function pollUntil<T>(
  fn: () => Promise<T>,
  accept: (v: T) => boolean,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const until = Date.now() + (opts.timeoutMs ?? 20_000);
  let last: { value?: T; error?: unknown } = {};
  for (;;) {
    try {
      const v = await fn();
      if (accept(v)) return v;
      last = { value: v };
    } catch (err) {
      last = { error: err };
    }
    if (Date.now() > until) {
      const seen =
        'error' in last && last.error !== undefined
          ? `last error: ${(last.error as Error).message}`
          : `last value: ${JSON.stringify(last.value)}`;
      throw new Error(`timed out after ${opts.timeoutMs ?? 20_000} ms waiting for ${opts.what ?? 'a condition'}; ${seen}`);
    }
    await sleep(opts.intervalMs ?? 250);
  }
}

/** A metrics service and a Prometheus scraping it as the watch's two jobs: `app`, and `db` on /db-metrics. */
export async function startWatchedService(settings: Partial<Settings> = {}): Promise<{ svc: MetricsService; prom: PromServer }> {
  const svc = await startMetricsService({ rps: 50, paymentsPerSec: 10, ...settings });
  const prom = await startPrometheus({
    scrape: [
      { job: 'app', target: svc.target },
      { job: 'db', target: svc.target, path: '/db-metrics' },
    ],
  });
  return { svc, prom };
}

/** Until the `app` job's payments fill a 10 s window: the payment rules have traffic to judge. */
export async function paymentsFlowing(prom: PromServer): Promise<void> {
  await pollUntil(
    () => promValue(prom.url, 'sum(increase(payments_total{job="app"}[10s]))'),
    (v) => v !== null && v >= 30,
    { what: 'payments in the 10 s window', timeoutMs: 20_000 },
  );
}

/**
 * A watch of `repoDir` that breaches on failed payments (5% of them, for its minute), run headless as a user would:
 * only the payment-ratio rule on, whose advice is a rollback. The service is healthy again afterwards.
 */
export async function runBreachedWatch(repoDir: string, prom: PromServer, svc: MetricsService): Promise<void> {
  writeFileSync(
    path.join(repoDir, 'cockpit.config.yaml'),
    [
      'watch:',
      '  prometheus:',
      `    url: ${prom.url}`,
      '  window: 10s',
      '  disable: [error_rate_increase, latency_p95_increase, failed_payments_any]',
      '',
    ].join('\n'),
  );
  await svc.set({ paymentFailureRatio: 0.05 });
  try {
    const watch = cockpit(['--repo', repoDir, 'watch', '--headless', '--duration', '60s', '--interval', '1s'], { cwd: repoDir });
    if (watch.code !== 1) throw new Error(`the watch was to breach (exit 1), it exited ${watch.code}: ${watch.stderr}`);
  } finally {
    await svc.set({ paymentFailureRatio: 0 });
  }
}

// The demo's supervisor: starts the demo's services in order (src/demo/service.ts is the contract), checks each is
// healthy, records every process it leaves running in <dir>/.sandbox/demo/processes.json (name, pid, and the
// kernel's start time of the pid, so a pid reused by another program is never signalled), writes what depends on the
// ports chosen now into <dir>/cockpit.local.yaml and the cockpit's own environment, and stops everything again:
// when the cockpit quits, on `cockpit demo --stop`, and at the next start when a killed cockpit left a record.
import { prometheusService } from './prometheus.js';
import { receiversService } from './receivers.js';
import { trafficService } from './traffic.js';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { stringify } from 'yaml';
import { startTimeOf } from '../adapters/process-alive.js';
import { sameProcess } from './service.js';

export { sameProcess, startTimeOf };
import { FailedError, UsageError } from '../core/errors.js';
import { LOCAL_CONFIG, packageRoot } from '../paths.js';
import { postgresService } from './postgres.js';
import type { DemoContext, DemoProcess, DemoScenario, DemoService, StartedService } from './service.js';
import { targetsService } from './targets.js';

/** The demo's state folder in a sandbox: logs, data dirs, processes.json. */
export const demoStateDir = (dir: string): string => path.join(dir, '.sandbox', 'demo');
export const processesFile = (dir: string): string => path.join(demoStateDir(dir), 'processes.json');

/**
 * The demo's services, in the order they start (stopped in the reverse order). Each may use what the earlier ones
 * reported (ctx.started): the targets' apps get the database's DATABASE_URL.
 */
export function demoServices(): DemoService[] {
  return [
    postgresService(),
    // The chat and status page the notify steps post to (before the targets: nothing depends on them, and the
    // cockpit.local.yaml they need is whole once every service has started).
    receiversService,
    targetsService(),
    // Optional: without prometheus on the PATH the demo says how to install it, and everything but the watch works.
    prometheusService,
    trafficService(),
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// The record

interface Recorded {
  /** The cockpit that started the services: a second start while it runs is refused. */
  supervisor: { pid: number; startTime?: string };
  startedAt: string;
  /** Each service as it reported itself when it started (its processes, URLs, config), in start order. */
  services: StartedService[];
}

/**
 * Why the record in `file` is not to be trusted, or null: it names the processes the demo signals, so it must be the
 * user's own and writable by nobody else (a record planted in a shared folder must not get root to kill for it).
 */
function recordTrustProblem(file: string): string | null {
  const st = statSync(file);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) return `it belongs to user ${st.uid}, not to you (${uid})`;
  if (st.mode & 0o022) return 'others may write it';
  return null;
}

function readRecord(dir: string): Recorded | null {
  const file = processesFile(dir);
  if (!existsSync(file)) return null;
  const distrust = recordTrustProblem(file);
  if (distrust) throw new UsageError(`${file} is not trusted, so no process it names is signalled: ${distrust}; remove it`);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Recorded;
  } catch {
    return null; // a torn write cannot happen (rename), a hand-edited file is treated as no record
  }
}

/**
 * Written readable by its owner only (like cockpit.local.yaml): it names the processes `--stop` signals. Without the
 * services' localConfig, which holds the chat webhook's token and the status page's API key (cockpit.local.yaml has
 * them; stopping needs only the processes and details).
 */
function writeRecord(dir: string, r: Recorded): void {
  const file = processesFile(dir);
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}`;
  const services = r.services.map(({ localConfig: _secret, ...kept }) => kept);
  rmSync(tmp, { force: true });
  writeFileSync(tmp, JSON.stringify({ ...r, services }, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, file);
}

/** The processes a service reported, each with its start time (read now when the service did not give one). */
function withStartTimes(s: StartedService): StartedService {
  return { ...s, processes: s.processes.map((p) => ({ ...p, startTime: p.startTime ?? startTimeOf(p.pid) })) };
}

/** The pid of another cockpit whose demo runs on `dir` now (its services recorded, itself alive), or null. */
export function runningDemo(dir: string): number | null {
  const rec = readRecord(dir);
  return rec && rec.supervisor.pid !== process.pid && sameProcess(rec.supervisor) ? rec.supervisor.pid : null;
}

// ---------------------------------------------------------------------------------------------------------------
// Stopping

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const KILL_AFTER_MS = 5000;

/** SIGTERM, SIGKILL after 5 s; a process that is not the recorded one is left alone. */
async function stopProcess(p: DemoProcess): Promise<'stopped' | 'killed' | 'gone'> {
  if (!sameProcess(p)) return 'gone';
  try {
    process.kill(p.pid, 'SIGTERM');
  } catch {
    return 'gone';
  }
  const until = Date.now() + KILL_AFTER_MS;
  while (Date.now() < until) {
    if (!sameProcess(p)) return 'stopped';
    await sleep(50);
  }
  if (!sameProcess(p)) return 'stopped';
  try {
    process.kill(p.pid, 'SIGKILL');
  } catch {
    return 'stopped';
  }
  return 'killed';
}

function context(dir: string, log: (line: string) => void, scenario: DemoScenario = 'none'): DemoContext {
  return { dir, stateDir: demoStateDir(dir), scenario, log, started: {}, parentPid: process.pid };
}

export interface StopResult {
  /** There was a record to stop (false: no demo started its services here, or they were stopped already). */
  recorded: boolean;
  /** Recorded processes that were running and were stopped (by their service's hook or a signal). */
  stopped: number;
  /** Of those, killed with SIGKILL after 5 s. */
  killed: number;
  ms: number;
}

/**
 * Stops everything a demo recorded in `dir`: each service's stop hook (newest service first), then SIGTERM to each
 * recorded process whose start time still matches, SIGKILL after 5 s, then removes the record. Nothing recorded:
 * nothing to do (zeros).
 */
export async function stopAll(dir: string, log: (line: string) => void = () => {}, services = demoServices()): Promise<StopResult> {
  const t0 = Date.now();
  const rec = readRecord(dir);
  if (!rec) return { recorded: false, stopped: 0, killed: 0, ms: 0 };
  const ctx = context(dir, log);
  const all = rec.services.flatMap((s) => s.processes);
  const runningBefore = all.filter(sameProcess).length;
  for (const s of [...rec.services].reverse()) {
    const svc = services.find((x) => x.name === s.name);
    if (!svc?.stop) continue;
    try {
      await svc.stop(ctx, s);
    } catch (e) {
      log(`  ${s.name}: its stop did not finish (${(e as Error).message}); its processes are signalled instead`);
    }
  }
  const results = await Promise.all(all.map(stopProcess));
  rmSync(processesFile(dir), { force: true });
  return { recorded: true, stopped: runningBefore, killed: results.filter((r) => r === 'killed').length, ms: Date.now() - t0 };
}

// ---------------------------------------------------------------------------------------------------------------
// Starting

export interface StartOptions {
  dir: string;
  scenario?: DemoScenario;
  log?: (line: string) => void;
  services?: DemoService[];
  /** How the user stops a demo's services (`cockpit demo --stop`, as the command line prints it). */
  stopCommand?: string;
  /**
   * Aborted (Ctrl-C, a closed terminal): the service starting now finishes starting and is recorded, no other starts,
   * and startAll returns with `stopped` (the caller stops what the record names).
   */
  signal?: AbortSignal;
}

export interface StartResult {
  started: Record<string, StartedService>;
  /** Optional services that did not start, and why. */
  skipped: { name: string; why: string }[];
  /** From the first service started to the last one healthy. */
  ms: number;
  /** The start was aborted (StartOptions.signal): not every service started. */
  stopped?: boolean;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The last lines of a service's logs under .sandbox/demo/<name>/ (what a user reads when it failed). */
function logTail(stateDir: string, name: string, lines = 10): string {
  const folder = path.join(stateDir, name);
  const file = [path.join(folder, `${name}.log`), path.join(folder, 'log')].find((f) => existsSync(f));
  if (!file) return '';
  const text = readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  return text ? `\n${path.relative(path.dirname(path.dirname(stateDir)), file)} ends:\n${text}` : '';
}

async function healthy(svc: DemoService, s: StartedService, withinMs = 10_000): Promise<true | string> {
  const until = Date.now() + withinMs;
  for (;;) {
    let r: true | string;
    try {
      r = await svc.check(s);
    } catch (e) {
      r = (e as Error).message;
    }
    if (r === true || Date.now() > until) return r;
    await sleep(200);
  }
}

/**
 * Starts the services in order, each checked healthy before the next starts. A required service that fails stops
 * what started and throws with its log's last lines; an optional one says why and the rest go on. A record left by
 * a killed cockpit is stopped first (said); one whose cockpit still runs is refused.
 */
export async function startAll(o: StartOptions): Promise<StartResult> {
  const dir = path.resolve(o.dir);
  const log = o.log ?? (() => {});
  const services = o.services ?? demoServices();
  const ctx = context(dir, log, o.scenario ?? 'none');
  mkdirSync(ctx.stateDir, { recursive: true });

  const earlier = readRecord(dir);
  if (earlier) {
    if (earlier.supervisor.pid !== process.pid && sameProcess(earlier.supervisor))
      throw new UsageError(
        `a demo is already running on ${dir} (its cockpit is pid ${earlier.supervisor.pid}): use that one, or stop its services with ${o.stopCommand ?? 'cockpit demo --stop'}`,
      );
    const n = earlier.services.flatMap((s) => s.processes).filter(sameProcess).length;
    log(
      `An earlier demo did not stop its services (its cockpit, pid ${earlier.supervisor.pid}, was killed): stopping its ${n} process${n === 1 ? '' : 'es'}`,
    );
    const r = await stopAll(dir, log, services);
    log(`  stopped in ${seconds(r.ms)}${r.killed ? ` (${r.killed} killed after 5 s)` : ''}`);
  }

  const rec: Recorded = {
    supervisor: { pid: process.pid, startTime: startTimeOf(process.pid) },
    startedAt: new Date().toISOString(),
    services: [],
  };
  writeRecord(dir, rec);
  // restore_db.sh and the sandbox's scripts reach the cockpit that runs the demo through this.
  process.env.COCKPIT_JS = path.join(packageRoot(), 'bin', 'cockpit.js');

  const t0 = Date.now();
  const skipped: StartResult['skipped'] = [];
  let said = 0;
  ctx.log = (line) => {
    said++;
    log(line);
  };
  const aborted = () => o.signal?.aborted === true;
  for (const svc of services) {
    if (aborted()) break;
    const t = Date.now();
    const saidBefore = said;
    let s: StartedService | null = null;
    let why: string | null = null;
    try {
      s = withStartTimes(await svc.start(ctx));
    } catch (e) {
      why = (e as Error).message;
      // What a start that failed halfway left running (the targets' first environment, a server pg_ctl started) is not
      // in the record: its own stop looks for it now.
      await svc.stop?.(ctx, { name: svc.name, processes: [] }).catch(() => {});
    }
    if (aborted()) {
      // Recorded, for the caller's stop; no check, no verdict.
      if (s) {
        rec.services.push(s);
        writeRecord(dir, rec);
      }
      break;
    }
    if (s) {
      // Recorded before its check: a cockpit killed now still leaves the record the next start stops.
      rec.services.push(s);
      writeRecord(dir, rec);
      const h = await healthy(svc, s);
      if (h !== true) why = `started, but is not healthy: ${h}`;
    }
    if (why === null && s) {
      ctx.started[svc.name] = s;
      for (const [k, v] of Object.entries(s.env ?? {})) process.env[k] = v;
      // Its URLs, unless it said where it runs itself.
      const urls = said === saidBefore ? Object.entries(s.urls ?? {}).map(([k, v]) => `${k} ${v}`) : [];
      log(`✓ ${svc.name} healthy (${seconds(Date.now() - t)})${urls.length ? `: ${urls.join(', ')}` : ''}`);
      continue;
    }
    if (svc.optional) {
      log(`○ ${svc.name} did not start (${seconds(Date.now() - t)}): ${why}`);
      skipped.push({ name: svc.name, why: why ?? '' });
      if (s) {
        // Its processes are stopped now (its own stop first); the others keep their record.
        await svc.stop?.(ctx, s).catch(() => {});
        await Promise.all(s.processes.map(stopProcess));
        rec.services = rec.services.filter((x) => x !== s);
        writeRecord(dir, rec);
      }
      continue;
    }
    log(`✗ ${svc.name} did not start (${seconds(Date.now() - t)}): stopping the demo's services`);
    const tail = logTail(ctx.stateDir, svc.name);
    await stopAll(dir, log, services);
    throw new FailedError(`the demo's ${svc.name} did not start: ${why}${tail}`);
  }
  if (aborted()) return { started: ctx.started, skipped, ms: Date.now() - t0, stopped: true };
  writeLocalConfig(dir, Object.values(ctx.started));
  return { started: ctx.started, skipped, ms: Date.now() - t0 };
}

// ---------------------------------------------------------------------------------------------------------------
// cockpit.local.yaml

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Objects merge key by key; anything else replaces (the overlay's own rule). */
export function mergeConfig(into: Record<string, unknown>, from: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...into };
  for (const [k, v] of Object.entries(from)) out[k] = isObject(v) && isObject(out[k]) ? mergeConfig(out[k], v) : v;
  return out;
}

/**
 * Writes the services' localConfig, merged, into <dir>/cockpit.local.yaml (replaced at every start: the ports are
 * new), and makes sure git ignores it (the sandbox's .gitignore lists it; an older sandbox gets .git/info/exclude).
 */
export function writeLocalConfig(dir: string, started: StartedService[]): void {
  let merged: Record<string, unknown> = {};
  for (const s of started) if (s.localConfig) merged = mergeConfig(merged, s.localConfig);
  const header = [
    '# Written by `cockpit demo` at every start: the values that depend on the ports its services got this time',
    '# (merged over cockpit.config.yaml). Not committed; edits are lost at the next start.',
    '',
  ].join('\n');
  const body = Object.keys(merged).length ? stringify(merged) : '{}\n';
  const file = path.join(dir, LOCAL_CONFIG);
  // Owner only: it holds the demo's chat token and status-page API key.
  rmSync(`${file}.tmp`, { force: true });
  writeFileSync(`${file}.tmp`, header + body, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
  const ignored = spawnSync('git', ['check-ignore', '-q', LOCAL_CONFIG], { cwd: dir, stdio: 'ignore' }).status === 0;
  if (!ignored && existsSync(path.join(dir, '.git'))) {
    mkdirSync(path.join(dir, '.git', 'info'), { recursive: true });
    appendFileSync(path.join(dir, '.git', 'info', 'exclude'), `\n${LOCAL_CONFIG}\n`);
  }
}

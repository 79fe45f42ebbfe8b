// The demo's deploy script (scripts/deploy.sh of the sandbox runs this, bundled as dist/demo-deploy.js): a real
// blue/green target on this machine, following the cockpit's deploy script contract.
//
//   deploy <version> --env E [--colour C]   start the Property app at <version> on the idle colour (or C), wait for
//                                            /health; the live colour keeps serving (the first deploy goes live).
//                                            In-place environments: the new colour then goes live at once (the
//                                            version is live when deploy exits 0); --colour is refused there
//   switch <colour> --env E                  send traffic to <colour>: one HAProxy runtime command, read back, then
//                                            verified on the public URL by the X-App-Version header (blue-green only)
//   rollback <version> --env E               switch back when the idle colour runs <version>, else deploy it there
//                                            and switch
//   status --env E [--json]                  which colour is live (as HAProxy says now), each colour's version and
//                                            health (as the app answers now), and the URLs; `version` and `healthy`
//                                            are the live colour's (what the contract asks of an in-place status)
//   stop --env E                             stop the apps and the proxy of the environment
//
// Which environments are in-place: every one but `production`, which is blue-green (the cockpit's own default for
// deploy.<env>.strategy, so a sandbox config that leaves strategy out agrees with it). Underneath, an in-place
// environment is the same blue/green pair: its deploy starts the new version beside the old one and switches at
// once, so it too changes versions without a failed request.
//
// State lives in .cockpit/bluegreen/<env>/ under the current directory (or --dir): state.json (pids, ports,
// versions), the HAProxy configuration, its admin socket, pid file and live.map, each app's log, and actions.log:
// one JSON line per effect (an app started, traffic switched), the script's own record of what it did. Every process
// is started on a free loopback port and stopped by its pid (an app whose port another process took before it listened
// exits 3 and is started again on another; a health answer counts only from the pid started). A lock file keeps two
// runs on one environment apart.
// targets.json there is a Prometheus file_sd list of the environment's app processes (labels env and colour),
// rewritten with every state change, so the demo's Prometheus scrapes whichever colours run.
//
// The demo's scenario (cockpit demo --scenario; the file .sandbox/demo/scenario, see ./scenario.ts): an app whose
// version has the fault is started with --scenario.
import { freePort } from '../../adapters/free-port.js';
import { processRuns } from '../../adapters/process-alive.js';
import { spawn } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isProcessAlive } from '../../adapters/shell.js';
import { FailedError } from '../../core/errors.js';
import { PORT_TAKEN_EXIT } from './exit-codes.js';
import { faultOf, readScenario } from './scenario.js';
import {
  COLOURS,
  type Colour,
  type ProxyPaths,
  checkConfig,
  haproxyBinary,
  haproxyConfig,
  liveFromRuntime,
  proxyPaths,
  runtime,
  runtimeOk,
  serverState,
} from './haproxy.js';

/** What the deploy script says on stderr before exiting 1. */
class Failure extends FailedError {}

interface ColourState {
  pid: number;
  port: number;
  version: string;
  startedAt: string;
}
interface State {
  env: string;
  proxy: { pid: number; port: number } | null;
  colours: Partial<Record<Colour, ColourState>>;
  /** The live colour as this script last set it; `status` asks HAProxy instead, this is the fallback. */
  live: Colour | null;
  /** Set while a switch runs: a run killed half-way leaves it, and the next run says so. */
  switching?: { from: Colour | null; to: Colour; startedAt: string };
}

interface Ctx {
  env: string;
  /** The sandbox (--dir, else the current directory). */
  root: string;
  dir: string;
  paths: ProxyPaths;
  statePath: string;
  timeoutMs: number;
}

const out = (s: string) => process.stdout.write(`${s}\n`);
/** The demo's rule: production is blue-green, every other environment in-place (see the top of this file). */
const inPlace = (env: string): boolean => env !== 'production';
const other = (c: Colour): Colour => (c === 'blue' ? 'green' : 'blue');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------------------------
// State and processes

function readState(ctx: Ctx): State {
  if (!existsSync(ctx.statePath)) return { env: ctx.env, proxy: null, colours: {}, live: null };
  return JSON.parse(readFileSync(ctx.statePath, 'utf8')) as State;
}

/** Written beside and renamed: a run killed at any point leaves the old state or the new one, whole. */
function writeState(ctx: Ctx, s: State): void {
  const tmp = `${ctx.statePath}.${process.pid}`;
  writeFileSync(tmp, JSON.stringify(s, null, 2) + '\n');
  renameSync(tmp, ctx.statePath);
  writeTargets(ctx, s);
}

/** targets.json: Prometheus's file_sd list of the environment's app processes, one group per colour. */
function writeTargets(ctx: Ctx, s: State): void {
  const groups = COLOURS.flatMap((colour) => {
    const cs = s.colours[colour];
    return cs ? [{ targets: [`127.0.0.1:${cs.port}`], labels: { env: ctx.env, colour } }] : [];
  });
  writeFileAtomic(path.join(ctx.dir, 'targets.json'), JSON.stringify(groups, null, 2) + '\n');
}

/** The script's own record of its effects: one JSON line per app started and per switch of traffic. */
function recordAction(ctx: Ctx, action: Record<string, unknown>): void {
  appendFileSync(path.join(ctx.dir, 'actions.log'), `${JSON.stringify({ at: new Date().toISOString(), pid: process.pid, ...action })}\n`);
}

function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/**
 * What this environment's HAProxy has on its command line (`-f <state dir>/haproxy.cfg`): the end of that path, so a
 * pid reused by another HAProxy (the machine's own, serving real traffic) is never taken for it.
 */
const haproxyMark = (ctx: Ctx) => path.join(path.sep + '.cockpit', 'bluegreen', ctx.env, 'haproxy.cfg');

/**
 * The pid runs and is the program we started (its command line holds `mark`: this environment's HAProxy config, the
 * app script's path): a reused pid is not ours.
 */
function ours(pid: number | undefined, name: string): boolean {
  if (!pid || !isProcessAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(name);
  } catch {
    return true; // no /proc: the pid answering is all we can know
  }
}

async function stopPid(pid: number, name: string, graceMs = 15_000): Promise<void> {
  if (!ours(pid, name)) return;
  process.kill(pid, 'SIGTERM');
  const until = Date.now() + graceMs;
  while (Date.now() < until) {
    if (!ours(pid, name)) return;
    await sleep(50);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone meanwhile */
  }
}

/** One GET on a fresh connection (no keep-alive: each answer is from whoever serves now). */
function get(url: string, timeoutMs = 2000): Promise<{ status: number; version: string | null; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        const v = res.headers['x-app-version'];
        resolve({ status: res.statusCode ?? 0, version: typeof v === 'string' ? v : null, body });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

async function health(port: number): Promise<{ healthy: boolean; version: string | null; pid: number | null }> {
  try {
    const r = await get(`http://127.0.0.1:${port}/health`, 1000);
    let pid: number | null = null;
    try {
      pid = Number((JSON.parse(r.body) as { pid?: unknown }).pid) || null;
    } catch {
      /* not the app's JSON */
    }
    return { healthy: r.status === 200, version: r.version, pid };
  } catch {
    return { healthy: false, version: null, pid: null };
  }
}

/** What the app's command line holds (to know a pid is ours), and its file beside this one (.js in dist/, .mjs in a sandbox). */
const APP = 'demo-app';
const appScript = () => {
  const self = fileURLToPath(import.meta.url);
  return path.join(path.dirname(self), `${APP}${path.extname(self)}`);
};

// ---------------------------------------------------------------------------------------------------------------
// The lock

function lock(ctx: Ctx): () => void {
  const file = path.join(ctx.dir, 'lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeFileSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = Number(readFileSync(file, 'utf8').trim());
      // A dead holder is a killed run's lock.
      if (holder !== process.pid && processRuns(holder))
        throw new Failure(`another deploy script (pid ${holder}) is working on ${ctx.env}; wait for it, or stop it`);
      out(`a previous run (pid ${holder}) was stopped half-way; taking its lock over`);
      rmSync(file, { force: true });
    }
  }
  throw new Failure(`could not take the lock ${file}`);
}

// ---------------------------------------------------------------------------------------------------------------
// The proxy

async function proxyAnswers(ctx: Ctx): Promise<boolean> {
  try {
    return (await runtime(ctx.paths.socket, 'show info', 1000)).includes('Name:');
  } catch {
    return false;
  }
}

/** HAProxy running for the environment: started (on the ports in the state) when it is not. */
async function ensureProxy(ctx: Ctx, s: State): Promise<void> {
  if (s.proxy && ours(s.proxy.pid, haproxyMark(ctx)) && (await proxyAnswers(ctx))) return;
  if (!haproxyBinary()) throw new Failure('haproxy is not installed (Debian/Ubuntu: apt-get install haproxy)');
  const port = s.proxy?.port ?? (await freePort());
  const ports = { blue: null, green: null } as Record<Colour, number | null>;
  for (const c of COLOURS) {
    const cs = s.colours[c];
    if (cs && ours(cs.pid, appScript())) ports[c] = cs.port;
  }
  writeFileAtomic(ctx.paths.config, haproxyConfig(ctx.paths, port, ports));
  // The entry is always there (be_none: a 503 until a colour goes live): `set map` changes an entry, it adds none.
  if (!existsSync(ctx.paths.map)) writeFileAtomic(ctx.paths.map, `live be_${s.live ?? 'none'}\n`);
  checkConfig(ctx.paths);
  rmSync(ctx.paths.pidFile, { force: true });
  rmSync(ctx.paths.socket, { force: true });
  const child = spawn('haproxy', ['-D', '-f', ctx.paths.config], { cwd: ctx.dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  if (code !== 0) throw new Failure(`haproxy did not start (exit ${code}): ${stderr.trim()}`);
  const pid = Number(readFileSync(ctx.paths.pidFile, 'utf8').trim());
  s.proxy = { pid, port };
  writeState(ctx, s);
  const until = Date.now() + 5000;
  while (!(await proxyAnswers(ctx))) {
    if (Date.now() > until) throw new Failure(`haproxy (pid ${pid}) does not answer on ${ctx.paths.socket}`);
    await sleep(50);
  }
  out(`haproxy started (pid ${pid}) on http://127.0.0.1:${port}`);
}

async function waitServerUp(ctx: Ctx, colour: Colour): Promise<void> {
  const until = Date.now() + ctx.timeoutMs;
  for (;;) {
    const st = await serverState(ctx.paths, colour);
    if (st && st.opState === 2 && st.adminState === 0) return;
    if (Date.now() > until) throw new Failure(`haproxy does not see ${colour} as up (${JSON.stringify(st)})`);
    await sleep(50);
  }
}

/** The live colour: HAProxy's when it answers, else the map file it would start with. */
async function liveNow(ctx: Ctx): Promise<Colour | null> {
  if (await proxyAnswers(ctx)) return liveFromRuntime(ctx.paths);
  try {
    const m = /^live\s+be_(blue|green)\s*$/m.exec(readFileSync(ctx.paths.map, 'utf8'));
    return m ? (m[1] as Colour) : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Commands

async function deploy(ctx: Ctx, version: string, colourFlag: Colour | undefined): Promise<void> {
  const s = readState(ctx);
  await ensureProxy(ctx, s);
  const live = await liveNow(ctx);
  if (colourFlag && inPlace(ctx.env))
    throw new Failure(`${ctx.env} is in-place: deploy makes the version live, there is no colour to choose (--colour)`);
  const colour = colourFlag ?? (live ? other(live) : 'blue');
  if (colour === live) throw new Failure(`${colour} is live on ${ctx.env}: deploy to the idle colour (${other(colour)}), then switch`);
  const current = s.colours[colour];
  if (current && ours(current.pid, appScript())) {
    let h = await health(current.port);
    // A run killed during its health wait left this app starting: it is waited for, not started a second time.
    if (!h.healthy && current.version === version) {
      out(`${colour} is starting ${version} (pid ${current.pid}, left by an interrupted run): waiting for its health`);
      const until = Date.now() + ctx.timeoutMs;
      while (!h.healthy && ours(current.pid, appScript()) && Date.now() < until) {
        await sleep(100);
        h = await health(current.port);
      }
    }
    if (h.healthy && h.version === version) {
      out(`${colour} already runs ${version} and is healthy on ${ctx.env}: nothing to deploy`);
      await pointProxy(ctx, colour, current.port);
      if (!live || inPlace(ctx.env)) await doSwitch(ctx, colour);
      return;
    }
    out(`stopping ${colour} (${current.version}, pid ${current.pid})`);
    await runtimeOk(ctx.paths.socket, `set server be_${colour}/app state maint`);
    await stopPid(current.pid, appScript());
  }
  delete s.colours[colour];
  writeState(ctx, s);

  const fault = faultOf(readScenario(ctx.root), version);
  const port = await startApp(ctx, s, colour, version, fault);
  out(`health check: ${colour} answers 200 with version ${version}`);
  await pointProxy(ctx, colour, port);
  if (!live) {
    out(`no colour was live on ${ctx.env}: ${colour} goes live`);
    await doSwitch(ctx, colour);
  } else if (inPlace(ctx.env)) {
    out(`${ctx.env} is in-place: ${colour} goes live`);
    await doSwitch(ctx, colour);
  } else {
    out(`${live} stays live; switch with: switch ${colour} --env ${ctx.env}`);
  }
}

/**
 * Starts the app for `colour` on a free port and waits until it answers its health check as the process started
 * (its pid in the answer: another process on the port is not it). The port is free when chosen, but another process
 * on the machine may take it before the app listens: the app then exits PORT_TAKEN_EXIT and is started again on
 * another port (3 attempts). Returns the port it serves on.
 */
async function startApp(ctx: Ctx, s: State, colour: Colour, version: string, fault: string | null): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const log = openSync(path.join(ctx.dir, `${colour}.log`), 'a');
    const args = [appScript(), '--port', String(port), '--version', version, '--colour', colour, ...(fault ? ['--scenario', fault] : [])];
    const child = spawn(process.execPath, args, {
      cwd: ctx.dir,
      detached: true,
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    let exitCode: number | null = null;
    child.on('exit', (code) => (exitCode = code));
    child.unref();
    if (!child.pid) throw new Failure(`could not start the app for ${colour}`);
    // Recorded before the wait: a run killed now still leaves a process `stop` and the next deploy can find.
    s.colours[colour] = { pid: child.pid, port, version, startedAt: new Date().toISOString() };
    writeState(ctx, s);
    recordAction(ctx, { action: 'start', env: ctx.env, version, colour, app: child.pid, ...(fault ? { scenario: fault } : {}) });
    out(
      `starting Property ${version} on ${colour} (pid ${child.pid}, http://127.0.0.1:${port})${fault ? ` with the demo's ${fault} scenario` : ''}`,
    );

    const until = Date.now() + ctx.timeoutMs;
    for (;;) {
      const h = await health(port);
      if (h.healthy && h.version === version && h.pid === child.pid) return port;
      if (exitCode === PORT_TAKEN_EXIT && attempt < 3) break;
      if (exitCode !== null || !ours(child.pid, appScript()) || Date.now() > until) {
        await stopPid(child.pid, appScript(), 2000);
        let tail = '';
        try {
          tail = readFileSync(path.join(ctx.dir, `${colour}.log`), 'utf8')
            .trim()
            .split('\n')
            .slice(-5)
            .join('\n');
        } catch {
          /* no log */
        }
        throw new Failure(`${colour} did not become healthy within ${ctx.timeoutMs / 1000}s${tail ? `; its log ends:\n${tail}` : ''}`);
      }
      await sleep(100);
    }
    out(`port ${port} was taken by another process before ${colour} could listen: starting it again on another port`);
    delete s.colours[colour];
    writeState(ctx, s);
  }
}

/** The colour's backend server at the app's port, ready, and seen up by HAProxy's own health check. */
async function pointProxy(ctx: Ctx, colour: Colour, port: number): Promise<void> {
  const st = await serverState(ctx.paths, colour);
  if (!st || st.port !== port || st.addr !== '127.0.0.1') {
    await runtimeOk(ctx.paths.socket, `set server be_${colour}/app addr 127.0.0.1 port ${port}`);
  }
  await runtimeOk(ctx.paths.socket, `set server be_${colour}/app state ready`);
  await waitServerUp(ctx, colour);
}

async function doSwitch(ctx: Ctx, colour: Colour): Promise<void> {
  const s = readState(ctx);
  await ensureProxy(ctx, s);
  const target = s.colours[colour];
  if (!target || !ours(target.pid, appScript())) throw new Failure(`${colour} is not running on ${ctx.env}: deploy to it first`);
  const h = await health(target.port);
  if (!h.healthy) throw new Failure(`${colour} (${target.version}) is not healthy: not switching`);
  await pointProxy(ctx, colour, target.port);
  const before = await liveNow(ctx);
  if (before === colour) {
    out(`${colour} (${target.version}) is already live on ${ctx.env}`);
  } else {
    s.switching = { from: before, to: colour, startedAt: new Date().toISOString() };
    writeState(ctx, s);
    // The switch itself: one runtime command; each new request is routed by the map from here on.
    await runtimeOk(ctx.paths.socket, `set map ${ctx.paths.map} live be_${colour}`);
    recordAction(ctx, { action: 'switch', env: ctx.env, from: before, to: colour, version: target.version });
  }
  const readBack = await liveFromRuntime(ctx.paths);
  if (readBack !== colour) throw new Failure(`haproxy says ${readBack ?? 'no colour'} is live after switching to ${colour}`);
  // Then the file HAProxy would start from, so a restart does not send traffic back to the old colour. Also when
  // the colour was live already: a run killed between the runtime command and this line left the file behind.
  writeFileAtomic(ctx.paths.map, `live be_${colour}\n`);
  const url = `http://127.0.0.1:${s.proxy!.port}/version`;
  for (let i = 0; i < 3; i++) {
    const r = await get(url);
    if (r.version !== target.version) {
      throw new Failure(`the public URL answered version ${r.version ?? 'none'} (status ${r.status}), not ${target.version}`);
    }
  }
  s.live = colour;
  delete s.switching;
  writeState(ctx, s);
  const was = before ? `${before} (${s.colours[before]?.version ?? '?'})` : 'no colour';
  if (before !== colour)
    out(`switched ${ctx.env} from ${was} to ${colour} (${target.version})${before ? `; ${before} keeps running` : ''}`);
  out(`verified: haproxy routes to be_${colour}, http://127.0.0.1:${s.proxy!.port} answers X-App-Version ${target.version}`);
}

async function rollback(ctx: Ctx, version: string): Promise<void> {
  const s = readState(ctx);
  await ensureProxy(ctx, s);
  const live = await liveNow(ctx);
  if (live && s.colours[live]?.version === version && (await health(s.colours[live]!.port)).healthy) {
    out(`${live} is live at ${version} already: nothing to roll back`);
    return;
  }
  const idle = live ? other(live) : 'blue';
  const cs = s.colours[idle];
  if (cs && ours(cs.pid, appScript())) {
    const h = await health(cs.port);
    if (h.healthy && h.version === version) {
      out(`${idle} still runs ${version}: switching back`);
      await doSwitch(ctx, idle);
      return;
    }
  }
  out(`no colour runs ${version}: deploying it to ${idle}, then switching`);
  await deploy(ctx, version, idle);
  await doSwitch(ctx, idle);
}

interface StatusOut {
  env: string;
  strategy: 'in-place' | 'blue-green';
  live: Colour | null;
  /** The live colour's version and health: the fields of an in-place status. */
  version: string | null;
  healthy: boolean;
  url: string | null;
  proxy: { running: boolean; pid: number | null };
  switching?: State['switching'];
  colours: Record<Colour, { version: string | null; healthy: boolean; url: string | null; pid: number | null; running: boolean }>;
}

async function status(ctx: Ctx): Promise<StatusOut> {
  const s = readState(ctx);
  const running = !!s.proxy && ours(s.proxy.pid, haproxyMark(ctx)) && (await proxyAnswers(ctx));
  const colours = {} as StatusOut['colours'];
  for (const c of COLOURS) {
    const cs = s.colours[c];
    const alive = !!cs && ours(cs.pid, appScript());
    const h = alive ? await health(cs.port) : { healthy: false, version: null };
    colours[c] = {
      // What the app says it runs; the recorded version while it does not answer.
      version: h.version ?? cs?.version ?? null,
      healthy: h.healthy,
      url: cs ? `http://127.0.0.1:${cs.port}` : null,
      pid: alive ? cs.pid : null,
      running: alive,
    };
  }
  const live = await liveNow(ctx);
  const st: StatusOut = {
    env: ctx.env,
    strategy: inPlace(ctx.env) ? 'in-place' : 'blue-green',
    live,
    version: live ? colours[live].version : null,
    healthy: live ? colours[live].healthy : false,
    url: s.proxy ? `http://127.0.0.1:${s.proxy.port}` : null,
    proxy: { running, pid: running ? s.proxy!.pid : null },
    colours,
  };
  if (s.switching) st.switching = s.switching;
  return st;
}

async function stopAll(ctx: Ctx): Promise<void> {
  const s = readState(ctx);
  for (const c of COLOURS) {
    const cs = s.colours[c];
    if (cs && ours(cs.pid, appScript())) {
      await stopPid(cs.pid, appScript());
      out(`stopped ${c} (pid ${cs.pid})`);
    }
    delete s.colours[c];
  }
  if (s.proxy && ours(s.proxy.pid, haproxyMark(ctx))) {
    await stopPid(s.proxy.pid, haproxyMark(ctx));
    out(`stopped haproxy (pid ${s.proxy.pid})`);
  }
  s.proxy = null;
  s.live = null;
  delete s.switching;
  writeFileAtomic(ctx.paths.map, 'live be_none\n');
  writeState(ctx, s);
}

// ---------------------------------------------------------------------------------------------------------------
// Arguments

const USAGE = `usage: deploy.sh deploy <version> --env E [--colour blue|green]
       deploy.sh switch <colour> --env E   (production: blue-green; every other environment is in-place)
       deploy.sh rollback <version> --env E
       deploy.sh status --env E [--json]
       deploy.sh stop --env E
options: --dir D (the state is in D/.cockpit/bluegreen/<env>; default: the current directory),
         --timeout S (seconds to wait for a new app's health; default 30)`;

function parse(argv: string[]) {
  const pos: string[] = [];
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') flags.json = true;
    else if (a.startsWith('--')) {
      const [k, v] = a.includes('=') ? [a.slice(2, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a.slice(2), argv[++i]];
      if (!['env', 'colour', 'dir', 'timeout'].includes(k)) throw new Failure(`unknown option --${k}\n${USAGE}`);
      if (v === undefined) throw new Failure(`--${k} needs a value\n${USAGE}`);
      flags[k] = v;
    } else pos.push(a);
  }
  return { pos, flags };
}

function colourArg(v: string | undefined): Colour {
  if (v === 'blue' || v === 'green') return v;
  throw new Failure(`a colour is blue or green, not ${JSON.stringify(v ?? '')}`);
}

function versionArg(v: string | undefined): string {
  if (v && /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/.test(v)) return v;
  throw new Failure(`not a version: ${JSON.stringify(v ?? '')}`);
}

export async function main(argv: string[]): Promise<number> {
  let unlock: (() => void) | null = null;
  try {
    const { pos, flags } = parse(argv);
    const [cmd, arg] = pos;
    const env = flags.env;
    if (!cmd || typeof env !== 'string') throw new Failure(USAGE);
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/.test(env)) throw new Failure(`not an environment name: ${JSON.stringify(env)}`);
    const root = typeof flags.dir === 'string' ? flags.dir : process.cwd();
    const dir = path.resolve(root, '.cockpit', 'bluegreen', env);
    mkdirSync(dir, { recursive: true });
    const paths = proxyPaths(dir);
    if (paths.socket.length > 100) throw new Failure(`the state directory's path is too long for a unix socket: ${dir}`);
    const timeout = typeof flags.timeout === 'string' ? Number(flags.timeout) : 30;
    if (!(timeout > 0)) throw new Failure(`--timeout is a number of seconds, not ${JSON.stringify(flags.timeout)}`);
    const ctx: Ctx = { env, root: path.resolve(root), dir, paths, statePath: path.join(dir, 'state.json'), timeoutMs: timeout * 1000 };
    if (cmd === 'status') {
      const st = await status(ctx);
      if (flags.json) out(JSON.stringify(st));
      else {
        out(
          `${env}: ${st.live ? `${st.live} is live` : 'no colour is live'}${st.url ? ` at ${st.url}` : ''}${st.proxy.running ? '' : ' (haproxy is not running)'}`,
        );
        for (const c of COLOURS) {
          const x = st.colours[c];
          out(`  ${c.padEnd(6)}${x.running ? `${x.version} ${x.healthy ? 'healthy' : 'unhealthy'} at ${x.url}` : 'not running'}`);
        }
        if (st.switching) out(`  a switch to ${st.switching.to} started at ${st.switching.startedAt} did not finish; run switch again`);
      }
      return 0;
    }
    unlock = lock(ctx);
    if (cmd === 'deploy') await deploy(ctx, versionArg(arg), typeof flags.colour === 'string' ? colourArg(flags.colour) : undefined);
    else if (cmd === 'switch') {
      if (inPlace(env)) throw new Failure(`${env} is in-place: deploy makes a version live, there is no switch`);
      await doSwitch(ctx, colourArg(arg));
    } else if (cmd === 'rollback') await rollback(ctx, versionArg(arg));
    else if (cmd === 'stop') await stopAll(ctx);
    else throw new Failure(`unknown command ${JSON.stringify(cmd)}\n${USAGE}`);
    return 0;
  } catch (e) {
    process.stderr.write(`deploy.sh: ${(e as Error).message}\n`);
    return e instanceof Failure && (e.message.startsWith('usage') || e.message.includes(USAGE)) ? 2 : 1;
  } finally {
    unlock?.();
  }
}

process.exitCode = await main(process.argv.slice(2));

/**
 * The demo's start-up and memory (issue 17, "Measure"): `npm start` (= `cockpit demo`) to its home screen with every
 * demo service healthy, beside the sandbox's git part alone in the same run; and the demo's resident memory with
 * everything up. Each round, interleaved, under a pseudo-terminal (`script -qfec`, 100x30, as the start-up benchmark):
 *
 *   (a) `cockpit demo --dir <new folder> --no-services`: the git sandbox made, to its home screen. The baseline.
 *   (b) `cockpit demo --dir <new folder>`: a new sandbox and every service (a new PostgreSQL cluster initdb'd and
 *       migrated, the chat and status-page receivers, the Property app v1.3.0 on staging and production behind
 *       HAProxy, Prometheus, the traffic generator), to its home screen. Its memory is read 2 s after the home screen
 *       is drawn (the traffic and the scrapes running).
 *   (c) `cockpit demo --dir <one kept folder>`: the same on an existing sandbox (the cluster kept, its migrations
 *       applied), which is what a user sees at the second `npm start`.
 *
 * "On its home screen" is the first time the pty output holds both the demo's story line ("Story:") and the
 * checklists' pane ("Checklists ("): the cockpit opens its home only once the supervisor has every service healthy.
 * Each run is then quit with `q`, as a user does, and the time to the cockpit's exit (the supervisor stopping every
 * service) is timed too; then every pid it had recorded (<sandbox>/.sandbox/demo/processes.json), the apps and proxies
 * of the sandbox's deploy script state (<sandbox>/.cockpit/bluegreen/<env>/state.json) and their children must be
 * gone: one left is an orphan, a bug, and the benchmark stops with an error saying which.
 *
 * Memory: every process of the demo, once: the cockpit, the recorded pids, the deploy script's pids, and all their
 * descendants (PostgreSQL's backends, a server's workers). VmRSS from /proc/<pid>/status, and PSS from
 * /proc/<pid>/smaps_rollup when readable; PostgreSQL's processes share their buffers (RSS counts the shared memory
 * once per process), so the total counts the postmaster and its children by PSS, every other process by RSS.
 *
 * The cockpit measured is a private build of the current src/ (run.ts's privateBuild), its cache (XDG_CACHE_HOME) a
 * private folder; the sandboxes live in a temp folder the PostgreSQL user can reach (as root the server runs as
 * `postgres`). Every process is killed by pid on any error, and the temp folders are removed. It starts real servers
 * at every round, hence few rounds. A report, not a test: it exits 0 whatever the figures (1 if it could not measure,
 * or found an orphan).
 *
 *   node --import tsx scripts/bench/demo.ts [--runs N]     (default 3 rounds, after 1 warm-up round)
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { privateBuild, runBenchmark } from './run.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const runsArg = process.argv.indexOf('--runs');
const runs = (runsArg > 0 && Number(process.argv[runsArg + 1])) || 3;
const WARMUP = 1;
const node = process.execPath;
const HOME_WITHIN_MS = 240_000;
const EXIT_WITHIN_MS = 60_000;
const SETTLE_MS = 2000;
const MARKERS = ['Story:', 'Checklists ('];

const cache = mkdtempSync(path.join(os.tmpdir(), 'cockpit-bench-cache-'));
// Ink under CI=true draws nothing until it unmounts; DATABASE_URL would be dropped by the demo anyway.
const env: NodeJS.ProcessEnv = { ...process.env, COCKPIT_OPERATOR: 'bench', NO_COLOR: '', XDG_CACHE_HOME: cache };
delete env.CI;
delete env.DATABASE_URL;
delete env.COCKPIT_EXIT_WHEN_READY;
delete env.COCKPIT_DEMO_DIR;
let bin = '';

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------------------------
// Processes, from /proc

interface Proc {
  pid: number;
  /** /proc/<pid>/stat field 22: a pid reused by another program has another start time. */
  start: string;
}

function stat(pid: number): { ppid: number; start: string; state: string; comm: string } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = s.lastIndexOf(')');
    const rest = s.slice(close + 2).split(' ');
    return { state: rest[0], ppid: Number(rest[1]), start: rest[19], comm: s.slice(s.indexOf('(') + 1, close) };
  } catch {
    return null;
  }
}

/** The same process still runs (not a zombie, same start time). */
function alive(p: Proc): boolean {
  const s = stat(p.pid);
  return !!s && s.state !== 'Z' && s.start === p.start;
}

const procOf = (pid: number): Proc | null => {
  const s = stat(pid);
  return s && s.state !== 'Z' ? { pid, start: s.start } : null;
};

/** Every live pid's parent. */
function parents(): Map<number, number> {
  const m = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = stat(Number(name));
    if (s && s.state !== 'Z') m.set(Number(name), s.ppid);
  }
  return m;
}

/** `pid`'s descendants (not itself). */
function descendants(pid: number, pp = parents()): number[] {
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of pp) {
      if (parent !== p) continue;
      out.push(child);
      walk(child);
    }
  };
  walk(pid);
  return out;
}

const cmdline = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
};

/** kB from a "Key:   123 kB" line of a /proc file; NaN when unreadable. */
function kb(file: string, key: string): number {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(file, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// What a demo recorded

interface Named {
  name: string;
  pid: number;
  source: 'cockpit' | 'processes.json' | 'state.json' | 'child';
}

interface Record {
  supervisor?: { pid: number };
  services?: { name: string; processes: { name: string; pid: number }[] }[];
}

function readJson<T>(file: string): T | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

const recordOf = (dir: string) => readJson<Record>(path.join(dir, '.sandbox', 'demo', 'processes.json'));

/** The deploy script's processes: each environment's HAProxy and app colours (.cockpit/bluegreen/<env>/state.json). */
function deployPids(dir: string): Named[] {
  const states = path.join(dir, '.cockpit', 'bluegreen');
  if (!existsSync(states)) return [];
  const out: Named[] = [];
  for (const envName of readdirSync(states)) {
    const st = readJson<{ proxy?: { pid: number } | null; colours?: { [c: string]: { pid: number } } }>(
      path.join(states, envName, 'state.json'),
    );
    if (!st) continue;
    if (st.proxy?.pid) out.push({ name: `haproxy ${envName}`, pid: st.proxy.pid, source: 'state.json' });
    for (const [c, cs] of Object.entries(st.colours ?? {}))
      if (cs?.pid) out.push({ name: `app ${envName} ${c}`, pid: cs.pid, source: 'state.json' });
  }
  return out;
}

/** The postmaster of the sandbox's cluster (its pid file), wherever the cluster is. */
function postmasterPid(dir: string): number | null {
  const data = path.join(dir, '.sandbox', 'demo', 'postgres', 'data', 'postmaster.pid');
  try {
    const pid = Number(readFileSync(data, 'utf8').split('\n')[0]);
    return pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/**
 * Every process of the demo in `dir`, once: the cockpit, what it recorded, the deploy script's state, the cluster's
 * postmaster, and their descendants (named by their command line).
 */
function demoProcesses(dir: string, cockpitPid: number | null): Named[] {
  const rec = recordOf(dir);
  const named: Named[] = [];
  if (cockpitPid) named.push({ name: 'cockpit', pid: cockpitPid, source: 'cockpit' });
  for (const s of rec?.services ?? []) for (const p of s.processes) named.push({ name: p.name, pid: p.pid, source: 'processes.json' });
  named.push(...deployPids(dir));
  const pm = postmasterPid(dir);
  if (pm) named.push({ name: 'postgres', pid: pm, source: 'processes.json' });
  const seen = new Map<number, Named>();
  for (const n of named) if (!seen.has(n.pid) && procOf(n.pid)) seen.set(n.pid, n);
  const pp = parents();
  // The cockpit's descendants last: a service it started is named as recorded, not as the cockpit's child.
  for (const n of [...seen.values()].sort((x, y) => Number(x.source === 'cockpit') - Number(y.source === 'cockpit'))) {
    for (const d of descendants(n.pid, pp)) {
      if (seen.has(d)) continue;
      // The postmaster's children are PostgreSQL's (checkpointer, backends …): one family with it.
      const comm = stat(d)?.comm ?? '?';
      const name = n.name === 'postgres' || comm === 'postgres' ? 'postgres' : `${n.name} > ${comm}`;
      seen.set(d, { name, pid: d, source: 'child' });
    }
  }
  return [...seen.values()];
}

// ---------------------------------------------------------------------------------------------------------------
// One demo run under a pty

interface Live {
  child: ChildProcessWithoutNullStreams;
  dir: string;
  /** Processes seen while it ran (checked gone after it exits, killed by pid on an error). */
  known: Map<number, Proc & { name: string }>;
  cockpit: number | null;
  output: string;
  closed: Promise<number | null>;
  t0: bigint;
}

const lives = new Set<Live>();
const since = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

function remember(live: Live, ps: Named[]): void {
  for (const n of ps) {
    const p = procOf(n.pid);
    if (p && !live.known.has(n.pid)) live.known.set(n.pid, { ...p, name: n.name });
  }
}

function startDemo(dir: string, services: boolean): Live {
  const command = `stty cols 100 rows 30; exec ${q(node)} ${q(bin)} demo --dir ${q(dir)}${services ? '' : ' --no-services'}`;
  const t0 = process.hrtime.bigint();
  const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'], env });
  const live: Live = { child, dir, known: new Map(), cockpit: null, output: '', closed: Promise.resolve(null), t0 };
  live.closed = new Promise((resolve) => {
    child.on('error', () => resolve(null));
    child.on('close', (code) => resolve(code));
  });
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => (live.output += d));
  child.stderr.on('data', (d: Buffer) => (live.output += d.toString()));
  lives.add(live);
  return live;
}

/** The cockpit's node process under `script` (and the shell `exec` replaced). */
function findCockpit(live: Live): number | null {
  if (live.cockpit && procOf(live.cockpit)) return live.cockpit;
  if (!live.child.pid) return null;
  const pid = descendants(live.child.pid).find((d) => cmdline(d).includes(bin));
  live.cockpit = pid ?? null;
  return live.cockpit;
}

/** The last lines of the deploy script's app and proxy logs (.cockpit/bluegreen/<env>/*.log), for an error. */
function appLogs(dir: string): string {
  const states = path.join(dir, '.cockpit', 'bluegreen');
  if (!existsSync(states)) return '';
  let out = '';
  for (const envName of readdirSync(states))
    for (const file of readdirSync(path.join(states, envName)).filter((f) => f.endsWith('.log'))) {
      const text = readFileSync(path.join(states, envName, file), 'utf8')
        .trimEnd()
        .split('\n')
        .slice(-5)
        .join('\n');
      if (text) out += `\n${envName}/${file} ends:\n${text}`;
    }
  return out;
}

/** Ms from spawn to the home screen (both markers on the pty), watching the processes the demo starts meanwhile. */
async function toHome(live: Live): Promise<number> {
  let exited = false;
  void live.closed.then(() => (exited = true));
  for (;;) {
    const ms = since(live.t0);
    if (MARKERS.every((m) => live.output.includes(m))) {
      remember(live, demoProcesses(live.dir, findCockpit(live)));
      return ms;
    }
    if (exited)
      throw new Error(`cockpit demo --dir ${live.dir} exited before its home screen:\n${live.output.slice(-3000)}${appLogs(live.dir)}`);
    if (ms > HOME_WITHIN_MS)
      throw new Error(`cockpit demo --dir ${live.dir}: no home screen within ${HOME_WITHIN_MS / 1000} s:\n${live.output.slice(-3000)}`);
    remember(live, demoProcesses(live.dir, findCockpit(live)));
    await sleep(20);
  }
}

/** Quit with `q`; ms to the cockpit's exit; then every process seen must be gone. */
async function quit(live: Live): Promise<number> {
  remember(live, demoProcesses(live.dir, findCockpit(live)));
  const t = process.hrtime.bigint();
  live.child.stdin.write('q');
  const code = await Promise.race([live.closed, sleep(EXIT_WITHIN_MS).then(() => 'timeout' as const)]);
  const ms = since(t);
  if (code === 'timeout') throw new Error(`cockpit demo --dir ${live.dir} did not exit within ${EXIT_WITHIN_MS / 1000} s of q`);
  if (code !== 0) throw new Error(`cockpit demo --dir ${live.dir} exited ${code} after q:\n${live.output.slice(-3000)}`);
  // The supervisor stops everything before the cockpit exits: nothing may be left, not even for a moment.
  const left = [...live.known.values()].filter(alive);
  if (left.length)
    throw new Error(
      `ORPHANS: ${left.length} process(es) of the demo in ${live.dir} still run after the cockpit quit: ${left
        .map((p) => `${p.name} (pid ${p.pid}: ${cmdline(p.pid).slice(0, 80)})`)
        .join('; ')}`,
    );
  if (existsSync(path.join(live.dir, '.sandbox', 'demo', 'processes.json')))
    throw new Error(`the cockpit quit but ${live.dir}/.sandbox/demo/processes.json is still there`);
  lives.delete(live);
  return ms;
}

/** On an error: the cockpit told to stop (SIGTERM: it stops its services), then every process seen killed by pid. */
async function kill(live: Live): Promise<void> {
  remember(live, demoProcesses(live.dir, findCockpit(live)));
  if (live.cockpit) {
    try {
      process.kill(live.cockpit, 'SIGTERM');
    } catch {
      /* gone */
    }
    await Promise.race([live.closed, sleep(15_000)]);
  }
  remember(live, demoProcesses(live.dir, null));
  for (const p of live.known.values()) {
    if (!alive(p)) continue;
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  if (live.child.pid && live.child.exitCode === null) live.child.kill('SIGKILL');
  lives.delete(live);
}

// ---------------------------------------------------------------------------------------------------------------
// Memory

interface MemRow {
  name: string;
  n: number;
  rssKb: number;
  pssKb: number;
  /** What the total counts: PSS for PostgreSQL's processes (when readable), RSS for the rest. */
  countedKb: number;
  pssUsed: boolean;
}

function memory(ps: Named[]): MemRow[] {
  const rows = new Map<string, MemRow>();
  for (const p of ps) {
    const rss = kb(`/proc/${p.pid}/status`, 'VmRSS');
    if (Number.isNaN(rss)) continue; // gone, or a kernel thread
    const pss = kb(`/proc/${p.pid}/smaps_rollup`, 'Pss');
    const name = p.name;
    const usePss = name === 'postgres' && !Number.isNaN(pss);
    const row = rows.get(name) ?? { name, n: 0, rssKb: 0, pssKb: 0, countedKb: 0, pssUsed: usePss };
    row.n++;
    row.rssKb += rss;
    row.pssKb += Number.isNaN(pss) ? rss : pss;
    row.countedKb += usePss ? pss : rss;
    row.pssUsed ||= usePss;
    rows.set(name, row);
  }
  return [...rows.values()];
}

function total(rows: MemRow[]): { rss: number; pss: number; counted: number } {
  return rows.reduce((t, r) => ({ rss: t.rss + r.rssKb, pss: t.pss + r.pssKb, counted: t.counted + r.countedKb }), {
    rss: 0,
    pss: 0,
    counted: 0,
  });
}

/** The cockpit's own "The demo's services are up in 4.2 s" (ms), NaN when it did not say it. */
const servicesUp = (output: string) => Number(/services are up in ([\d.]+) s/.exec(output)?.[1] ?? NaN) * 1000;

/** The cockpit's own "(the sandbox's git part: 0.4 s, made now)" (ms). */
const gitPart = (output: string) => Number(/the sandbox's git part: ([\d.]+) s/.exec(output)?.[1] ?? NaN) * 1000;

// ---------------------------------------------------------------------------------------------------------------

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const mb = (k: number) => `${(k / 1024).toFixed(1).padStart(7)} MB`;
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** Runs one demo to its home screen, optionally reads its memory, quits it; removes nothing. */
async function oneRun(
  dir: string,
  services: boolean,
  readMemory = false,
): Promise<{ home: number; quit: number; mem: MemRow[] | null; output: string; unrecorded: Named[] }> {
  const live = startDemo(dir, services);
  try {
    const home = await toHome(live);
    let mem: MemRow[] | null = null;
    let unrecorded: Named[] = [];
    if (readMemory) {
      await sleep(SETTLE_MS);
      const ps = demoProcesses(dir, findCockpit(live));
      remember(live, ps);
      mem = memory(ps);
      // The deploy script's processes the supervisor did not record (it records the targets' apps and proxies).
      const recorded = new Set((recordOf(dir)?.services ?? []).flatMap((x) => x.processes.map((p) => p.pid)));
      unrecorded = deployPids(dir).filter((p) => !recorded.has(p.pid) && procOf(p.pid));
    }
    if (services) {
      const rec = recordOf(dir);
      if (!rec?.services?.length) throw new Error(`the demo in ${dir} is on its home screen but recorded no service`);
    }
    return { home, quit: await quit(live), mem, output: live.output, unrecorded };
  } catch (e) {
    await kill(live);
    throw e;
  }
}

/** Temp folders to remove at the end (the cache, the private build, the sandboxes' folder). */
const folders: string[] = [cache];
let cleaning: Promise<void> | null = null;

/** Every demo still running killed by pid (its cockpit first, which stops its services), the temp folders removed. */
function cleanUp(): Promise<void> {
  return (cleaning ??= (async () => {
    for (const live of [...lives]) await kill(live);
    for (const dir of folders) rmSync(dir, { recursive: true, force: true });
  })());
}

// Interrupted (Ctrl-C, a timeout's SIGTERM): the same clean-up before exiting.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
  process.on(signal, () => {
    console.error(`\n${signal}: stopping the demos started and removing the temp folders`);
    void cleanUp().finally(() => process.exit(130));
  });

async function main(): Promise<void> {
  const loadBefore = load();
  const install = privateBuild(root);
  folders.push(install);
  bin = path.join(install, 'bin', 'cockpit.js');
  // As root the demo's PostgreSQL runs as the postgres user, who must reach the sandbox (a mkdtemp folder is 0700).
  const base = mkdtempSync(path.join(os.tmpdir(), 'cockpit-bench-demo-'));
  chmodSync(base, 0o755);
  folders.push(base);
  let n = 0;
  const fresh = (tag: string) => path.join(base, `${tag}-${++n}`);
  const kept = path.join(base, 'kept');
  try {
    if (spawnSync('haproxy', ['-v'], { stdio: 'ignore' }).status !== 0) throw new Error('the demo needs haproxy (apt-get install haproxy)');
    const hasProm = spawnSync('prometheus', ['--version'], { stdio: 'ignore' }).status === 0;

    // The kept sandbox (and its cluster) is made before the rounds, and its run checked like the others.
    const first = await oneRun(kept, true);
    const said = (first.output.match(/^ *(✓|○|✗) .*$/gm) ?? []).map((l) => l.trim());

    const a: number[] = [];
    const b: number[] = [];
    const c: number[] = [];
    const quits: { b: number[]; c: number[] } = { b: [], c: [] };
    const upB: number[] = [];
    const upC: number[] = [];
    const gitB: number[] = [];
    const unrecorded = new Set<string>();
    const mems: MemRow[][] = [];
    const memC: number[] = [];
    for (let i = 0; i < runs + WARMUP; i++) {
      const dirA = fresh('a');
      const ra = await oneRun(dirA, false);
      rmSync(dirA, { recursive: true, force: true });
      const dirB = fresh('b');
      const rb = await oneRun(dirB, true, true);
      rmSync(dirB, { recursive: true, force: true });
      const rc = await oneRun(kept, true, true);
      console.error(
        `round ${i + 1}/${runs + WARMUP}${i < WARMUP ? ' (warm-up)' : ''}: a ${ra.home.toFixed(0)} ms, b ${rb.home.toFixed(0)} ms, c ${rc.home.toFixed(0)} ms · load ${load()}`,
      );
      if (i < WARMUP) continue;
      a.push(ra.home);
      b.push(rb.home);
      c.push(rc.home);
      quits.b.push(rb.quit);
      quits.c.push(rc.quit);
      upB.push(servicesUp(rb.output));
      upC.push(servicesUp(rc.output));
      gitB.push(gitPart(rb.output));
      for (const u of [...rb.unrecorded, ...rc.unrecorded]) unrecorded.add(u.name);
      mems.push(rb.mem!);
      memC.push(total(rc.mem!).counted);
    }

    console.log(
      'demo benchmark: `cockpit demo` to its home screen with every service healthy, beside the git sandbox alone (--no-services), in the same run',
    );
    console.log(
      `machine : ${os.cpus().length} CPU(s), ${os.cpus()[0]?.model.trim() ?? '?'} · node ${process.version} · load ${loadBefore} before, ${load()} after`,
    );
    console.log(
      `runs    : ${runs} rounds (after ${WARMUP} warm-up), interleaved (a, b, c in each); under a pty 100x30; prometheus ${hasProm ? 'installed' : 'NOT installed (skipped by the demo)'}`,
    );
    console.log(`services: (the kept sandbox's first start, a new cluster) ${said.join(' · ')}`);
    console.log('');
    const span = (xs: number[]) =>
      `p50 ${pct(xs, 50).toFixed(0).padStart(6)} ms   (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;
    const ratio = (xs: number[]) => `${(pct(xs, 50) / pct(a, 50)).toFixed(2)}x`;
    const line = (label: string, xs: number[], r = true) =>
      console.log(`  ${label.padEnd(58)} ${span(xs)}${r ? `   ${ratio(xs).padStart(6)} (a)` : ''}`);
    console.log('spawn to the home screen ("Story:" and "Checklists (" on the pty)');
    line('(a) --no-services, a new sandbox: the git part alone', a);
    line('(b) every service, a new sandbox (a new PostgreSQL cluster)', b);
    line('(c) every service, the sandbox kept (its cluster kept)', c);
    console.log('');
    console.log('the cockpit\'s own figure ("The demo\'s services are up in …": first service started to last healthy)');
    line("(b) the sandbox's git part (made now)", gitB, false);
    line('(b) services up', upB, false);
    line('(c) services up', upC, false);
    console.log('');
    console.log('q to the exit (the supervisor stops every service; then every pid checked gone: none left)');
    line('(b) quit', quits.b, false);
    line('(c) quit', quits.c, false);
    console.log('');
    const last = mems[mems.length - 1];
    const totals = mems.map(total);
    console.log(
      `memory of (b), ${SETTLE_MS / 1000} s after its home screen, last round (kB from /proc: VmRSS of /proc/<pid>/status, PSS of /proc/<pid>/smaps_rollup)`,
    );
    console.log(`  ${'process'.padEnd(34)} ${'n'.padStart(3)} ${'RSS'.padStart(10)} ${'PSS'.padStart(10)} ${'counted'.padStart(10)}`);
    for (const r of [...last].sort((x, y) => y.countedKb - x.countedKb))
      console.log(
        `  ${r.name.padEnd(34)} ${String(r.n).padStart(3)} ${mb(r.rssKb)} ${mb(r.pssKb)} ${mb(r.countedKb)}${r.pssUsed ? '  (PSS)' : ''}`,
      );
    const t = totals[totals.length - 1];
    console.log(
      `  ${'total'.padEnd(34)} ${String(last.reduce((s, r) => s + r.n, 0)).padStart(3)} ${mb(t.rss)} ${mb(t.pss)} ${mb(t.counted)}`,
    );
    console.log(
      `  the deploy script's apps and proxies (.cockpit/bluegreen/<env>/state.json): ${unrecorded.size ? `NOT all recorded by the supervisor: ${[...unrecorded].join(', ')} (counted above)` : 'every one recorded in processes.json too (counted once)'}`,
    );
    console.log(
      `  counted: PostgreSQL's processes by PSS (${last.some((r) => r.pssUsed) ? 'smaps_rollup readable' : 'NOT readable: RSS used'}), every other process by RSS`,
    );
    const ks = (xs: number[]) =>
      `p50 ${mb(pct(xs, 50))} (${(Math.min(...xs) / 1024).toFixed(0)}–${(Math.max(...xs) / 1024).toFixed(0)} MB)`;
    console.log(`  total counted over the rounds: (b) ${ks(totals.map((x) => x.counted))}; (c) ${ks(memC)}`);
    console.log('');
    console.log('report only: the exit code is 0 whatever the figures (1 when it could not measure or found an orphan)');
  } finally {
    await cleanUp();
  }
}

runBenchmark(main);

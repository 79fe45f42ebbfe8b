/**
 * Start-up (docs/architecture.md §8: ≤ 2x `node -e 0`, measured in the same run):
 *
 *   1. `cockpit --version` beside `node -e 0` (plain child processes, no terminal);
 *   2. the home screen's first frame beside `node -e 0`, both under a pseudo-terminal (`script -qfec … /dev/null`,
 *      so the shell, pty and `stty` (100x30) that the wrapper adds are in the baseline too). The cockpit runs with
 *      COCKPIT_EXIT_WHEN_READY=1: it unmounts as soon as the screen has its content and exits. The time measured is
 *      the first time the pty output holds the screen's content ("Checklists (n)" for home): whoever draws it, the
 *      first frame drawn before Ink loads (src/cli/first-frame.ts) or Ink. Two cases of the home screen:
 *        - "again": nothing changed since the last start, so the frame kept from it is drawn at once (the usual
 *          case: the cockpit is opened again and again on the same repository);
 *        - "after a change": the checklist's file is touched before each run (its mtime changes), so the kept
 *          frame cannot be used: the first frame is drawn from the data read anew, without Ink (src/cli/plain-home.ts),
 *          as on a first start; and the same with COCKPIT_PLAIN_FRAME=0 (Ink draws it: the path before the plain
 *          renderer), in the same rounds;
 *   3. the checklist screen's first frame (`cockpit run tiny` in a terminal, to the frame where its step list is on
 *      screen, then stopped), on a repository of its own (its sessions would change the home screen's audit log).
 *
 * The home screen runs on a throwaway git repository holding one small checklist and one finished session, dated
 * three hours back: the sessions an operator sees on opening the cockpit are minutes to days old, while one of a few
 * seconds ago reads differently ("4s ago", "5s ago") at every run, and a frame kept from the last run is not reused.
 * The cockpit measured is a private build of the current src/ (scripts/build.mjs run in a temp install folder whose
 * src/, drizzle/, checklists/ and node_modules/ link to this checkout): the test suite rebuilds dist/ from scratch, and
 * a test run at the same time would otherwise pull the bundle away in the middle of the benchmark. Its cache
 * (XDG_CACHE_HOME) is a private folder too.
 * Runs are interleaved (one of each command per round), so load that comes and goes on the machine hits all
 * alike. It is a report, not a test: an over-budget figure still exits 0.
 *
 *   node --import tsx scripts/bench/startup.ts [--runs N]     (default 15 runs each, after 3 warm-up rounds)
 */
import { spawn, spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { privateBuild, runBenchmark } from './run.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const runsArg = process.argv.indexOf('--runs');
const runs = (runsArg > 0 && Number(process.argv[runsArg + 1])) || 15;
const WARMUP = 3;
const BUDGET = 2;
const node = process.execPath;
let bin = path.join(root, 'bin', 'cockpit.js');
const cache = mkdtempSync(path.join(os.tmpdir(), 'cockpit-bench-cache-'));
const env = { ...process.env, COCKPIT_OPERATOR: 'bench', NO_COLOR: '', XDG_CACHE_HOME: cache };

/** Shell-quote one word for `script -c`. */
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function timeSync(args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(node, args, { cwd: root, stdio: 'ignore', env });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}`);
  return ms;
}

interface PtyRun {
  /** First bytes on the pty (ms from spawn). */
  first: number;
  /** First time the output holds `marker` (ms from spawn); NaN without a marker. */
  content: number;
  /** The process (script and the command under it) exited. */
  exit: number;
  output: string;
}

/** Run `command` under a pseudo-terminal (`script`), timing its first output, the marker and exit. */
function underPty(command: string, marker: string | null, extraEnv: Record<string, string> = {}, okCodes = [0]): Promise<PtyRun> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const since = () => Number(process.hrtime.bigint() - t0) / 1e6;
    // The pty `script` makes has no size without a terminal around it: give it the 100x30 of the tmux tests.
    const child = spawn('script', ['-qfec', `stty cols 100 rows 30; ${command}`, '/dev/null'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...env, ...extraEnv },
    });
    let first = NaN;
    let content = NaN;
    let output = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (Number.isNaN(first)) first = since();
      output += chunk;
      if (marker && Number.isNaN(content) && output.includes(marker)) content = since();
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const exit = since();
      if (!okCodes.includes(code ?? -1)) return reject(new Error(`${command} exited ${code}\n${stderr}${output.slice(-2000)}`));
      resolve({ first, content, exit, output });
    });
  });
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const f = (v: number) => `${v.toFixed(1).padStart(7)} ms`;
const row = (label: string, xs: number[]) => console.log(`  ${label.padEnd(48)} p50 ${f(pct(xs, 50))}   p90 ${f(pct(xs, 90))}`);
const verdict = (ratio: number) => (ratio <= BUDGET ? 'PASS' : 'OVER');

const TINY = 'id: tiny\ntitle: Tiny bench checklist\nsteps:\n  - id: hello\n    title: Say hello\n    kind: run\n    run: echo hello\n';

/** A throwaway git repository with one tiny checklist; with one finished session of three hours ago when `session`. */
function makeRepo(session: boolean): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cockpit-bench-startup-'));
  spawnSync('git', ['init', '-q', '-b', 'main'], { cwd: dir });
  mkdirSync(path.join(dir, 'checklists'));
  writeFileSync(path.join(dir, 'checklists', 'tiny.yaml'), TINY);
  if (!session) return dir;
  const r = spawnSync(node, [bin, '--repo', dir, 'run', 'tiny', '--non-interactive', '--yes', 'all'], { cwd: root, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`preparing the session failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  const db = new Database(path.join(dir, '.cockpit', 'audit.db'));
  db.prepare('UPDATE sessions SET started_at = started_at - ?, ended_at = ended_at - ?').run(3 * 3600_000, 3 * 3600_000);
  db.close();
  return dir;
}

async function main(): Promise<void> {
  const install = privateBuild(root);
  bin = path.join(install, 'bin', 'cockpit.js');
  let repo: string | null = null;
  let runRepo: string | null = null;
  try {
    repo = makeRepo(true);
    runRepo = makeRepo(false);
    const baseCmd = `${q(node)} -e 0`;
    const homeCmd = `${q(node)} ${q(bin)} --repo ${q(repo)}`;
    const runCmd = `${q(node)} ${q(bin)} --repo ${q(runRepo)} run tiny`;
    const readyEnv = { COCKPIT_EXIT_WHEN_READY: '1' };
    const MARKER = 'Checklists (';
    const STEPS = 'Say hello';
    const touch = () => utimesSync(path.join(repo!, 'checklists', 'tiny.yaml'), new Date(), new Date());

    // The home screen must really come up before it is timed: exit 0, a session listed, the checklists read.
    const check = await underPty(homeCmd, MARKER, readyEnv);
    for (const want of [MARKER, 'Sessions (1', 'tiny', '3h ago']) {
      if (!check.output.includes(want)) throw new Error(`the home screen did not show '${want}':\n${check.output.slice(-3000)}`);
    }
    // Stopped once on screen: exit 3 (stopped by the operator; the session stays resumable).
    const stopped = [0, 3];

    const base: number[] = [];
    const version: number[] = [];
    const ptyBase: number[] = [];
    const home: PtyRun[] = [];
    const changed: PtyRun[] = [];
    const inkOnly: PtyRun[] = [];
    const steps: PtyRun[] = [];
    for (let i = 0; i < runs + WARMUP; i++) {
      const a = timeSync(['-e', '0']);
      const b = timeSync([bin, '--version']);
      const c = await underPty(baseCmd, null);
      // Again: the frame kept by the previous round's last home start (e's). Then a change without the plain first
      // frame (COCKPIT_PLAIN_FRAME=0: Ink draws the first frame, the path before cli/plain-home.ts: the "before"
      // beside the "after", in the same rounds), and a change with it, the normal path now.
      const d = await underPty(homeCmd, MARKER, readyEnv);
      touch();
      const g = await underPty(homeCmd, MARKER, { ...readyEnv, COCKPIT_PLAIN_FRAME: '0' });
      touch();
      const e = await underPty(homeCmd, MARKER, readyEnv);
      const f = await underPty(runCmd, STEPS, readyEnv, stopped);
      if (Number.isNaN(d.content) || Number.isNaN(e.content) || Number.isNaN(g.content))
        throw new Error(`run ${i}: the home screen did not show '${MARKER}'`);
      if (Number.isNaN(f.content)) throw new Error(`run ${i}: the checklist screen did not show '${STEPS}'\n${f.output.slice(-2000)}`);
      if (i < WARMUP) continue; // the first rounds warm the file cache
      base.push(a);
      version.push(b);
      ptyBase.push(c.exit);
      home.push(d);
      changed.push(e);
      inkOnly.push(g);
      steps.push(f);
    }

    console.log(
      'startup benchmark: cockpit --version, the home and checklist screens to their first frame, each beside `node -e 0` in the same run',
    );
    console.log(
      `machine : ${os.cpus().length} CPU(s), ${os.cpus()[0]?.model.trim() ?? '?'} · node ${process.version} · load ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    console.log(
      `runs    : ${runs} each (after ${WARMUP} warm-up rounds), interleaved; COCKPIT_EXIT_WHEN_READY=1 cockpit --repo <tmp repo, 1 session of 3h ago>`,
    );
    console.log('');
    console.log('plain child process (no terminal), spawn to exit');
    row('node -e 0', base);
    row('cockpit --version', version);
    console.log('');
    console.log('under a pty (script -qfec "<cmd>" /dev/null), from spawn');
    row('node -e 0 (exit)', ptyBase);
    const at = (xs: PtyRun[], k: 'first' | 'content' | 'exit') => xs.map((x) => x[k]);
    row(`home again: content ("${MARKER}n)" on screen)`, at(home, 'content'));
    row('home again: exit (Ink up, unmounted once ready)', at(home, 'exit'));
    row(`home after a change: content ("${MARKER}n)")`, at(changed, 'content'));
    row('home after a change: exit', at(changed, 'exit'));
    row(`home after a change, Ink only: content`, at(inkOnly, 'content'));
    row(`checklist screen: "${STEPS}" on screen`, at(steps, 'content'));
    row('checklist screen: exit (session stopped)', at(steps, 'exit'));
    console.log('');
    const ratio = (xs: number[], p = 50) => pct(xs, p) / pct(ptyBase, p);
    const rVersion = pct(version, 50) / pct(base, 50);
    const rVersion90 = pct(version, 90) / pct(base, 90);
    const line = (budget: boolean, label: string, xs: number[]) =>
      console.log(
        `  ${budget ? `[${verdict(ratio(xs))}]` : '      '} ${label.padEnd(40)} ${ratio(xs).toFixed(2)}x p50   (${ratio(xs, 90).toFixed(2)}x p90)`,
      );
    console.log(`ratios against node -e 0 (budget ≤ ${BUDGET}x on p50)`);
    console.log(`  [${verdict(rVersion)}] ${'cockpit --version'.padEnd(40)} ${rVersion.toFixed(2)}x p50   (${rVersion90.toFixed(2)}x p90)`);
    line(true, 'home screen again, content frame', at(home, 'content'));
    line(true, 'home screen after a change, content frame', at(changed, 'content'));
    line(false, '  the same without the plain frame (Ink)', at(inkOnly, 'content'));
    line(false, 'checklist screen, first frame with steps', at(steps, 'content'));
    line(false, 'home screen again, exit (Ink up)', at(home, 'exit'));
    console.log('');
    console.log('report only: the exit code is 0 whether or not the budgets are met');
  } finally {
    for (const dir of [repo, runRepo, cache]) if (dir) rmSync(dir, { recursive: true, force: true });
    rmSync(install, { recursive: true, force: true });
  }
}

runBenchmark(main);

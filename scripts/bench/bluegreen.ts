/**
 * Benchmark: the demo's blue/green target (the Property app per colour behind HAProxy, driven by the deploy script
 * the sandbox ships), in one run:
 *
 *   - switch under load: 8 keep-alive clients on the loopback; requests served during the switch, failed requests
 *     (budget 0), p99 latency during the switch against the p99 of the 2 s before it;
 *   - rollback by switching back: time from `rollback <previous version>` starting to the live URL serving it, beside
 *     the time of one bare `switch` call (budget: at most 1.5x, and under 5 s). Median of 5 rounds each. Measured
 *     twice: the script's own `rollback`, and the cockpit's `rollback` step (`cockpit run` of a one-step checklist,
 *     from its spawn: the cockpit starting, asking `status`, recording, then `switch`), which is what an operator runs.
 *
 *   node --import tsx scripts/bench/bluegreen.ts        (needs haproxy; builds dist/ when the bundles are missing)
 *
 * A report, not a test.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { loadLoop } from '../../test/helpers/load.js';
import { runBenchmark } from './run.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEPLOY = path.join(ROOT, 'dist', 'demo-deploy.js');
const BIN = path.join(ROOT, 'bin', 'cockpit.js');
const ROUNDS = 5;

let dir = '';
// production: the demo target's blue-green environment (every other one is in-place: its deploy switches at once).
function script(...args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [DEPLOY, ...args, '--env', 'production'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out })));
}
async function ok(...args: string[]): Promise<string> {
  const r = await script(...args);
  if (r.code !== 0) throw new Error(`deploy script ${args.join(' ')} failed:\n${r.out}`);
  return r.out;
}
function versionAt(url: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    http
      .get(`${url}/version`, { agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.headers['x-app-version'] as string | undefined));
      })
      .on('error', () => resolve(undefined));
  });
}
const p99 = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil(s.length * 0.99) - 1)] : NaN;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x: number) => `${x.toFixed(0)} ms`;
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

/** The cockpit's rollback step, run as an operator runs it: `cockpit run rollback-bench` (one `rollback` step). */
async function cockpitRollback(): Promise<string> {
  const child = spawn(process.execPath, [BIN, '--repo', dir, 'run', 'rollback-bench', '--non-interactive', '--yes', 'all'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, COCKPIT_OPERATOR: 'bench' },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`cockpit run rollback-bench exited ${code}:\n${out}`);
  return out;
}

/** A git repository in the bench folder with a one-step rollback checklist and the deploy script as production's. */
function cockpitRepo(): void {
  spawnSync('git', ['init', '-q', '-b', 'main'], { cwd: dir });
  mkdirSync(path.join(dir, 'checklists'), { recursive: true });
  writeFileSync(
    path.join(dir, 'checklists', 'rollback-bench.yaml'),
    'id: rollback-bench\ntitle: Roll production back (bench)\nsteps:\n  - {id: rollback, title: Roll back, kind: rollback, env: production, version: "1.0.0"}\n',
  );
  writeFileSync(
    path.join(dir, 'cockpit.config.yaml'),
    `deploy:\n  production:\n    strategy: blue-green\n    command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(DEPLOY)}]\n`,
  );
}

/** Runs `act` while polling the live URL every 5 ms: [ms until it serves `version`, ms until `act` is done]. */
/** The wall-clock moment (epoch ms) the last `timeUntil` saw the version served, to compare with recorded times. */
let lastServedAt = NaN;

/** When the newest session's `rollback` step started, as recorded (epoch ms). */
function rollbackStepStarted(): number {
  const r = spawnSync(process.execPath, [BIN, '--repo', dir, 'audit', 'list', '--json'], { encoding: 'utf8' });
  const [newest] = JSON.parse(r.stdout) as Array<{ id: string; startedAt: number }>;
  const show = spawnSync(process.execPath, [BIN, '--repo', dir, 'audit', 'show', newest.id, '--format', 'json'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const events = (JSON.parse(show.stdout) as { events: Array<{ type: string; stepId?: string | null; time: number }> }).events;
  const started = events.find((e) => e.type === 'step.started' && e.stepId === 'rollback');
  if (!started) throw new Error(`no step.started for the rollback step in session ${newest.id}`);
  return started.time;
}

async function timeUntil(url: string, version: string, act: () => Promise<unknown>): Promise<[number, number]> {
  const t0 = performance.now();
  let served = NaN;
  let done = false;
  const poll = (async () => {
    while (!done || Number.isNaN(served)) {
      if ((await versionAt(url)) === version) {
        served = performance.now() - t0;
        lastServedAt = Date.now();
        return;
      }
      if (done && performance.now() - t0 > 30_000) return;
      await sleep(5);
    }
  })();
  await act();
  const exited = performance.now() - t0;
  done = true;
  await poll;
  return [served, exited];
}

/** Runs the script while polling the live URL: [ms until it serves `version`, ms until the script exits]. */
const timeUntilServed = (url: string, version: string, ...args: string[]) => timeUntil(url, version, () => ok(...args));

runBenchmark(async () => {
  if (spawnSync('haproxy', ['-v']).status !== 0) throw new Error('haproxy is not installed (apt-get install haproxy)');
  if (!existsSync(DEPLOY)) spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  dir = mkdtempSync(path.join(os.tmpdir(), 'cockpit-bench-bluegreen-'));
  try {
    await ok('deploy', '1.0.0');
    await ok('deploy', '1.1.0');
    const url = (JSON.parse(await ok('status', '--json')) as { url: string }).url;

    // Switch under load.
    const load = loadLoop(url);
    await sleep(2000);
    const s0 = performance.now();
    await ok('switch', 'green');
    const s1 = performance.now();
    await sleep(1000);
    const t = await load.finish();
    const before = t.latencies.filter(([at]) => at >= s0 - 2000 && at < s0).map(([, l]) => l);
    const during = t.latencies.filter(([at]) => at >= s0 && at <= s1).map(([, l]) => l);
    console.log(`Switch under load (8 keep-alive clients, loopback), switch took ${ms(s1 - s0)}:`);
    console.log(
      `  requests sent ${t.sent}, served during the switch ${during.length}, failed ${t.failed} (budget 0)${t.failed ? `: ${t.errors.slice(0, 3).join('; ')}` : ''}`,
    );
    console.log(
      `  p99 latency: ${p99(during).toFixed(1)} ms during the switch, ${p99(before).toFixed(1)} ms in the 2 s before (ratio ${(p99(during) / p99(before)).toFixed(2)}x)`,
    );

    // Rollback by switching back against a bare switch.
    const bare: number[] = [];
    const rbServed: number[] = [];
    const rbExited: number[] = [];
    const ckServed: number[] = [];
    const ckExited: number[] = [];
    const ckStep: number[] = [];
    cockpitRepo();
    for (let i = 0; i < ROUNDS; i++) {
      bare.push((await timeUntilServed(url, '1.0.0', 'switch', 'blue'))[1]);
      await ok('switch', 'green');
      const [served, exited] = await timeUntilServed(url, '1.0.0', 'rollback', '1.0.0');
      rbServed.push(served);
      rbExited.push(exited);
      await ok('switch', 'green');
      const [cServed, cExited] = await timeUntil(url, '1.0.0', cockpitRollback);
      ckServed.push(cServed);
      ckStep.push(lastServedAt - rollbackStepStarted());
      ckExited.push(cExited);
      await ok('switch', 'green');
    }
    const ratio = median(rbServed) / median(bare);
    console.log(`Rollback by switching back (median of ${ROUNDS}):`);
    console.log(`  rollback start → live URL serves 1.0.0: ${ms(median(rbServed))} (script exits at ${ms(median(rbExited))})`);
    console.log(`  one bare switch call: ${ms(median(bare))}`);
    console.log(
      `  ratio ${ratio.toFixed(2)}x (budget ≤ 1.5x: ${ratio <= 1.5 ? 'met' : 'MISSED'}); under 5 s: ${median(rbServed) < 5000 ? 'met' : 'MISSED'}`,
    );
    const ckRatio = median(ckServed) / median(bare);
    const stepRatio = median(ckStep) / median(bare);
    console.log(
      `  the cockpit's rollback step (cockpit run, from spawn) → live URL serves 1.0.0: ${ms(median(ckServed))} (exits at ${ms(median(ckExited))})`,
    );
    console.log(
      `  ratio ${ckRatio.toFixed(2)}x (budget ≤ 1.5x: ${ckRatio <= 1.5 ? 'met' : 'MISSED'}); under 5 s: ${median(ckServed) < 5000 ? 'met' : 'MISSED'}`,
    );
    console.log(
      `  the same, from the rollback step's start (its recorded step.started: status, then switch): ${ms(median(ckStep))}, ratio ${stepRatio.toFixed(2)}x`,
    );
  } finally {
    await script('stop');
    rmSync(dir, { recursive: true, force: true });
  }
});

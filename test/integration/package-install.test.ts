/**
 * The package installs and runs from anywhere, the three ways a user gets it: `npm install -g` of the packed
 * tarball, `npm link` of a clone, and `npx` of the tarball. Each runs `cockpit --version`, `cockpit --help` and a read
 * command (`audit show` of a real session, through --repo) from an unrelated temporary directory, which the read
 * leaves as it was (no .cockpit made there).
 *
 * Installing builds better-sqlite3 from source (no prebuilt binaries are downloaded here; npm_config_nodedir=/usr
 * gives node-gyp the headers, and --prefer-offline takes every package from the npm cache). The two installs that
 * build it run side by side. Slow (a minute or more per build on a busy machine), so it runs under CI=true only.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cockpit, ROOT, tempRepo } from '../helpers/cli.js';

const run = promisify(execFile);
const CI = process.env.CI === 'true';
const SKIP_WHY = 'installing builds better-sqlite3 from source (minutes): runs under CI=true';

let tmp: string;
let tarball: string;
/** An unrelated directory (no git repository around it) the installed cockpits are run from. */
let elsewhere: string;
let repo: ReturnType<typeof tempRepo>;
let sessionId: string;
const timings: Record<string, number> = {};

/**
 * The npm environment: offline, and the native addon built from source against the installed node's headers,
 * unoptimised (-O0: this checks the package, not SQLite's speed; it takes a third of the CPU time of -O3), with both
 * cores.
 */
const npmEnv = {
  ...process.env,
  npm_config_nodedir: '/usr',
  npm_config_prefer_offline: 'true',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  CFLAGS: '-O0',
  CXXFLAGS: '-O0',
  JOBS: 'max',
};

async function timed<T>(what: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    timings[what] = Math.round(performance.now() - t0);
  }
}

/** `argv` from the unrelated directory, as a user types it. */
function from(argv: string[]) {
  const r = spawnSync(argv[0], argv.slice(1), {
    cwd: elsewhere,
    env: { ...npmEnv, NO_COLOR: '1', COCKPIT_OPERATOR: 'tester' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** What every way of installing must give: the version, the help, and a real session read from elsewhere. */
function checkRuns(cmd: string[]) {
  const version = from([...cmd, '--version']);
  expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version);
  const help = from([...cmd, '--help']);
  expect(help.code).toBe(0);
  expect(help.stdout).toContain('Usage: cockpit');
  expect(help.stdout).toContain('audit');
  const show = from([...cmd, '--repo', repo.dir, 'audit', 'show', sessionId]);
  expect(show.code, show.stderr).toBe(0);
  expect(show.stdout).toContain(`Session:     ${sessionId}`);
  expect(show.stdout).toContain('  │ installed and read');
  // Read-only: nothing was created where it ran.
  expect(existsSync(path.join(elsewhere, '.cockpit'))).toBe(false);
}

describe.skipIf(!CI)(`the packed package installs and runs from anywhere${CI ? '' : ` (skipped: ${SKIP_WHY})`}`, () => {
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'cockpit-pkg-'));
    elsewhere = path.join(tmp, 'elsewhere');
    mkdirSync(elsewhere);
    repo = tempRepo({ t: 'id: t\ntitle: T\nsteps:\n  - {id: say, title: Say, kind: run, run: "echo installed and read"}\n' });
    const r = cockpit(['--repo', repo.dir, 'run', 't', '--non-interactive', '--json']);
    expect(r.code, r.stderr).toBe(0);
    sessionId = JSON.parse(r.stdout.split('\n')[0]).sessionId;
    // `npm pack` builds dist/ itself (prepack): the tarball is what would be published.
    const packed = await timed('npm pack', () => run('npm', ['pack', '--pack-destination', tmp], { cwd: ROOT, env: npmEnv }));
    tarball = path.join(tmp, packed.stdout.trim().split('\n').pop()!);
  }, 120_000);

  afterAll(() => {
    // npx keeps what it installed in the npm cache's _npx folder, one per package spec: this run's is removed.
    const npx = path.join(execFileSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).trim(), '_npx');
    for (const d of existsSync(npx) && tarball ? readdirSync(npx) : []) {
      const manifest = path.join(npx, d, 'package.json');
      if (existsSync(manifest) && readFileSync(manifest, 'utf8').includes(tarball))
        rmSync(path.join(npx, d), { recursive: true, force: true });
    }
    repo?.cleanup();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    console.log(`package install timings (ms): ${JSON.stringify(timings)}`);
  });

  it('the tarball holds what the cockpit needs at run time, and nothing of the sources or tests', () => {
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n');
    for (const f of [
      'package/bin/cockpit.js',
      'package/dist/cockpit.js',
      // The demo's blue/green target, which the demo sandbox's scripts/deploy.sh runs.
      'package/dist/demo-app.js',
      'package/dist/demo-deploy.js',
      // The demo's traffic generator, which `cockpit demo` starts.
      'package/dist/demo-traffic.js',
      'package/checklists/release.yaml',
      'package/drizzle/sqlite/0000_init.sql',
    ])
      expect(files).toContain(f);
    expect(files.filter((f) => f.startsWith('package/test/') || f.startsWith('package/scripts/'))).toEqual([]);
  });

  it('npm install -g and npx of the tarball, and npm link of the clone: --version, --help and audit show from an unrelated directory', async () => {
    const prefix = path.join(tmp, 'global');
    // The two installs that build better-sqlite3, side by side. npx installs into its own cache folder on first use.
    await Promise.all([
      timed('npm install -g', () =>
        run('npm', ['install', '-g', '--prefix', prefix, tarball], { cwd: elsewhere, env: npmEnv, timeout: 600_000 }),
      ),
      timed('npx (first run, installs)', () =>
        run('npx', ['--yes', '--package', tarball, 'cockpit', '--version'], { cwd: elsewhere, env: npmEnv, timeout: 600_000 }),
      ),
    ]);
    checkRuns([path.join(prefix, 'bin', 'cockpit')]);
    checkRuns(['npx', '--yes', '--package', tarball, 'cockpit']);
    // `npm link` in a clone makes <prefix>/bin/cockpit a symbolic link to the clone's bin/cockpit.js (through
    // <prefix>/lib/node_modules/release-cockpit): the same links, made here without touching this checkout.
    const linked = path.join(tmp, 'linked');
    mkdirSync(path.join(linked, 'lib', 'node_modules'), { recursive: true });
    mkdirSync(path.join(linked, 'bin'));
    symlinkSync(ROOT, path.join(linked, 'lib', 'node_modules', 'release-cockpit'));
    symlinkSync(path.join('..', 'lib', 'node_modules', 'release-cockpit', 'bin', 'cockpit.js'), path.join(linked, 'bin', 'cockpit'));
    checkRuns([path.join(linked, 'bin', 'cockpit')]);
  }, 900_000);
});

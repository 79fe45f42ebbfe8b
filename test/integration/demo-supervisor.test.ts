// The demo's supervisor for real (src/demo/supervisor.ts): in a sandbox of its own it starts the demo's PostgreSQL
// (with v1.3.0's migrations) and the Property app v1.3.0 on staging and production (blue live) through the sandbox's
// scripts/deploy.sh, from a stand-in cockpit process (test/helpers/demo-supervisor-child.ts). Then: the sandbox's
// migrations pass lint, v1.4.0's apply with `cockpit migrate` and its backfill runs, scripts/restore_db.sh restores
// a backup; a SIGKILLed cockpit's processes are stopped by the next start (by pid and start time) while a recycled
// pid (a record whose start time differs) is left alone; `cockpit demo --stop` leaves none of the recorded pids alive.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverBinaries } from '../../src/adapters/pg-server.js';
import { postgresService } from '../../src/demo/postgres.js';
import { ensureSandbox } from '../../src/demo/sandbox.js';
import type { StartedService } from '../../src/demo/service.js';
import type { DemoService } from '../../src/demo/service.js';
import { processesFile, startAll, startTimeOf, stopAll } from '../../src/demo/supervisor.js';
import { BIN, ROOT, cockpit } from '../helpers/cli.js';
import { Tmux } from '../helpers/tmux.js';

const haveHaproxy = spawnSync('haproxy', ['-v']).status === 0;
const pgBin = serverBinaries();
const missing = [!haveHaproxy && 'haproxy (apt-get install haproxy)', !pgBin.ok && `PostgreSQL (${pgBin.ok ? '' : pgBin.why})`].filter(
  Boolean,
);
if (missing.length && process.env.CI === 'true') throw new Error(`the demo supervisor test needs ${missing.join(' and ')} in CI`);
const skipReason = missing.length ? ` (skipped: ${missing.join(' and ')} not installed)` : '';

interface Ready {
  started: Record<string, StartedService>;
  ms: number;
}

let dir = '';
const children: ChildProcess[] = [];
const strays: number[] = [];

/** A stand-in cockpit that starts the services; resolves when they are all up, with its output so far. */
function startSupervisor(): Promise<{ child: ChildProcess; ready: Ready; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/helpers/demo-supervisor-child.ts'), dir], {
    cwd: ROOT,
    // This file is about the supervisor and its own services; the receivers, Prometheus and traffic have their tests.
    env: { ...process.env, DEMO_SERVICES: 'postgres,targets' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the services did not start within 60 s:\n${output}`)), 60_000);
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      output += d.toString();
      const m = /^READY (.*)$/m.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve({ child, ready: JSON.parse(m[1]) as Ready, output });
      }
      if (/^FAILED /m.test(output)) {
        clearTimeout(timer);
        reject(new Error(output));
      }
    });
  });
}

/** The pid runs (a zombie does not). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

const pidsOf = (r: Ready) => Object.values(r.started).flatMap((s) => s.processes.map((p) => p.pid));

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

async function one<T>(url: string, sql: string): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql)).rows[0] as T;
  } finally {
    await c.end();
  }
}

const git = (...args: string[]) => spawnSync('git', args, { cwd: dir, encoding: 'utf8' });

describe.skipIf(missing.length > 0)(`the demo's supervisor: database and targets${skipReason}`, () => {
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cockpit-demo-sup-'));
    // As root the database runs as the postgres user, who must reach the sandbox (mkdtemp makes it 0700).
    chmodSync(dir, 0o755);
    dir = path.join(dir, 'sandbox');
    ensureSandbox(dir, false);
  });

  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    if (dir) await stopAll(dir);
    for (const pid of strays) if (alive(pid)) process.kill(pid, 'SIGKILL');
    if (dir) rmSync(path.dirname(dir), { recursive: true, force: true });
  });

  let first: { child: ChildProcess; ready: Ready; output: string };

  it('starts the database with v1.3.0 migrated and the targets serving v1.3.0 (production: blue live), each recorded', async () => {
    first = await startSupervisor();
    const { started } = first.ready;
    console.log(`services up in ${(first.ready.ms / 1000).toFixed(1)} s:\n${first.output}`);
    expect(first.output).toMatch(/✓ postgres healthy \(\d+\.\d s\)/);
    expect(first.output).toMatch(/✓ targets healthy \(\d+\.\d s\)/);

    const url = started.postgres.env!.DATABASE_URL;
    expect(url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/property$/);
    expect(await one(url, 'SELECT count(*)::int AS n FROM listings')).toEqual({ n: 2000 });
    // Two databases, one per environment, both at v1.3.0's migrations.
    const staging = url.replace(/\/property$/, '/property_staging');
    for (const u of [url, staging]) {
      expect(await one(u, 'SELECT count(*)::int AS n FROM listings')).toEqual({ n: 2000 });
      const applied = await one<{ ids: string[] }>(u, 'SELECT array_agg(id ORDER BY id) AS ids FROM cockpit_schema_migrations');
      expect(applied.ids).toEqual(['20260302091500', '20260318143000']);
    }

    for (const env of ['staging', 'production']) {
      const r = await get(`${started.targets.urls![env]}/version`);
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toMatchObject({ version: '1.3.0', ...(env === 'production' ? { colour: 'blue' } : {}) });
    }
    const st = JSON.parse(
      spawnSync(path.join(dir, 'scripts/deploy.sh'), ['status', '--env', 'production', '--json'], { cwd: dir, encoding: 'utf8' }).stdout,
    ) as { live: string; colours: { green: { running: boolean } } };
    expect(st.live).toBe('blue');
    expect(st.colours.green.running).toBe(false);

    // Every process recorded with its start time; the URLs in cockpit.local.yaml, which git ignores.
    const rec = JSON.parse(readFileSync(processesFile(dir), 'utf8')) as { services: StartedService[] };
    const recorded = rec.services.flatMap((s) => s.processes);
    expect(recorded.map((p) => p.name).sort()).toEqual([
      'app production blue',
      'app staging blue',
      'haproxy production',
      'haproxy staging',
      'postgres',
    ]);
    for (const p of recorded) expect(p.startTime).toBe(startTimeOf(p.pid));
    expect(parse(readFileSync(path.join(dir, 'cockpit.local.yaml'), 'utf8'))).toEqual({
      database: { url, environments: { staging: { url: staging }, production: { url } } },
    });
    expect(readFileSync(path.join(dir, 'cockpit.local.yaml'), 'utf8')).toMatch(/^# Written by `cockpit demo` at every start/);
    expect(git('status', '--porcelain').stdout).toBe('');
  });

  it("v1.4.0's migrations pass lint and check, apply with cockpit migrate (staging's database, then production's), and their backfill fills the new column", async () => {
    const url = first.ready.started.postgres.env!.DATABASE_URL;
    expect(git('checkout', '-q', 'develop').status).toBe(0);
    try {
      const lint = cockpit(['--repo', dir, 'migrate', 'lint']);
      expect(lint.code, lint.stdout + lint.stderr).toBe(0);
      expect(lint.stdout).toContain('4 migration(s) checked: 0 error(s), 0 warning(s)');
      const check = cockpit(['--repo', dir, 'migrate', 'check']);
      expect(check.code, check.stdout + check.stderr).toBe(0);
      // Staging first, as the policy's process has it: only staging's database changes.
      const ids = `SELECT count(*)::int AS n FROM cockpit_schema_migrations`;
      const upStaging = cockpit(['--repo', dir, 'migrate', 'upgrade', '--env', 'staging'], { timeout: 60_000 });
      expect(upStaging.code, upStaging.stdout + upStaging.stderr).toBe(0);
      expect(upStaging.stdout).toMatch(/upgrading the staging database 127\.0\.0\.1:\d+\/property_staging: 2 migration\(s\)/);
      expect(await one(url.replace(/\/property$/, '/property_staging'), ids)).toEqual({ n: 4 });
      expect(await one(url, ids)).toEqual({ n: 2 });
      const up = cockpit(['--repo', dir, 'migrate', 'upgrade', '--database-url', url], { timeout: 60_000 });
      expect(up.code, up.stdout + up.stderr).toBe(0);
      expect(up.stdout + up.stderr).toContain('20261120101600');
      const fill = cockpit(['--repo', dir, 'migrate', 'backfill', 'listings_city_key', '--database-url', url], { timeout: 60_000 });
      expect(fill.code, fill.stdout + fill.stderr).toBe(0);
    } finally {
      git('checkout', '-q', 'main');
    }
  });

  it('scripts/restore_db.sh restores the latest backup through the cockpit', async () => {
    const url = first.ready.started.postgres.env!.DATABASE_URL;
    expect(await one(url, 'SELECT count(*)::int AS n FROM listings WHERE city_key = lower(city)')).toEqual({ n: 2000 });
    const backup = cockpit(['--repo', dir, 'db', 'backup', '--database-url', url], { timeout: 60_000 });
    expect(backup.code, backup.stdout + backup.stderr).toBe(0);
    expect(existsSync(path.join(dir, '.cockpit', 'backups'))).toBe(true);
    await one(url, 'DELETE FROM listings WHERE id > 1000');
    const r = spawnSync(path.join(dir, 'scripts/restore_db.sh'), ['latest'], {
      cwd: dir,
      env: { ...process.env, DATABASE_URL: url, COCKPIT_JS: path.join(ROOT, 'bin', 'cockpit.js'), COCKPIT_OPERATOR: 'tester' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(await one(url, 'SELECT count(*)::int AS n FROM listings'), r.stdout + r.stderr).toEqual({ n: 2000 });
    // Without the demo's environment it says what is missing.
    const bare = spawnSync(path.join(dir, 'scripts/restore_db.sh'), ['latest'], {
      cwd: dir,
      env: { PATH: process.env.PATH },
      encoding: 'utf8',
    });
    expect(bare.status).toBe(2);
    expect(bare.stderr).toContain('COCKPIT_JS is not set');
  });

  let second: { child: ChildProcess; ready: Ready; output: string };

  it("a SIGKILLed cockpit's processes are stopped by the next start; a recycled pid is not", async () => {
    const before = pidsOf(first.ready);
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    // Killing the cockpit stopped nothing: the database and the proxies keep running (the demo's own node processes
    // may exit by themselves once their parent is gone).
    const outlive = Object.values(first.ready.started)
      .flatMap((x) => x.processes)
      .filter((p) => /^(postgres|haproxy)/.test(p.name))
      .map((p) => p.pid);
    expect(outlive.length).toBe(3);
    expect(outlive.filter(alive)).toEqual(outlive);

    // A record whose pid now belongs to another program (its start time differs): it must survive.
    const other = spawn('sleep', ['120'], { stdio: 'ignore' });
    strays.push(other.pid!);
    const rec = JSON.parse(readFileSync(processesFile(dir), 'utf8')) as { services: StartedService[] };
    rec.services.push({ name: 'recycled', processes: [{ name: 'recycled', pid: other.pid!, startTime: '1' }] });
    writeFileSync(processesFile(dir), JSON.stringify(rec));

    second = await startSupervisor();
    expect(second.output).toMatch(
      /An earlier demo did not stop its services \(its cockpit, pid \d+, was killed\): stopping its [35] processes/,
    );
    expect(before.filter(alive)).toEqual([]);
    expect(alive(other.pid!)).toBe(true);
    // And the new start serves again.
    const r = await get(`${second.ready.started.targets.urls!.production}/version`);
    expect(JSON.parse(r.body)).toMatchObject({ version: '1.3.0', colour: 'blue' });
  });

  it('a second start while the cockpit runs is refused; cockpit demo --stop leaves none of the recorded pids alive', () => {
    const again = cockpit(['demo', '--dir', dir, '--non-interactive'], { timeout: 60_000 });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/a demo is already running on .* \(its cockpit is pid \d+\)/);

    const pids = pidsOf(second.ready);
    expect(pids.length).toBe(5);
    expect(pids.filter(alive)).toEqual(pids);
    const stop = cockpit(['demo', '--stop', '--dir', dir], { timeout: 60_000 });
    expect(stop.code, stop.stdout + stop.stderr).toBe(0);
    expect(stop.stdout).toMatch(/cockpit demo --stop: stopped the demo's 5 processes in \d+\.\d s/);
    expect(pids.filter(alive)).toEqual([]);
    expect(existsSync(processesFile(dir))).toBe(false);
    expect(cockpit(['demo', '--stop', '--dir', dir]).stdout).toContain('No demo process was running');
  });

  it('cockpit demo without a terminal starts the services (the cluster kept), runs the demo checklist, and stops them all when it ends', () => {
    const r = cockpit(['demo', '--dir', dir, '--scenario', 'slow'], { timeout: 120_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`Starting the demo's services in ${dir} (scenario slow):`);
    expect(r.stdout).toMatch(/PostgreSQL [\d.]+ on 127\.0\.0\.1:\d+ .*its data kept/);
    expect(r.stdout).toMatch(/The demo's services are up in \d+\.\d s \(the sandbox's git part: \d+\.\d s\)/);
    expect(r.stdout).toMatch(/● done: Demo release of the Property app/);
    expect(r.stdout).toMatch(/The cockpit quit: stopped the demo's [6-8] processes in \d+\.\d s/);
    expect(r.stdout).not.toContain('keeps serving');
    expect(existsSync(processesFile(dir))).toBe(false);
    // The staging deploy of 1.4.0 the checklist made (a process no record had) was stopped too, by deploy.sh stop.
    const st = JSON.parse(
      spawnSync(path.join(dir, 'scripts/deploy.sh'), ['status', '--env', 'staging', '--json'], { cwd: dir, encoding: 'utf8' }).stdout,
    ) as { colours: Record<string, { running: boolean }> };
    expect(st.colours.blue.running || st.colours.green.running).toBe(false);
    // --no-services: today's sandbox alone; what its deploy left running, --stop stops too.
    const plain = cockpit(['demo', '--dir', dir, '--no-services'], { timeout: 120_000 });
    expect(plain.code, plain.stdout + plain.stderr).toBe(0);
    expect(plain.stdout).not.toContain("Starting the demo's services");
    expect(plain.stdout).toContain("The demo's Property app keeps serving staging");
    const left = JSON.parse(
      spawnSync(path.join(dir, 'scripts/deploy.sh'), ['status', '--env', 'staging', '--json'], { cwd: dir, encoding: 'utf8' }).stdout,
    ) as { proxy: { pid: number }; colours: Record<string, { pid: number | null }> };
    const leftPids = [left.proxy.pid, left.colours.blue.pid, left.colours.green.pid].filter((p): p is number => !!p);
    expect(leftPids.length).toBeGreaterThanOrEqual(2);
    const stop = cockpit(['demo', '--stop', '--dir', dir], { timeout: 60_000 });
    expect(stop.stdout).toContain('cockpit demo --stop: stopped what scripts/deploy.sh left on staging');
    expect(leftPids.filter(alive)).toEqual([]);
    const bad = cockpit(['demo', '--dir', dir, '--scenario', 'fast']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Allowed choices are none, bad-payments, slow');
  });

  it.skipIf(process.getuid?.() !== 0)(
    'as root, a sandbox the postgres user cannot reach gets its cluster in the temporary directory, said',
    { timeout: 60_000 },
    async () => {
      const closed = mkdtempSync(path.join(os.tmpdir(), 'cockpit-demo-closed-')); // 0700: closed to the postgres user
      const sb = path.join(closed, 'sandbox');
      try {
        ensureSandbox(sb, false);
        const lines: string[] = [];
        const r = await startAll({ dir: sb, log: (l) => lines.push(l), services: [postgresService()] });
        expect(r.skipped).toEqual([]);
        const said = lines.join('\n');
        const where = /as root: the cluster is in (\S+), where the postgres user it runs as can reach it/.exec(said)?.[1];
        expect(where, said).toMatch(new RegExp(`^${os.tmpdir()}/cockpit-demo-postgres-[0-9a-f]{12}-\\d+$`));
        expect(await one(r.started.postgres.env!.DATABASE_URL, 'SELECT count(*)::int AS n FROM listings')).toEqual({ n: 2000 });
        await stopAll(sb);
        expect(existsSync(path.join(where!, 'data', 'postmaster.pid'))).toBe(false);
        rmSync(where!, { recursive: true, force: true });
      } finally {
        await stopAll(sb);
        rmSync(closed, { recursive: true, force: true });
      }
    },
  );

  it.skipIf(!Tmux.available().ok)(
    'in a terminal: the services start before the home screen, q stops them all (said, with the time), and so does closing the terminal',
    { timeout: 120_000 },
    async () => {
      const recordedPids = () =>
        (JSON.parse(readFileSync(processesFile(dir), 'utf8')) as { services: StartedService[] }).services.flatMap((x) =>
          x.processes.map((p) => p.pid),
        );
      const open = () =>
        new Tmux(`${process.execPath} ${BIN} demo --dir ${dir}`, {
          cwd: path.dirname(dir),
          env: { NO_COLOR: '1', COCKPIT_OPERATOR: 'alice' },
        });
      let t = open();
      try {
        await t.waitFor((x) => /^ Checklists \(\d+\)/m.test(x) && / q quit/.test(x), 'the home screen', 60_000);
        const pids = recordedPids();
        // PostgreSQL, the receivers, a HAProxy and an app per environment, the traffic (and Prometheus, when installed).
        expect(pids.length).toBeGreaterThanOrEqual(6);
        expect(pids.filter(alive)).toEqual(pids);
        t.send('q');
        const s = await t.waitFor(
          (x) => new RegExp(`The cockpit quit: stopped the demo's ${pids.length} processes in \\d+\\.\\d s`).test(x),
          'the services stopped',
          30_000,
        );
        expect(s).toContain("The demo's services are up in");
        expect(await t.waitForExit()).toBe(0);
        expect(pids.filter(alive)).toEqual([]);
      } finally {
        t.kill();
      }
      // The terminal closed under it: SIGHUP, and the cockpit stops the services before it goes.
      t = open();
      let pids: number[] = [];
      try {
        await t.waitFor((x) => /^ Checklists \(\d+\)/m.test(x) && / q quit/.test(x), 'the home screen', 60_000);
        pids = recordedPids();
      } finally {
        t.kill();
      }
      const until = Date.now() + 15_000;
      // The cockpit removes the record once every process is gone.
      while ((pids.some(alive) || existsSync(processesFile(dir))) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      expect(pids.filter(alive)).toEqual([]);
      expect(existsSync(processesFile(dir))).toBe(false);
    },
  );
});

describe("the supervisor's failures, with stand-in services (sleep processes)", () => {
  const spawned: number[] = [];
  /** A service that leaves one `sleep` running, or fails after writing its log. */
  const service = (name: string, o: { fails?: boolean; optional?: boolean; stops?: string[] } = {}): DemoService => ({
    name,
    optional: o.optional,
    async start(ctx) {
      if (o.fails) {
        mkdirSync(path.join(ctx.stateDir, name), { recursive: true });
        writeFileSync(path.join(ctx.stateDir, name, `${name}.log`), `starting ${name}\nFATAL: port 5 is taken\n`);
        throw new Error(`${name} exited with code 1`);
      }
      const child = spawn('sleep', ['120'], { stdio: 'ignore', detached: true });
      child.unref();
      spawned.push(child.pid!);
      return { name, processes: [{ name, pid: child.pid! }], localConfig: { [name]: { url: `http://${name}` }, shared: { [name]: true } } };
    },
    check: async () => true,
    stop: async () => {
      o.stops?.push(name);
    },
  });

  it('an optional service that fails says why and the rest go on; a required one stops what started and fails with its log', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'cockpit-demo-sup-fail-'));
    try {
      const lines: string[] = [];
      const r = await startAll({
        dir: tmp,
        log: (l) => lines.push(l),
        services: [service('one'), service('extra', { fails: true, optional: true }), service('two')],
      });
      expect(Object.keys(r.started)).toEqual(['one', 'two']);
      expect(r.skipped).toEqual([{ name: 'extra', why: 'extra exited with code 1' }]);
      expect(lines.join('\n')).toMatch(/○ extra did not start \(\d+\.\d s\): extra exited with code 1/);
      // The services' localConfig, merged key by key.
      expect(parse(readFileSync(path.join(tmp, 'cockpit.local.yaml'), 'utf8'))).toEqual({
        one: { url: 'http://one' },
        two: { url: 'http://two' },
        shared: { one: true, two: true },
      });
      const pids = Object.values(r.started).map((s) => s.processes[0].pid);
      const stops: string[] = [];
      const res = await stopAll(tmp, () => {}, [service('one', { stops }), service('two', { stops })]);
      expect(stops).toEqual(['two', 'one']); // the stop hooks, newest service first
      expect(res.stopped).toBe(2);
      expect(pids.filter(alive)).toEqual([]);

      spawned.length = 0;
      const failing = startAll({ dir: tmp, services: [service('one'), service('db', { fails: true })] });
      await expect(failing).rejects.toThrow(
        /the demo's db did not start: db exited with code 1\n.*db\.log ends:\nstarting db\nFATAL: port 5 is taken/,
      );
      // What started was stopped, and its record removed.
      expect(spawned.length).toBe(1);
      expect(spawned.filter(alive)).toEqual([]);
      expect(existsSync(processesFile(tmp))).toBe(false);
    } finally {
      await stopAll(tmp);
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

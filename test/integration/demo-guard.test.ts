// `cockpit demo` pointed at something that is not its sandbox, as an attacker or a careless user would: it must not
// remove, reuse or stop anything the demo did not make. Quick: no services are started (--no-services, or refused
// before any start).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import os from 'node:os';
import { serverBinaries } from '../../src/adapters/pg-server.js';
import { postgresService } from '../../src/demo/postgres.js';
import { ensureSandbox } from '../../src/demo/sandbox.js';
import type { DemoService } from '../../src/demo/service.js';
import { processesFile, startAll, startTimeOf, stopAll } from '../../src/demo/supervisor.js';
import { BIN, ROOT, cockpit, tempRepo } from '../helpers/cli.js';
import { Tmux } from '../helpers/tmux.js';

let repo: ReturnType<typeof tempRepo>;
beforeEach(() => {
  repo = tempRepo();
  repo.write('precious.txt', 'the work of weeks\n');
  spawnSync('git', ['add', '.'], { cwd: repo.dir });
  spawnSync('git', ['-c', 'user.email=a@example.com', '-c', 'user.name=A', 'commit', '-qm', 'work'], { cwd: repo.dir });
});
afterEach(() => repo.cleanup());

describe('cockpit demo --dir on a folder the demo did not make', () => {
  it('--reset refuses a real repository and leaves every file in it', () => {
    const r = cockpit(['demo', '--reset', '--dir', repo.dir, '--no-services', '--non-interactive']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${repo.dir} is a git repository that the demo did not make`);
    expect(r.stderr).toContain('--reset removes only a sandbox the demo made');
    expect(readFileSync(path.join(repo.dir, 'precious.txt'), 'utf8')).toBe('the work of weeks\n');
    expect(existsSync(path.join(repo.dir, '.sandbox'))).toBe(false);
  });

  it('without --reset it is not used as the sandbox: nothing is written, no checklist runs', () => {
    const r = cockpit(['demo', '--dir', repo.dir, '--no-services', '--non-interactive']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the demo uses only a sandbox it made');
    for (const made of ['.cockpit', 'cockpit.local.yaml', '.sandbox']) expect(existsSync(path.join(repo.dir, made))).toBe(false);
  });

  it('--reset refuses a folder of other files, and a file', () => {
    const folder = path.join(repo.dir, 'notes');
    mkdirSync(folder);
    writeFileSync(path.join(folder, 'a.txt'), 'a\n');
    const r = cockpit(['demo', '--reset', '--dir', folder, '--no-services', '--non-interactive']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is a folder that is not a demo sandbox');
    expect(existsSync(path.join(folder, 'a.txt'))).toBe(true);
    const file = path.join(repo.dir, 'precious.txt');
    const f = cockpit(['demo', '--reset', '--dir', file, '--no-services', '--non-interactive']);
    expect(f.code).toBe(2);
    expect(f.stderr).toContain('is not a folder');
    expect(existsSync(file)).toBe(true);
  });

  it('--stop does nothing in a folder that is not a sandbox, even with a processes.json naming a running process', () => {
    const victim = spawnSync('sh', ['-c', 'sleep 60 >/dev/null 2>&1 & echo $!'], { encoding: 'utf8' });
    const pid = Number(victim.stdout.trim());
    try {
      repo.write(
        '.sandbox/demo/processes.json',
        JSON.stringify({ supervisor: { pid: 999999 }, services: [{ name: 'x', processes: [{ name: 'x', pid }] }] }),
      );
      const r = cockpit(['demo', '--stop', '--dir', repo.dir]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('is not a demo sandbox');
      expect(() => process.kill(pid, 0)).not.toThrow();
    } finally {
      process.kill(pid, 'SIGKILL');
    }
  });

  it('a path its HAProxy and PostgreSQL cannot be configured with (a space, a quote, a $) is refused before anything is made', () => {
    for (const name of ['my demo', "it's", 'a$HOME', 'title\u001b]0;pwned\u0007']) {
      const dir = path.join(repo.dir, name);
      const r = cockpit(['demo', '--dir', dir, '--no-services', '--non-interactive']);
      expect(r.code, name).toBe(2);
      expect(r.stderr).toContain(`the demo's sandbox path may not contain`);
      expect(r.stderr).toContain(`${JSON.stringify(dir)}; choose another --dir`); // JSON: the escape shown, not sent
      expect(existsSync(dir)).toBe(false);
    }
  });

  it('without HAProxy the demo says what to install, goes on without its targets, and does not claim its app keeps serving', () => {
    // A PATH with every program of this machine but haproxy and prometheus: each is named with how to install it.
    const bin = path.join(repo.dir, 'bin');
    mkdirSync(bin);
    for (const d of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'].filter((x) => existsSync(x)))
      for (const f of readdirSync(d))
        if (f !== 'haproxy' && f !== 'prometheus' && !existsSync(path.join(bin, f))) symlinkSync(path.join(d, f), path.join(bin, f));
    const dir = path.join(repo.dir, 'no-haproxy');
    chmodSync(repo.dir, 0o755); // as root the database runs as the postgres user, who must reach the sandbox
    // The services start without the targets (and the traffic they get), said; the demo checklist runs up to its deploy.
    const first = cockpit(['demo', '--dir', dir, '--non-interactive'], { env: { PATH: bin }, timeout: 120_000 });
    expect(first.stdout).toMatch(
      /○ targets did not start \(\d+\.\d s\): HAProxy is not installed, and the deploy targets run behind it: install it \(Debian\/Ubuntu: sudo apt-get install haproxy; macOS: brew install haproxy\)/,
    );
    expect(first.stdout).toMatch(
      /○ prometheus did not start \(\d+\.\d s\): Prometheus is not installed \(no `prometheus` on the PATH\): install it/,
    );
    expect(first.stdout).toContain('(Debian/Ubuntu: sudo apt-get install prometheus; macOS: brew install prometheus)');
    expect(first.stdout).toMatch(
      /○ traffic did not start \(\d+\.\d s\): the deploy targets did not start, so no environment to send traffic to/,
    );
    expect(first.stdout).toMatch(/The demo's services are up in \d+\.\d s .*; without (postgres, )?targets, prometheus, traffic\./);
    expect(first.stdout).toContain('deploy.sh: haproxy is not installed (Debian/Ubuntu: apt-get install haproxy)');
    expect(first.stdout).toMatch(/The cockpit quit: stopped the demo's \d+ process/);
    expect(first.code).toBe(1);
    const r = cockpit(['demo', '--dir', dir, '--no-services', '--non-interactive'], { env: { PATH: bin }, timeout: 120_000 });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('deploy.sh: haproxy is not installed (Debian/Ubuntu: apt-get install haproxy)');
    expect(r.stdout).not.toContain('keeps serving');
  });

  it('an empty folder is made into a sandbox, and --reset of that sandbox still works', () => {
    const dir = path.join(repo.dir, 'empty');
    mkdirSync(dir);
    const r = cockpit(['demo', '--dir', dir, '--no-services', '--non-interactive'], { timeout: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Made the demo sandbox in ${dir}`);
    spawnSync(path.join(dir, 'scripts', 'deploy.sh'), ['stop', '--env', 'staging'], { cwd: dir });
    const again = cockpit(['demo', '--reset', '--dir', dir, '--no-services', '--non-interactive'], { timeout: 120_000 });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`Made the demo sandbox in ${dir}`);
    spawnSync(path.join(dir, 'scripts', 'deploy.sh'), ['stop', '--env', 'staging'], { cwd: dir });
  });
});

describe('two cockpit demo started at the same moment on a new sandbox', () => {
  it('both get a whole sandbox: neither removes the one the other has just put in place', async () => {
    const make = (dir: string) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(
          process.execPath,
          [
            '--import',
            'tsx',
            '-e',
            `import('${ROOT}/src/demo/sandbox.ts').then((m) => { m.ensureSandbox(${JSON.stringify(dir)}, false); console.log(require('node:fs').statSync(${JSON.stringify(dir)}).ino); })`,
          ],
          { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        child.on('close', (code) => resolve({ code, out }));
      });
    for (let round = 0; round < 4; round++) {
      const dir = path.join(repo.dir, `race-${round}`);
      const results = await Promise.all([make(dir), make(dir), make(dir)]);
      for (const r of results) expect(r.code, r.out).toBe(0);
      // Each was given the sandbox that stays: none was replaced under a cockpit that had it.
      const ino = String(statSync(dir).ino);
      expect(results.map((r) => r.out.trim())).toEqual([ino, ino, ino]);
      expect(existsSync(path.join(dir, '.sandbox', 'origin.git', 'HEAD'))).toBe(true);
      const st = spawnSync('git', ['status', '--porcelain'], { cwd: dir, encoding: 'utf8' });
      expect(st.status, st.stderr).toBe(0);
      expect(st.stdout).toBe('');
      expect(readdirSync(repo.dir).filter((f) => f.includes('.partial-'))).toEqual([]);
    }
  }, 60_000);
});

describe("the demo's record of processes is trusted only when it is the user's own", () => {
  let sandbox = '';
  let victim: ChildProcess;
  beforeEach(() => {
    sandbox = path.join(repo.dir, 'sandbox');
    ensureSandbox(sandbox, false);
    victim = spawn('sleep', ['60'], { stdio: 'ignore' });
  });
  afterEach(() => {
    victim.kill('SIGKILL');
  });
  const running = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1][0] !== 'Z';
  const record = (p: { pid: number; startTime?: string }) => {
    const file = processesFile(sandbox);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(
      file,
      JSON.stringify({ supervisor: { pid: 999999 }, startedAt: '', services: [{ name: 'x', processes: [{ name: 'x', ...p }] }] }),
      {
        mode: 0o600,
      },
    );
    return file;
  };

  it.skipIf(!existsSync('/proc/self/stat'))(
    'a process recorded without its start time is not signalled (the demo records every one with it)',
    () => {
      record({ pid: victim.pid! });
      const r = cockpit(['demo', '--stop', '--dir', sandbox]);
      expect(r.code, r.stderr).toBe(0);
      expect(running(victim.pid!)).toBe(true);
    },
  );

  it.skipIf(!existsSync('/proc/self/stat'))(
    'while a demo runs on the sandbox, a second cockpit demo neither resets it nor starts its services again',
    () => {
      // The running demo: its cockpit (a stand-in) and one service process, recorded as the supervisor records them.
      const supervisor = spawn('sleep', ['60'], { stdio: 'ignore' });
      try {
        const file = processesFile(sandbox);
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(
          file,
          JSON.stringify({
            supervisor: { pid: supervisor.pid, startTime: startTimeOf(supervisor.pid!) },
            startedAt: '',
            services: [{ name: 'x', processes: [{ name: 'x', pid: victim.pid, startTime: startTimeOf(victim.pid!) }] }],
          }),
          { mode: 0o600 },
        );
        const reset = cockpit(['demo', '--reset', '--dir', sandbox, '--no-services', '--non-interactive']);
        expect(reset.code).toBe(2);
        expect(reset.stderr).toContain(
          `a demo is already running on ${sandbox} (its cockpit is pid ${supervisor.pid}): use that one, or quit it before --reset removes its sandbox (npx cockpit demo --stop --dir ${sandbox} stops its services)`,
        );
        expect(existsSync(file)).toBe(true);
        expect(running(victim.pid!)).toBe(true);
        const again = cockpit(['demo', '--dir', sandbox, '--non-interactive']);
        expect(again.code).toBe(2);
        expect(again.stdout).toBe('');
        expect(again.stderr).toContain('a demo is already running on');
      } finally {
        supervisor.kill('SIGKILL');
      }
    },
  );

  it.skipIf(!existsSync('/proc/self/cmdline'))(
    "the deploy script's stop leaves alone another HAProxy (and another demo-app) that got a pid its state names",
    () => {
      // The machine's own HAProxy and some other program named demo-app, on pids a stale state.json still names.
      const system = spawn('sleep', ['60'], { argv0: 'haproxy', stdio: 'ignore' });
      const other = spawn('sleep', ['60'], { argv0: '/elsewhere/demo-app.js', stdio: 'ignore' });
      try {
        const state = path.join(sandbox, '.cockpit', 'bluegreen', 'staging', 'state.json');
        mkdirSync(path.dirname(state), { recursive: true });
        writeFileSync(
          state,
          JSON.stringify({
            env: 'staging',
            proxy: { pid: system.pid, port: 1 },
            colours: { blue: { pid: other.pid, port: 2, version: '1.3.0', startedAt: '' } },
            live: 'blue',
          }),
        );
        const r = spawnSync(path.join(sandbox, 'scripts', 'deploy.sh'), ['stop', '--env', 'staging'], { cwd: sandbox, encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(0);
        expect(running(system.pid!)).toBe(true);
        expect(running(other.pid!)).toBe(true);
      } finally {
        system.kill('SIGKILL');
        other.kill('SIGKILL');
      }
    },
  );

  const asRoot = process.getuid?.() === 0;
  it.skipIf(!asRoot)(
    'as root: a record that belongs to another user is refused, and so is a sandbox of another user (skipped unless root: chown)',
    () => {
      const file = record({ pid: victim.pid!, startTime: startTimeOf(victim.pid!) });
      chownSync(file, 65534, 65534);
      const r = cockpit(['demo', '--stop', '--dir', sandbox]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('is not trusted, so no process it names is signalled: it belongs to user 65534');
      expect(running(victim.pid!)).toBe(true);
      rmSync(file);
      spawnSync('chown', ['-R', '65534:65534', sandbox]);
      for (const args of [['--stop'], ['--no-services', '--non-interactive'], ['--reset', '--no-services', '--non-interactive']]) {
        const o = cockpit(['demo', ...args, '--dir', sandbox]);
        expect(o.code, args.join(' ')).toBe(2);
        expect(o.stderr).toContain(`${sandbox} belongs to user 65534, not to you (0)`);
      }
      expect(existsSync(path.join(sandbox, '.sandbox', 'origin.git'))).toBe(true);
    },
  );
});

describe("as root, the database's folder in the shared temporary directory", () => {
  const asRoot = process.getuid?.() === 0;
  it.skipIf(!asRoot || !serverBinaries().ok)(
    'one another user made first under its name is refused, not handed to the postgres user (skipped unless root with PostgreSQL)',
    async () => {
      const closed = mkdtempSync(path.join(os.tmpdir(), 'cockpit-demo-closed-')); // 0700: closed to the postgres user
      const sb = path.join(closed, 'sandbox');
      try {
        ensureSandbox(sb, false);
        // The name root's fallback folder of this sandbox gets: its path's hash and its inode.
        const at = path.join(
          os.tmpdir(),
          `cockpit-demo-postgres-${createHash('sha256').update(sb).digest('hex').slice(0, 12)}-${statSync(sb).ino}`,
        );
        mkdirSync(path.join(at, 'data'), { recursive: true });
        writeFileSync(path.join(at, 'data', 'postgresql.conf'), "archive_command = 'touch /tmp/owned'\n");
        chownSync(at, 65534, 65534);
        const lines: string[] = [];
        const r = await startAll({ dir: sb, log: (l) => lines.push(l), services: [postgresService()] });
        expect(r.skipped).toEqual([
          {
            name: 'postgres',
            why: `${at} was not made by the demo (it belongs to user 65534): remove it, or run the demo with --dir in a folder the postgres user can reach (e.g. under /tmp)`,
          },
        ]);
        expect(statSync(at).uid).toBe(65534);
        rmSync(at, { recursive: true, force: true });
      } finally {
        await stopAll(sb);
        rmSync(closed, { recursive: true, force: true });
      }
    },
    60_000,
  );
});

describe('a start of the services cut short', () => {
  const started: number[] = [];
  afterEach(() => {
    for (const pid of started.splice(0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  });
  const isRunning = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1][0] !== 'Z';
    } catch {
      return false;
    }
  };
  const sleeper = () => {
    const child = spawn('sleep', ['120'], { stdio: 'ignore', detached: true });
    child.unref();
    started.push(child.pid!);
    return child.pid!;
  };

  it('aborted (Ctrl-C) while a service starts: that one finishes and is recorded, no other starts, and the record stops it', async () => {
    const dir = path.join(repo.dir, 'aborted');
    const abort = new AbortController();
    const calls: string[] = [];
    const slow: DemoService = {
      name: 'slow',
      async start() {
        calls.push('slow');
        const pid = sleeper();
        abort.abort(); // the Ctrl-C comes while this one starts
        await new Promise((r) => setTimeout(r, 300));
        return { name: 'slow', processes: [{ name: 'slow', pid }] };
      },
      check: async () => true,
    };
    const next: DemoService = {
      name: 'next',
      start: async () => (calls.push('next'), { name: 'next', processes: [] }),
      check: async () => true,
    };
    const r = await startAll({ dir, services: [slow, next], signal: abort.signal });
    expect(r.stopped).toBe(true);
    expect(calls).toEqual(['slow']);
    const pid = started[0];
    expect(JSON.parse(readFileSync(processesFile(dir), 'utf8')).services[0].processes[0].pid).toBe(pid);
    const s = await stopAll(dir, () => {}, [slow, next]);
    expect(s.stopped).toBe(1);
    expect(isRunning(pid)).toBe(false);
  });

  it('a start that fails halfway gets its own stop, for what it left running before it could be recorded', async () => {
    const dir = path.join(repo.dir, 'halfway');
    let left = 0;
    const half: DemoService = {
      name: 'half',
      async start() {
        left = sleeper(); // the first environment deployed, the second failed
        throw new Error('the second environment did not deploy');
      },
      check: async () => true,
      async stop() {
        if (left) process.kill(left, 'SIGKILL');
      },
    };
    await expect(startAll({ dir, services: [half] })).rejects.toThrow(
      "the demo's half did not start: the second environment did not deploy",
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(isRunning(left)).toBe(false);
  });

  const haveServices = spawnSync('haproxy', ['-v']).status === 0 && serverBinaries().ok;
  it.skipIf(!Tmux.available().ok || !haveServices)(
    'Ctrl-C in the terminal while the deploy targets start leaves no process of the demo running (skipped without tmux, haproxy or PostgreSQL)',
    { timeout: 90_000 },
    async () => {
      // As root the database runs as the postgres user, who must reach the sandbox.
      chmodSync(repo.dir, 0o755);
      const dir = path.join(repo.dir, 'ctrl-c');
      const t = new Tmux(`${process.execPath} ${BIN} demo --dir ${dir}`, { cwd: repo.dir, env: { NO_COLOR: '1' } });
      try {
        // The receivers are up: the targets' deploys start now.
        await t.waitForText('✓ receivers healthy', 60_000);
        t.send('C-c');
        const code = await t.waitForExit(60_000);
        expect(t.screen({ joined: true })).toMatch(/SIGINT: stopped the demo's \d+ process/);
        expect(code).toBe(130);
      } finally {
        t.kill();
      }
      const ours = () =>
        readdirSync('/proc')
          .filter((p) => /^\d+$/.test(p))
          .filter((p) => {
            try {
              return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(dir) && isRunning(Number(p));
            } catch {
              return false;
            }
          });
      const until = Date.now() + 10_000;
      while (ours().length && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
      const left = ours().map((p) => `${p} ${readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ')}`);
      for (const p of left) process.kill(Number(p.split(' ')[0]), 'SIGKILL'); // not left to the next test
      expect(left).toEqual([]);
    },
  );
});

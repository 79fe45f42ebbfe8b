// `cockpit demo` pointed at something that is not its sandbox, as an attacker or a careless user would: it must not
// remove, reuse or stop anything the demo did not make. Quick: no services are started (--no-services, or refused
// before any start).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureSandbox } from '../../src/demo/sandbox.js';
import { processesFile, startTimeOf } from '../../src/demo/supervisor.js';
import { cockpit, tempRepo } from '../helpers/cli.js';

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

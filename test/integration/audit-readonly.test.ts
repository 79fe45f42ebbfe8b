import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cockpit, tempRepo } from '../helpers/cli.js';

// The reading commands (audit list, show, verify) open the store read-only: they work on a log the user may only
// read (a read-only folder, a copy handed over for an investigation) and change nothing in it. Tried for real: the
// commands run as another user ('nobody') on a log owned by root, which that user cannot write.

const asRoot = process.getuid?.() === 0;
const runuser = spawnSync('sh', ['-c', 'command -v runuser'], { encoding: 'utf8' }).stdout.trim();
const why = !asRoot ? ' (skipped: needs root to run the commands as another user)' : !runuser ? ' (skipped: no runuser)' : '';

describe.skipIf(!!why)(`a read-only audit log${why}`, () => {
  let repo: ReturnType<typeof tempRepo>;
  let db: string;
  const asNobody = (...args: string[]) => {
    const r = spawnSync(runuser, ['-u', 'nobody', '--', process.execPath, BIN, '--repo', repo.dir, ...args], {
      cwd: '/',
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', HOME: '/tmp' },
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  beforeAll(() => {
    repo = tempRepo({ t: 'id: t\ntitle: T\nsteps:\n  - {id: a, title: A, kind: run, run: echo hello}\n' });
    expect(cockpit(['--repo', repo.dir, 'run', 't', '--non-interactive'], { cwd: repo.dir }).code).toBe(0);
    db = path.join(repo.dir, '.cockpit', 'audit.db');
    // Readable by everyone, writable by root alone (the folder too: no journal file can be made beside it).
    execFileSync('chmod', ['-R', 'a+rX,go-w', repo.dir]);
    chmodSync(db, 0o444);
  });
  afterAll(() => repo.cleanup());

  it('list, show in every format and verify work, and the file is left as it was', () => {
    const before = readFileSync(db);
    const files = readdirSync(path.dirname(db)).sort();
    const list = asNobody('audit', 'list', '--json');
    expect(list.code, list.stderr).toBe(0);
    const [{ id }] = JSON.parse(list.stdout) as Array<{ id: string }>;
    for (const format of ['text', 'md', 'json']) {
      const show = asNobody('audit', 'show', id, '--format', format);
      expect(show.code, show.stderr).toBe(0);
      expect(show.stdout).toContain(format === 'json' ? '"type":"session.started"' : 'echo hello');
    }
    const v = asNobody('audit', 'verify');
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(v.stdout).toMatch(/audit log intact: 1 session\(s\)/);
    expect(readFileSync(db).equals(before)).toBe(true);
    expect(readdirSync(path.dirname(db)).sort()).toEqual(files);
  });
});

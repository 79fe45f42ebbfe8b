import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cockpit, tempRepo, type CliResult } from '../helpers/cli.js';
import { freshDatabase, pgTest } from '../helpers/pg.js';

/**
 * Bad input is answered, never crashed on (issue 13): every case here is a real child process that must end, within
 * seconds, in its documented exit code and one sentence naming the file, flag or URL and what is wrong, with no stack.
 */

const pgInfo = pgTest();
const BUDGET_MS = 5000;

/** Runs `cockpit …` and checks the shape of every answer: the code, the sentence, no stack frame, in time. */
function answer(args: string[], opts: { cwd: string; env?: Record<string, string> }, code: number, sentence: RegExp): CliResult {
  const t0 = performance.now();
  const r = cockpit(args, { ...opts, timeout: 20_000 });
  const ms = performance.now() - t0;
  expect(r.stderr, r.stdout).toMatch(sentence);
  expect(r.code, r.stderr).toBe(code);
  expect(r.stderr).not.toMatch(/^ {4}at /m);
  expect(r.stderr).not.toMatch(/internal error/);
  expect(ms).toBeLessThan(BUDGET_MS);
  return r;
}

/** A port on loopback that nothing listens on (bound, then closed). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Nested anchors, each alias repeating the one before nine times: 9^10 strings from ten lines. */
function aliasBomb(indent: string): string {
  const lines = [`${indent}a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]`];
  for (let i = 1; i < 10; i++) {
    const [n, p] = [String.fromCharCode(97 + i), String.fromCharCode(96 + i)];
    lines.push(`${indent}${n}: &${n} [${Array(9).fill(`*${p}`).join(',')}]`);
  }
  return lines.join('\n') + '\n';
}

const CONFIRM = 'id: ok\ntitle: OK\nsteps:\n  - id: a\n    title: A\n    kind: confirm\n';

let repo: ReturnType<typeof tempRepo>;
beforeEach(() => {
  repo = tempRepo();
});
afterEach(() => repo.cleanup());
const at = () => ({ cwd: repo.dir });
const inRepo = (...args: string[]) => ['--repo', repo.dir, ...args];

describe('YAML that would exhaust the cockpit', () => {
  it('an alias bomb in a checklist is refused at its file (exit 2)', () => {
    repo.write('checklists/bomb.yaml', `${CONFIRM}x:\n${aliasBomb('  ')}`);
    const sentence =
      /^cockpit: checklists\/bomb\.yaml:1:1: too many YAML aliases \(more than 100 expansions of anchors\): refused as a possible alias bomb/m;
    answer(inRepo('checklist', 'validate', 'checklists/bomb.yaml'), at(), 2, /checklists\/bomb\.yaml:1:1: too many YAML aliases/);
    answer(inRepo('run', 'bomb', '--non-interactive'), at(), 2, sentence);
  });

  it('an alias bomb in cockpit.config.yaml is refused at its file (exit 2)', () => {
    repo.write('cockpit.config.yaml', `env:\n  X: 1\nx:\n${aliasBomb('  ')}`);
    answer(inRepo('checklist', 'list'), at(), 2, /^cockpit: .*cockpit\.config\.yaml:1:1: too many YAML aliases .*alias bomb/m);
  });

  it('100k YAML errors: the first 20 and how many more', () => {
    repo.write('checklists/broken.yaml', `id: e\ntitle: E\nsteps:\n${']\n'.repeat(100_000)}`);
    const r = answer(inRepo('checklist', 'validate', 'checklists/broken.yaml'), at(), 2, /^… and 99980 more problems$/m);
    expect(r.stderr.trim().split('\n')).toHaveLength(21);
    expect(r.stderr).toMatch(/^checklists\/broken\.yaml:4:1: invalid YAML: /);
  });

  it('100k schema problems in a checklist and in the config: the first 20 and how many more', () => {
    repo.write('checklists/wrong.yaml', `id: z\ntitle: Z\nsteps: [${Array(100_000).fill('1').join(',')}]\n`);
    const r = answer(inRepo('run', 'wrong', '--non-interactive'), at(), 2, /^… and 99980 more problems$/m);
    expect(r.stderr).toMatch(/^cockpit: checklists\/wrong\.yaml:3:9: step 1: expected a mapping, got number 1/);
    expect(r.stderr.trim().split('\n')).toHaveLength(21);

    repo.write('cockpit.config.yaml', `secrets:\n  env: [${Array(100_000).fill('1').join(',')}]\n`);
    const c = answer(inRepo('checklist', 'list'), at(), 2, /^… and 99980 more problems$/m);
    expect(c.stderr).toMatch(/cockpit\.config\.yaml:2:9: secrets\.env\.0: /);
    expect(c.stderr.trim().split('\n')).toHaveLength(21);
  });

  it('a YAML file over 1 MB is refused before it is parsed', () => {
    repo.write('checklists/huge.yaml', `${CONFIRM}${'# padding padding padding padding padding\n'.repeat(30_000)}`);
    answer(
      inRepo('run', 'huge', '--non-interactive'),
      at(),
      2,
      /^cockpit: checklists\/huge\.yaml:1:1: the file is 1\.2 MB: more than the 1 MB a YAML file read by the cockpit may be$/m,
    );
    repo.write('cockpit.config.yaml', `env:\n  X: 1\n${'# padding padding padding padding padding\n'.repeat(30_000)}`);
    answer(
      inRepo('checklist', 'list'),
      at(),
      2,
      /^cockpit: .*cockpit\.config\.yaml is 1\.2 MB: more than the 1 MB a YAML file read by the cockpit may be$/m,
    );
  });
});

describe('the audit store', () => {
  it.each([
    ['postgres://::bad', /is not a valid PostgreSQL URL: expected postgres:\/\/user@host:port\/database/],
    ['mysql://x', /has scheme 'mysql:', which the cockpit cannot store its audit log in/],
    ['postgres://u:hunter2@[::1', /'postgres:\/\/u:\*\*\*@\[::1' is not a valid PostgreSQL URL/],
  ])('a malformed audit.url (%s) is bad input naming audit.url (exit 2)', (url, why) => {
    repo.write('cockpit.config.yaml', `audit:\n  url: "${url}"\n`);
    const r = answer(
      inRepo('audit', 'list'),
      at(),
      2,
      new RegExp(`^cockpit: audit\\.url in .*cockpit\\.config\\.yaml .*${why.source}`, 'm'),
    );
    expect(r.stderr).not.toContain('hunter2');
    expect(existsSync(path.join(repo.dir, 'mysql:'))).toBe(false);
  });

  it('a SQLite audit log with its events table dropped: one sentence (exit 1)', () => {
    // A log made by a run (audit list only reads: it creates no log).
    repo.write('checklists/ok.yaml', CONFIRM);
    expect(cockpit(inRepo('run', 'ok', '--non-interactive', '--yes', 'all'), at()).code).toBe(0);
    const db = new Database(path.join(repo.dir, '.cockpit', 'audit.db'));
    db.exec('DROP TABLE events');
    db.close();
    const sentence = /^cockpit: the audit log .*audit\.db: table events is missing: this is not a cockpit audit store, or it was damaged$/m;
    answer(inRepo('audit', 'list'), at(), 1, sentence);
    answer(inRepo('run', 'ok', '--non-interactive', '--yes', 'all'), at(), 1, sentence);
  });

  it.skipIf(!pgInfo.url)(`a PostgreSQL audit store with its events table dropped: one sentence (exit 1)${pgInfo.skipReason}`, async () => {
    const url = await freshDatabase('bad_input_audit');
    expect(cockpit(inRepo('--audit-url', url, 'audit', 'list'), at()).code).toBe(0);
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query('DROP TABLE events');
    await c.end();
    answer(
      inRepo('--audit-url', url, 'audit', 'list'),
      at(),
      1,
      /table events is missing: this is not a cockpit audit store, or it was damaged$/m,
    );
  });
});

describe('an unreachable PostgreSQL', () => {
  let port: number;
  beforeAll(async () => {
    port = await freePort();
  });

  it.each(['status', 'upgrade'])('migrate %s against a port nobody listens on: cannot reach PostgreSQL (exit 1)', (cmd) => {
    repo.write('migrations/.keep', '');
    const url = `postgres://u:secret@127.0.0.1:${port}/db`;
    const r = answer(
      inRepo('migrate', cmd, '--database-url', url),
      at(),
      1,
      new RegExp(`^cockpit: cannot reach PostgreSQL at 127\\.0\\.0\\.1:${port}: connect ECONNREFUSED`, 'm'),
    );
    expect(r.stderr).not.toContain('secret');
  });

  it.each(['status', 'upgrade'])('migrate %s against a host that does not resolve: cannot reach PostgreSQL (exit 1)', (cmd) => {
    repo.write('migrations/.keep', '');
    answer(
      inRepo('migrate', cmd, '--database-url', 'postgres://u@no-such-host.invalid:5432/db'),
      at(),
      1,
      /^cockpit: cannot reach PostgreSQL at no-such-host\.invalid:5432: getaddrinfo (ENOTFOUND|EAI_AGAIN)/m,
    );
  });

  it('a database URL pg cannot parse is bad input naming where it came from (exit 2)', () => {
    repo.write('cockpit.config.yaml', 'database:\n  url: "postgres://::bad"\n');
    answer(
      inRepo('migrate', 'status'),
      at(),
      2,
      /^cockpit: database\.url in .*cockpit\.config\.yaml postgres:\/\/::bad is not a valid PostgreSQL URL/m,
    );
  });
});

describe('durations longer than a timer holds', () => {
  const TOO_LONG = /30d is longer than the longest wait the cockpit can time \(about 24\.8 days: 2\^31-1 ms\)/;

  it('a step timeout of 30d is refused at its file:line:column (exit 2)', () => {
    repo.write(
      'checklists/long.yaml',
      'id: long\ntitle: Long\nsteps:\n  - id: wait\n    title: Wait\n    kind: run\n    run: sleep 1\n    timeout: 30d\n',
    );
    answer(
      inRepo('run', 'long', '--non-interactive'),
      at(),
      2,
      new RegExp(`^cockpit: checklists/long\\.yaml:8:14: step 'wait': timeout: ${TOO_LONG.source}$`, 'm'),
    );
  });

  it('watch durations in the config and on the command line are refused (exit 2)', () => {
    repo.write('cockpit.config.yaml', 'watch:\n  prometheus:\n    url: http://127.0.0.1:9\n  interval: 30d\n');
    answer(inRepo('watch', '--non-interactive'), at(), 2, new RegExp(`cockpit\\.config\\.yaml:4:13: watch\\.interval: ${TOO_LONG.source}`));
    repo.write('cockpit.config.yaml', '');
    answer(
      inRepo('watch', '--prometheus', 'http://127.0.0.1:9', '--duration', '30d', '--non-interactive'),
      at(),
      2,
      new RegExp(`^cockpit: --duration ${TOO_LONG.source}$`, 'm'),
    );
  });
});

describe('branch and tag names built from parameters', () => {
  const git = (...args: string[]) => spawnSync('git', args, { cwd: repo.dir, encoding: 'utf8' });

  it('a hotfix whose issue makes a branch name git refuses is bad input naming the parameter (exit 2)', () => {
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'chore: init');
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'tag', '-a', 'v1.0.0', '-m', 'v1.0.0');
    answer(
      inRepo('hotfix', 'a..b', '--non-interactive'),
      at(),
      2,
      /^cockpit: parameters 'version' \("1\.0\.1"\) and 'issue' \("a\.\.b"\) of step 'hotfix-branch': the branch name 'hotfix\/v1\.0\.1-a\.\.b' is not a valid git ref name: it contains '\.\.'$/m,
    );
    expect(git('branch', '--list', 'hotfix/*').stdout).toBe('');
  });

  it('a tag name from -p is checked before the run starts (exit 2)', () => {
    repo.write(
      'checklists/tag.yaml',
      'id: tag\ntitle: Tag\nparams:\n  name: {required: true}\nsteps:\n  - id: tag\n    title: Tag\n    kind: git.tag\n    name: "${name}"\n',
    );
    answer(
      inRepo('run', 'tag', '-p', 'name=v1.lock', '--non-interactive'),
      at(),
      2,
      /^cockpit: parameter 'name' \("v1\.lock"\) of step 'tag': the tag name 'v1\.lock' is not a valid git ref name: it has a part ending in '\.lock' \(v1\.lock\)$/m,
    );
    expect(cockpit(inRepo('audit', 'list', '--json'), at()).stdout.trim()).toBe('[]');
  });
});

describe('reports are inert', () => {
  it('audit show --format md escapes what a command printed', () => {
    const attack = '![x](http://evil.example/p.png) [y](javascript:alert(1)) <img src=x onerror=alert(1)> <script>alert(1)</script>';
    repo.write('attack.txt', `${attack}\n`);
    repo.write(
      'checklists/loud.yaml',
      `id: loud\ntitle: Loud\nsteps:\n  - id: print\n    title: Print\n    kind: run\n    run: [sh, -c, 'cat attack.txt; cat attack.txt >&2; exit 3']\n`,
    );
    expect(cockpit(inRepo('run', 'loud', '--non-interactive'), at()).code).toBe(1);
    const id = JSON.parse(cockpit(inRepo('audit', 'list', '--json'), at()).stdout)[0].id as string;
    const md = cockpit(inRepo('audit', 'show', id, '--format', 'md'), at()).stdout;
    const fence = md.indexOf('```');
    expect(fence).toBeGreaterThan(0);
    const prose = md.slice(0, fence);
    expect(md.slice(fence)).toContain(attack); // the last output, verbatim inside its fence
    expect(prose).not.toMatch(/<script|<img|!\[|\]\(javascript:|\]\(http/);
  });
});

describe('the freeze gate without a schedule', () => {
  it('says there was nothing to check', () => {
    spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'chore: init'], {
      cwd: repo.dir,
    });
    spawnSync('git', ['branch', 'develop'], { cwd: repo.dir });
    repo.write('checklists/fz.yaml', 'id: fz\ntitle: FZ\nsteps:\n  - id: freeze\n    title: Freeze gate\n    kind: freeze\n');
    const r = cockpit(inRepo('run', 'fz', '--non-interactive'), at());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/nothing to check: no release schedule configured/);
  });
});

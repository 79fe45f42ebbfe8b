import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ensureSandbox } from '../../src/demo/sandbox.js';
import { cockpit, jsonLines, ROOT, tempRepo } from '../helpers/cli.js';

// `cockpit migrate check` and the `migrate` step's `action: check`, as a user runs them: real child processes on real
// git repositories, with migration files made by the real `cockpit migrate create`. No database anywhere here.

const GIT_ENV = { GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@example.com' };

let repo: ReturnType<typeof tempRepo>;
beforeEach(() => {
  repo = tempRepo();
  repo.write('README', 'property app\n');
  git('add', '-A');
  git('commit', '-qm', 'first');
});
afterEach(() => repo.cleanup());

function git(...args: string[]): string {
  const r = spawnSync('git', args, { cwd: repo.dir, env: { ...process.env, ...GIT_ENV }, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}
const run = (args: string[]) => cockpit(['--repo', repo.dir, ...args], { cwd: repo.dir, env: { DATABASE_URL: '' } });
const check = (json = false) => run(['migrate', 'check', ...(json ? ['--json'] : [])]);

/**
 * A migration made by `cockpit migrate create` (a real run: its id is the current second, so two in a row wait for
 * the next one), then written as a person would: SQL in its upgrade and downgrade. Returns its path in the repo.
 */
function create(description: string, up: string, down: string, flags: string[] = []): string {
  const dir = path.join(repo.dir, 'migrations');
  if (!existsSync(dir)) mkdirSync(dir);
  const before = new Set(readdirSync(dir));
  let r = run(['migrate', 'create', description, ...flags]);
  // Two creates within one second share an id, which create refuses: wait for the next second.
  for (let i = 0; r.code !== 0 && /already exists/.test(r.stderr) && i < 30; i++) {
    spawnSync('sleep', ['0.1']);
    r = run(['migrate', 'create', description, ...flags]);
  }
  expect(r.code, r.stderr).toBe(0);
  const name = readdirSync(path.join(repo.dir, 'migrations')).find((n) => !before.has(n))!;
  const file = path.join(repo.dir, 'migrations', name);
  const text = readFileSync(file, 'utf8');
  if (name.endsWith('.sql')) {
    writeFileSync(
      file,
      text
        .replace('-- migrate:up\n\n', `-- migrate:up\n${up}\n`)
        .replace(
          '-- Undo everything the up section did, in reverse order.\n\n',
          `-- Undo everything the up section did, in reverse order.\n${down}\n`,
        ),
    );
  } else {
    writeFileSync(
      file,
      text
        .replace(/(export async function upgrade\(m\)[^{]*\{\n)/, `$1  m.sql(${JSON.stringify(up)});\n`)
        .replace(/( {2}\/\/ Undo everything upgrade\(\) did, in reverse order\.\n)/, `$1  m.sql(${JSON.stringify(down)});\n`),
    );
  }
  return `migrations/${name}`;
}

const findings = (stdout: string) =>
  jsonLines(stdout)
    .filter((e) => e.type === 'check.finding')
    .map((e) => `${e.rule} ${e.file}`)
    .sort();

describe('cockpit migrate check', () => {
  it('no migrations: says there was nothing to check, and passes', () => {
    let r = check();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('no migrations in migrations: nothing to check\n');
    r = check(true);
    expect(jsonLines(r.stdout)).toEqual([{ type: 'check.result', dir: 'migrations', checked: 0, failed: 0, findings: 0 }]);
  });

  it('a clean set made by cockpit migrate create and committed passes; each way a file falls short is named', () => {
    const table = create('add listings', 'CREATE TABLE listings (id bigint PRIMARY KEY);', 'DROP TABLE listings;');
    const mod = create('add listing note', 'ALTER TABLE listings ADD COLUMN note text', 'ALTER TABLE listings DROP COLUMN note', ['--js']);
    git('add', '-A');
    git('commit', '-qm', 'migrations');
    let r = check();
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toBe('2 of 2 migration file(s) committed, with an upgrade and a downgrade, made by cockpit migrate create\n');

    // Modified after its commit.
    writeFileSync(path.join(repo.dir, table), readFileSync(path.join(repo.dir, table), 'utf8') + '-- an afterthought\n');
    // Made by the tool, never added to git.
    const untracked = create('add listing price', 'ALTER TABLE listings ADD COLUMN price int;', 'ALTER TABLE listings DROP COLUMN price;');
    // Made by the tool, added, never committed.
    const staged = create('add listing city', 'ALTER TABLE listings ADD COLUMN city text;', 'ALTER TABLE listings DROP COLUMN city;');
    git('add', staged);
    // Made by the tool, its downgrade section removed (committed, so that is its only finding).
    const noDown = create('add listing zip', 'ALTER TABLE listings ADD COLUMN zip text;', '');
    const noDownText = readFileSync(path.join(repo.dir, noDown), 'utf8');
    writeFileSync(path.join(repo.dir, noDown), noDownText.slice(0, noDownText.indexOf('-- migrate:down')));
    // Made by the tool, its downgrade left empty.
    const emptyDown = create('add listing rooms', 'ALTER TABLE listings ADD COLUMN rooms int;', '');
    // Written by hand, without the header the tool writes.
    const hand = 'migrations/20200101000000_add_listing_floor.sql';
    repo.write(
      hand,
      '-- migrate:up\nALTER TABLE listings ADD COLUMN floor int;\n-- migrate:down\nALTER TABLE listings DROP COLUMN floor;\n',
    );
    // A tool-made file copied under another name.
    const copied = 'migrations/20200102000000_add_listing_balcony.sql';
    repo.write(copied, readFileSync(path.join(repo.dir, table), 'utf8'));
    git('add', noDown, emptyDown, hand, copied);
    git('commit', '-qm', 'more migrations', '--', noDown, emptyDown, hand, copied);

    r = check(true);
    expect(r.code, r.stderr).toBe(1);
    expect(findings(r.stdout)).toEqual(
      [
        `modified ${table}`,
        `untracked ${untracked}`,
        `staged-only ${staged}`,
        `no-downgrade ${noDown}`,
        `empty-downgrade ${emptyDown}`,
        `no-header ${hand}`,
        `header-mismatch ${copied}`,
      ].sort(),
    );
    expect(jsonLines(r.stdout).at(-1)).toEqual({ type: 'check.result', dir: 'migrations', checked: 8, failed: 7, findings: 7 });
    // The module (made by the tool, committed, untouched) has no finding.
    expect(r.stdout).not.toContain(mod);

    // In words: each finding names its file, says what is wrong and what to do.
    r = check();
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`✖ untracked (${untracked}): not in git`);
    expect(r.stdout).toContain(`✖ no-downgrade (${noDown}): it cannot be rolled back: the file has no '-- migrate:down' section`);
    expect(r.stdout).toContain(`✖ no-header (${hand}): not made by cockpit migrate create: no header: its first line is '-- migrate:up'`);
    expect(r.stdout).toMatch(
      new RegExp(`✖ header-mismatch \\(${copied}\\): .*would name 20200102000000_add_listings, not 20200102000000_add_listing_balcony`),
    );
    expect(r.stdout).toMatch(/fix: git add it and commit it/);
    expect(r.stdout).toMatch(
      /^1 of 8 migration file\(s\) committed, with an upgrade and a downgrade, made by cockpit migrate create; 7 not \(7 finding\(s\) above\)$/m,
    );
  });

  it('migrations older than database.legacyBefore (written by hand before the tool) are asked only to be committed', () => {
    const old = 'migrations/20190101000000_listings.sql';
    repo.write(old, '-- migrate:up\nCREATE TABLE listings (id int);\n');
    const newer = 'migrations/20300101000000_add_listing_city.sql';
    repo.write(newer, '-- migrate:up\nALTER TABLE listings ADD COLUMN city text;\n');
    git('add', '-A');
    git('commit', '-qm', 'migrations');
    let r = check(true);
    expect(findings(r.stdout)).toEqual([`no-downgrade ${newer}`, `no-downgrade ${old}`, `no-header ${newer}`, `no-header ${old}`].sort());
    repo.write('cockpit.config.yaml', 'database:\n  legacyBefore: "20200101000000"\n');
    git('add', '-A');
    git('commit', '-qm', 'config');
    r = check(true);
    // The newer one is still held to every rule.
    expect(findings(r.stdout)).toEqual([`no-downgrade ${newer}`, `no-header ${newer}`]);
    expect(jsonLines(r.stdout).at(-1)).toMatchObject({ checked: 2, failed: 1, legacy: 1 });
    // A legacy file is still checked for git.
    writeFileSync(path.join(repo.dir, old), readFileSync(path.join(repo.dir, old), 'utf8') + '-- edited\n');
    r = check();
    expect(r.stdout).toContain(`✖ modified (${old})`);
    expect(r.stdout).toMatch(/0 of 2 migration file\(s\) .* \(1 older than database\.legacyBefore: committed only\); 2 not/);
    // A value that is not an id is refused where it is written.
    repo.write('cockpit.config.yaml', 'database:\n  legacyBefore: 2020\n');
    r = check();
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cockpit\.config\.yaml:2:\d+/);
  });

  it("a file whose name is not the tool's timestamped id is named, and the others are still checked", () => {
    const bad = 'migrations/V1__add_listings.sql';
    repo.write(bad, '-- add listings\n-- migrate:up\nCREATE TABLE listings (id int);\n-- migrate:down\nDROP TABLE listings;\n');
    const hand = 'migrations/20200101000000_add_listing_city.sql';
    repo.write(hand, '-- migrate:up\nALTER TABLE listings ADD COLUMN city text;\n-- migrate:down\nSELECT 1;\n');
    git('add', '-A');
    git('commit', '-qm', 'migrations');
    const r = check();
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `✖ unreadable (${bad}): could not be loaded, so its sections and header were not checked: bad migration file name 'V1__add_listings.sql': expected <YYYYMMDDHHMMSS>_<slug>`,
    );
    expect(r.stdout).toContain(`✖ no-header (${hand})`);
    expect(r.stdout).toMatch(/^0 of 2 migration file\(s\) .*; 2 not \(2 finding\(s\) above\)$/m);
  });

  it('outside a git repository it cannot say a file is committed, and says so', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cockpit-nogit-'));
    try {
      const made = cockpit(['--repo', dir, 'migrate', 'create', 'add listings'], {
        cwd: dir,
        env: { GIT_CEILING_DIRECTORIES: os.tmpdir() },
      });
      expect(made.code, made.stderr).toBe(0);
      const r = cockpit(['--repo', dir, 'migrate', 'check', '--json'], { cwd: dir, env: { GIT_CEILING_DIRECTORIES: os.tmpdir() } });
      expect(r.code).toBe(1);
      const rules = jsonLines(r.stdout)
        .filter((e) => e.type === 'check.finding')
        .map((e) => e.rule);
      // Not a repository; and the fresh template's sections are still empty.
      expect(rules).toEqual(['no-repository', 'no-upgrade', 'empty-downgrade']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the migrate step with action: check, and the default migration checklist', () => {
  const CHECKLIST = `id: files
title: Migration files
steps:
  - id: files
    title: Check the migration files
    kind: migrate
    action: check
`;

  it('fails naming the files; with none it passes as nothing to check (○)', () => {
    repo.write('checklists/files.yaml', CHECKLIST);
    let r = run(['run', 'files', '--non-interactive', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(jsonLines(r.stdout).find((e) => e.type === 'step.passed')?.data.nothingToCheck).toBe('no migrations in migrations');
    r = run(['run', 'files', '--non-interactive']);
    expect(r.stdout).toMatch(/○ nothing to check: no migrations in migrations/);
    expect(r.stdout).not.toMatch(/✔/);

    repo.write('migrations/20200101000000_add_listings.sql', '-- migrate:up\nCREATE TABLE listings (id int);\n');
    r = run(['run', 'files', '--non-interactive']);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain('untracked (migrations/20200101000000_add_listings.sql)');
    expect(r.stdout + r.stderr).toContain('no-header (migrations/20200101000000_add_listings.sql)');
    expect(r.stdout + r.stderr).toMatch(
      /1 of 1 migration file\(s\) not committed, without an upgrade or downgrade, or not made by cockpit migrate create/,
    );
  });

  it('the default migration checklist runs non-interactively on the demo sandbox without its migrations: every migrate step says nothing to check', () => {
    const sandbox = mkdtempSync(path.join(os.tmpdir(), 'cockpit-demo-'));
    try {
      const dir = path.join(sandbox, 'demo');
      ensureSandbox(dir, false);
      // The demo's own checklists folder holds the demo checklist; the defaults are what the issue is about.
      rmSync(path.join(dir, 'checklists'), { recursive: true, force: true });
      // A repository without migrations (the sandbox has the Property app's since issue 17: removed here).
      rmSync(path.join(dir, 'migrations'), { recursive: true, force: true });
      const r = cockpit(['--repo', dir, 'run', 'migration', '--non-interactive', '--yes', 'all', '--json'], {
        cwd: dir,
        env: { DATABASE_URL: '' },
      });
      expect(r.code, r.stderr).toBe(0);
      const passed = jsonLines(r.stdout).filter((e) => e.type === 'step.passed');
      const migrateSteps = ['files', 'lint', 'tested', 'apply'];
      for (const id of migrateSteps)
        expect(passed.find((e) => e.stepId === id)?.data.nothingToCheck, id).toMatch(/^no migrations in migrations/);
      // Only what needs a person was confirmed, and each of those says why in its help.
      const steps = (
        parse(readFileSync(path.join(ROOT, 'checklists', 'migration.yaml'), 'utf8')) as {
          steps: Array<{ id: string; kind: string; help: string }>;
        }
      ).steps;
      const confirms = steps.filter((s) => s.kind === 'confirm').map((s) => s.id);
      for (const s of steps.filter((x) => x.kind === 'confirm')) expect(s.help, s.id).toMatch(/^Why a person: /);
      expect(confirms.sort()).toEqual([
        'backfills',
        'backward-compatible',
        'feature-flags',
        'idempotent',
        'migration-types',
        'schema-via-migrations',
      ]);
      expect(
        passed
          .filter((e) => !migrateSteps.includes(e.stepId))
          .map((e) => e.stepId)
          .sort(),
      ).toEqual(confirms.sort());
    } finally {
      rmSync(sandbox, { recursive: true, force: true });
    }
  });

  it('the default migration checklist stops at its files step for a hand-written, uncommitted migration, before anything is applied', () => {
    repo.write(
      'migrations/20200101000000_add_listings.sql',
      '-- migrate:up\nCREATE TABLE listings (id int);\n-- migrate:down\nDROP TABLE listings;\n',
    );
    const r = run(['run', 'migration', '--non-interactive', '--yes', 'all', '--json']);
    expect(r.code).toBe(1);
    const events = jsonLines(r.stdout);
    expect(events.find((e) => e.type === 'step.failed')?.stepId).toBe('files');
    expect(events.filter((e) => e.type === 'step.started').map((e) => e.stepId)).not.toContain('apply');
  });
});

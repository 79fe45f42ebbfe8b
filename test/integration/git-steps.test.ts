import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BIN, cockpit, jsonLines } from '../helpers/cli.js';
import { freshDatabase, pgTest } from '../helpers/pg.js';
import { startDeployTarget, type DeployTarget } from '../helpers/deploy-target.js';

// The git step kinds on real repositories with a bare origin: branch, bump, merge, tag, push, as a release does them.

const ENV = {
  GIT_AUTHOR_NAME: 'Dev',
  GIT_AUTHOR_EMAIL: 'dev@example.com',
  GIT_COMMITTER_NAME: 'Dev',
  GIT_COMMITTER_EMAIL: 'dev@example.com',
  GIT_CONFIG_GLOBAL: os.devNull,
  GIT_CONFIG_NOSYSTEM: '1',
};

const RELEASE = `id: rel
title: Release with git steps
params:
  version: {type: semver, required: true}
steps:
  - id: branch
    title: Release branch from develop
    kind: git.branch
    name: release/v\${version}
    from: develop
  - id: bump
    title: Bump the version files
    kind: bump
    version: \${version}
  - id: merge-main
    title: Merge into main
    kind: git.merge
    from: release/v\${version}
    into: main
  - id: tag
    title: Tag the release
    kind: git.tag
    name: v\${version}
    at: main
    message: Release \${version}
  - id: back
    title: Merge back into develop
    kind: git.merge
    from: main
    into: develop
  - id: push
    title: Push
    kind: git.push
    refs: [main, develop, "v\${version}"]
`;

let dir: string;
let work: string;
let origin: string;
// The release includes the staging deploy and the hotfix the production one: they drive a real deploy script, with
// its colours and live URL on free ports (test/helpers/deploy-target.ts).
let target: DeployTarget;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: { ...process.env, ...ENV }, encoding: 'utf8' }).trim();
}

function write(rel: string, text: string) {
  const f = path.join(work, rel);
  mkdirSync(path.dirname(f), { recursive: true });
  writeFileSync(f, text);
}

function commit(msg: string) {
  git(work, 'add', '-A');
  git(work, 'commit', '-q', '-m', msg);
}

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'cockpit-git-'));
  work = path.join(dir, 'work');
  origin = path.join(dir, 'origin.git');
  mkdirSync(work);
  git(dir, 'init', '-q', '--bare', '-b', 'main', origin);
  git(work, 'init', '-q', '-b', 'main');
  write('frontend/package.json', '{\n  "name": "property-frontend",\n  "version": "1.3.0",\n  "engines": { "version": "9.9.9" }\n}\n');
  write('backend/setup.py', 'from setuptools import setup\n\nsetup(\n    name="property-backend",\n    version="1.3.0",\n)\n');
  write('.gitignore', '.cockpit/\n.target/\n');
  write('checklists/rel.yaml', RELEASE);
  target = await startDeployTarget(work, (rel, text) => (write(rel, text), path.join(work, rel)));
  write('cockpit.config.yaml', `deploy:\n${target.config({ production: 'blue-green', staging: 'in-place' })}\n`);
  commit('chore: start');
  git(work, 'tag', '-a', 'v1.3.0', '-m', 'v1.3.0');
  git(work, 'branch', 'develop');
  git(work, 'switch', '-q', 'develop');
  write('frontend/search.js', 'export const search = () => [];\n');
  commit('feat(search): search listings');
  git(work, 'remote', 'add', 'origin', origin);
  git(work, 'push', '-q', 'origin', 'main', 'develop', 'v1.3.0');
});

afterEach(async () => {
  await target.close();
  rmSync(dir, { recursive: true, force: true });
});

// A hotfix ends with the production deploy, which applies the database migrations: a real, empty database.
const pgInfo = pgTest();
let databaseUrl = '';
beforeAll(async () => {
  if (pgInfo.url) databaseUrl = await freshDatabase('git_steps');
});

const run = (...args: string[]) => cockpit(['--repo', work, ...args], { cwd: work, env: { ...ENV, DATABASE_URL: databaseUrl } });
/**
 * Past the deploy's two gates these git tests have no service for, as an operator without them would go: the
 * production deploy's approval (no approvers: configured here; approve.test.ts tests approvals) and the post-deploy
 * watch (no Prometheus; watch-*.test.ts test the watch). Each fails saying so, and is skipped with a reason.
 */
const GATES: Array<[RegExp, string]> = [
  [/step '([^']*approval)' .* failed: no approvers: section/, 'no approver in the git tests'],
  [/step '([^']*post-deploy-watch\/watch)' .* failed: no watch configured/, 'no Prometheus in the git tests'],
];
const pastTheWatch = (r: ReturnType<typeof run>) => {
  for (let i = 0; i < GATES.length && r.code === 1; i++) {
    const gate = GATES.map(([re, why]) => ({ m: re.exec(r.stderr), why })).find((g) => g.m);
    if (!gate) return r;
    r = run('resume', '--non-interactive', '--yes', 'all', '--skip', gate.m![1], '--reason', gate.why);
  }
  return r;
};

describe('git step kinds', () => {
  it('a release: branch from develop, bump both version files and commit, merge --no-ff into main, tag, merge back, push atomically', () => {
    const r = run('run', 'rel', '-p', 'version=1.4.0', '--non-interactive');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(git(work, 'branch', '--list', 'release/v1.4.0')).toContain('release/v1.4.0');
    expect(git(work, 'show', 'main:frontend/package.json')).toContain('"version": "1.4.0"');
    expect(git(work, 'show', 'main:frontend/package.json')).toContain('"engines": { "version": "9.9.9" }');
    expect(git(work, 'show', 'main:backend/setup.py')).toContain('version="1.4.0"');
    expect(git(work, 'log', '-1', '--format=%s', 'release/v1.4.0')).toBe('chore(release): 1.4.0');
    // --no-ff: main's tip is a merge commit with two parents; the tag is on it; develop has it too.
    expect(git(work, 'log', '-1', '--format=%P', 'main').split(' ')).toHaveLength(2);
    expect(git(work, 'rev-parse', 'v1.4.0^{commit}')).toBe(git(work, 'rev-parse', 'main'));
    expect(git(work, 'cat-file', '-t', 'v1.4.0')).toBe('tag');
    expect(git(work, 'merge-base', '--is-ancestor', 'main', 'develop')).toBe('');
    // On the remote: main, develop and the tag, at the local commits.
    expect(git(origin, 'rev-parse', 'main')).toBe(git(work, 'rev-parse', 'main'));
    expect(git(origin, 'rev-parse', 'develop')).toBe(git(work, 'rev-parse', 'develop'));
    expect(git(origin, 'rev-parse', 'v1.4.0^{commit}')).toBe(git(work, 'rev-parse', 'main'));
    const show = run('audit', 'show', JSON.parse(run('audit', 'list', '--json').stdout)[0].id).stdout;
    expect(show).toMatch(/git merge --no-ff/);
    // The audit anchors went with the release's push (and again, complete, at the session's end).
    const id = JSON.parse(run('audit', 'list', '--json').stdout)[0].id;
    const spawned = (
      JSON.parse(run('audit', 'show', id, '--format', 'json').stdout).events as Array<{
        type: string;
        stepId: string;
        data: { command?: string };
      }>
    )
      .filter((e) => e.type === 'step.spawned' && e.stepId === 'push')
      .map((e) => e.data.command);
    expect(spawned).toEqual([
      expect.stringContaining('push --atomic'),
      'git push --porcelain -- origin refs/cockpit/audit:refs/cockpit/audit',
    ]);
    expect(git(origin, 'rev-parse', 'refs/cockpit/audit')).toBe(git(work, 'rev-parse', 'refs/cockpit/audit'));
    expect(run('audit', 'verify').stdout).toMatch(/1 anchored on refs\/cockpit\/audit \(origin\), 0 not anchored/);
  });

  it('run again after it is all done (a resumed or repeated release): every step finds its effect and nothing is made twice', () => {
    expect(run('run', 'rel', '-p', 'version=1.4.0', '--non-interactive').code).toBe(0);
    const before = { main: git(work, 'rev-parse', 'main'), develop: git(work, 'rev-parse', 'develop'), tags: git(work, 'tag', '--list') };
    const again = run('run', 'rel', '-p', 'version=1.4.0', '--non-interactive');
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect({ main: git(work, 'rev-parse', 'main'), develop: git(work, 'rev-parse', 'develop'), tags: git(work, 'tag', '--list') }).toEqual(
      before,
    );
    expect(git(work, 'log', '--format=%s', 'main')).toMatch(/^(?![\s\S]*chore\(release\): 1\.4\.0[\s\S]*chore\(release\): 1\.4\.0)/);
  });

  it('a conflict on the merge back lists the files, aborts the merge (the repository is clean, not half-merged) and fails the step', () => {
    // develop changes the same line the release bump changes.
    write(
      'frontend/package.json',
      '{\n  "name": "property-frontend",\n  "version": "1.3.1-dev",\n  "engines": { "version": "9.9.9" }\n}\n',
    );
    commit('chore: dev version');
    git(work, 'switch', '-q', 'main');
    git(work, 'switch', '-q', 'develop');
    // The release branch is cut before that commit, so merging main back into develop conflicts.
    const cut = git(work, 'rev-parse', 'develop~1');
    git(work, 'branch', 'release/v1.4.0', cut);
    const r = run('run', 'rel', '-p', 'version=1.4.0', '--non-interactive');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/merging main into develop conflicts in 1 file\(s\): frontend\/package\.json\. The merge was aborted/);
    expect(existsSync(path.join(work, '.git', 'MERGE_HEAD'))).toBe(false);
    expect(git(work, 'status', '--porcelain', '--untracked-files=no')).toBe('');
    expect(JSON.parse(run('audit', 'list', '--json').stdout)[0].status).toBe('failed (resumable)');
  });

  it('a tag that already exists on another commit stops the release with what to do', () => {
    git(work, 'tag', '-a', 'v1.4.0', '-m', 'oops', 'develop~1');
    const r = run('run', 'rel', '-p', 'version=1.4.0', '--non-interactive');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/tag v1\.4\.0 already exists, on [0-9a-f]{10}, not on main/);
    expect(git(origin, 'tag', '--list')).toBe('v1.3.0');
  });

  it('a version file that cannot be bumped stops the bump before any file is written', () => {
    write(
      'cockpit.config.yaml',
      'release:\n  versionFiles:\n    - {file: frontend/package.json, json: version}\n    - {file: VERSION, whole: true}\n',
    );
    commit('chore: config');
    const r = run('run', 'rel', '-p', 'version=1.4.0', '--non-interactive');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot bump: VERSION: no such file/);
    expect(readFileSync(path.join(work, 'frontend/package.json'), 'utf8')).toContain('"version": "1.3.0"');
  });

  it("a bump commit refused by a pre-commit hook fails with the hook's words; once the hook is fixed, a resume commits it, and the tag is on it", () => {
    const hook = path.join(work, '.git', 'hooks', 'pre-commit');
    writeFileSync(hook, '#!/bin/sh\necho "pre-commit: lint failed in frontend/package.json" >&2\nexit 1\n', { mode: 0o755 });
    const first = run('run', 'rel', '-p', 'version=1.4.0', '--non-interactive', '--yes', 'all');
    expect(first.code).toBe(1);
    expect(first.stdout + first.stderr).toContain('pre-commit: lint failed in frontend/package.json');
    expect(first.stderr).toMatch(/step 'bump' .*failed: committing the version files/);
    // The files were written, but nothing was committed: HEAD still says 1.3.0, and nothing was tagged or merged.
    expect(git(work, 'show', 'release/v1.4.0:frontend/package.json')).toContain('"version": "1.3.0"');
    expect(git(work, 'tag', '--list')).toBe('v1.3.0');
    writeFileSync(hook, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const resumed = run('resume', '--non-interactive', '--yes', 'all');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(
      git(work, 'log', '--format=%s', 'main')
        .split('\n')
        .filter((s) => s === 'chore(release): 1.4.0'),
    ).toHaveLength(1);
    expect(git(work, 'show', 'main:frontend/package.json')).toContain('"version": "1.4.0"');
    expect(git(work, 'show', 'main:backend/setup.py')).toContain('version="1.4.0"');
    expect(git(work, 'show', 'v1.4.0:frontend/package.json')).toContain('"version": "1.4.0"');
  });

  it('a tag on a commit whose version files say another version is refused', () => {
    const bad = RELEASE.replace('  - id: bump\n    title: Bump the version files\n    kind: bump\n    version: ${version}\n', '').replace(
      '    message: Release ${version}\n',
      '    message: Release ${version}\n    version: ${version}\n',
    );
    expect(bad).not.toContain('kind: bump');
    write('checklists/rel.yaml', bad);
    commit('chore: a release without its bump');
    const r = run('run', 'rel', '-p', 'version=1.4.0', '--non-interactive', '--yes', 'all');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /the commit to tag \([0-9a-f]{10}\) does not say 1\.4\.0: frontend\/package\.json says 1\.3\.0, backend\/setup\.py says 1\.3\.0/,
    );
    expect(git(work, 'tag', '--list')).toBe('v1.3.0');
  });

  it('a parameter that would read as an option (-p version=… into a ref) is refused, never passed to git', () => {
    const bad = `id: bad
title: Bad
params:
  name: {type: string, required: true}
steps:
  - id: b
    title: Branch
    kind: git.branch
    name: \${name}
    from: develop
`;
    write('checklists/bad.yaml', bad);
    commit('chore: bad');
    const r = run('run', 'bad', '-p', 'name=--force', '--non-interactive');
    // Refused before the run starts, as bad input naming the parameter (issue 13), not as a step that failed.
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/parameter 'name' \("--force"\) of step 'b': the branch name '--force' is not a valid git ref name/);
  });
});

describe('cockpit release', () => {
  it('a changelog commit refused by a hook fails the notes step; once fixed, a resume commits the approved notes, and main has them', () => {
    const hook = path.join(work, '.git', 'hooks', 'commit-msg');
    writeFileSync(
      hook,
      '#!/bin/sh\nif grep -q "^docs(changelog)" "$1"; then echo "commit-msg: changelog commits need a ticket" >&2; exit 1; fi\n',
      {
        mode: 0o755,
      },
    );
    const first = pastTheWatch(run('release', '1.4.0', '--non-interactive', '--yes', 'all'));
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/step 'release-notes' .*failed: committing CHANGELOG\.md/);
    expect(first.stdout + first.stderr).toContain('commit-msg: changelog commits need a ticket');
    writeFileSync(hook, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const resumed = pastTheWatch(run('resume', '--non-interactive', '--yes', 'all'));
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(
      git(work, 'log', '--format=%s', 'main')
        .split('\n')
        .filter((s) => s === 'docs(changelog): 1.4.0'),
    ).toHaveLength(1);
    expect(git(work, 'show', 'main:CHANGELOG.md')).toMatch(/## 1\.4\.0/);
    expect(git(origin, 'show', 'v1.4.0:CHANGELOG.md')).toMatch(/## 1\.4\.0/);
  });

  it('a secret pasted into a commit message does not travel into the release notes, the changelog or the tag', () => {
    const token = `ghp_${'A1b2C3d4E5'.repeat(4)}`;
    write('frontend/auth.js', 'export const auth = 1;\n');
    commit(`fix(auth): stop logging the token ${token}`);
    const r = pastTheWatch(run('release', '1.4.0', '--non-interactive', '--yes', 'all'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(token);
    expect(git(work, 'show', 'main:CHANGELOG.md')).toMatch(/stop logging the token \[REDACTED\]/);
    expect(git(work, 'show', 'main:CHANGELOG.md')).not.toContain(token);
    expect(git(work, 'cat-file', '-p', 'v1.4.0')).not.toContain(token);
    expect(readFileSync(path.join(work, '.cockpit', 'release-notes', 'v1.4.0.md'), 'utf8')).not.toContain(token);
  });

  it('with no develop branch it refuses at once (exit 2), suggesting nothing from whatever HEAD is', () => {
    git(work, 'switch', '-q', 'main');
    git(work, 'branch', '-D', 'develop');
    for (const args of [[], ['1.4.0']]) {
      const r = run('release', ...args, '--non-interactive', '--yes', 'all');
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/no branch 'develop' here: a release is cut from develop/);
    }
    expect(git(work, 'branch', '--list', 'release/*')).toBe('');
  });

  it('with no git identity it is refused at the pre-flight, before any branch is made', () => {
    git(work, 'config', 'user.useConfigOnly', 'true');
    const env = { GIT_CONFIG_GLOBAL: os.devNull, GIT_CONFIG_NOSYSTEM: '1', DATABASE_URL: databaseUrl };
    const r = cockpit(['--repo', work, 'release', '1.4.0', '--non-interactive', '--yes', 'all'], { cwd: work, env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/step 'remote-ready' .*failed: git cannot write commits here: .*git config user\.name/);
    expect(git(work, 'branch', '--list', 'release/*')).toBe('');
  });

  it('with version files elsewhere than the config says, it stops at the pre-flight, before any branch is made', () => {
    write('cockpit.config.yaml', 'release:\n  versionFiles:\n    - {file: web/package.json, json: version}\n');
    commit('chore: config');
    const r = run('release', '1.4.0', '--non-interactive', '--yes', 'all');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the version files the bump will write are not readable: web\/package\.json: no such file/);
    expect(git(work, 'branch', '--list', 'release/*')).toBe('');
  });

  it('without a version takes the one the commits suggest, says why, and runs the release checklist to the end', () => {
    const r = run('release', '--non-interactive', '--yes', 'all');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^release 1\.4\.0: suggested from 1 commit\(s\) since v1\.3\.0: .*feat.*→ minor/m);
    expect(git(origin, 'rev-parse', 'v1.4.0^{commit}')).toBe(git(work, 'rev-parse', 'main'));
    expect(git(work, 'show', 'main:CHANGELOG.md')).toMatch(/## 1\.4\.0[\s\S]*### Features[\s\S]*\*\*search:\*\* search listings/);
  });

  it('refuses a version that is not greater than the last release, or not a version at all (exit 2, nothing done)', () => {
    for (const [arg, why] of [
      ['1.3.0', /1\.3\.0 is the last release already: choose a greater version \(e\.g\. 1\.3\.1\)/],
      ['1.2.9', /not greater than the last release 1\.3\.0/],
      ['banana', /banana/],
    ] as const) {
      const r = run('release', arg, '--non-interactive', '--yes', 'all');
      expect(r.code, arg).toBe(2);
      expect(r.stderr, arg).toMatch(why);
    }
    expect(git(work, 'branch', '--list', 'release/*')).toBe('');
  });

  it('patch --dry-run shows the git work for 1.3.1 and changes nothing', () => {
    const before = git(work, 'rev-parse', 'develop');
    const r = run('release', 'patch', '--dry-run');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/release 1\.3\.1 \(last release 1\.3\.0; the commits since v1\.3\.0 suggest 1\.4\.0/);
    expect(r.stdout).toMatch(/git branch release\/v1\.3\.1 develop/);
    expect(r.stdout).toMatch(/git merge --no-ff release\/v1\.3\.1/);
    expect(r.stdout).toMatch(/git push --atomic origin main develop release\/v1\.3\.1 v1\.3\.1/);
    expect(git(work, 'rev-parse', 'develop')).toBe(before);
    expect(git(work, 'branch', '--list', 'release/*')).toBe('');
  });

  it('with nothing but chores since the last release it suggests nothing and asks for a version', () => {
    git(work, 'branch', '-f', 'main', 'v1.3.0');
    git(work, 'switch', '-q', 'main');
    git(work, 'branch', '-f', 'develop', 'v1.3.0');
    git(work, 'switch', '-q', 'develop');
    write('docs.md', 'docs\n');
    commit('chore(docs): tidy');
    const r = run('release', '--non-interactive', '--yes', 'all');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nothing to suggest since v1\.3\.0: .*Give the version: cockpit release <major\|minor\|patch\|X\.Y\.Z>/);
  });
});

describe.skipIf(!pgInfo.url)(`cockpit hotfix${pgInfo.skipReason}`, () => {
  it('branches from main, bumps the patch, merges to main, tags, backports to develop and pushes; the version must be a patch of the release on main', () => {
    for (const [arg, why] of [
      ['1.4.0', /1\.4\.0/],
      ['1.3.0', /1\.3\.0/],
    ] as const) {
      const r = run('hotfix', 'PROP-7', arg, '--non-interactive', '--yes', 'all');
      expect(r.code, arg).toBe(2);
      expect(r.stderr, arg).toMatch(why);
    }
    const first = run('hotfix', 'PROP-7', '--non-interactive', '--yes', 'all');
    expect(first.stdout).toMatch(/^hotfix 1\.3\.1 for PROP-7, on top of v1\.3\.0/m);
    const r = pastTheWatch(first);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(git(work, 'branch', '--list', 'hotfix/v1.3.1-PROP-7')).toContain('hotfix/v1.3.1-PROP-7');
    // The hotfix branch starts at main, not develop: develop's feature is not in it.
    expect(git(work, 'ls-tree', '--name-only', '-r', 'hotfix/v1.3.1-PROP-7')).not.toContain('frontend/search.js');
    expect(git(work, 'show', 'main:backend/setup.py')).toContain('version="1.3.1"');
    expect(git(origin, 'rev-parse', 'v1.3.1^{commit}')).toBe(git(work, 'rev-parse', 'main'));
    expect(git(work, 'merge-base', '--is-ancestor', 'main', 'develop')).toBe('');
    expect(git(origin, 'rev-parse', 'develop')).toBe(git(work, 'rev-parse', 'develop'));
  });
});

describe('release pre-flight and crashes', () => {
  it('an unreachable remote stops the release at its pre-flight, before anything is written, saying what is wrong', () => {
    git(work, 'remote', 'set-url', 'origin', path.join(dir, 'nowhere.git'));
    const r = run('release', 'minor', '--non-interactive', '--yes', 'all');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/step 'remote-ready' .* failed: remote 'origin': /);
    expect(git(work, 'branch', '--list', 'release/*')).toBe('');
    expect(git(work, 'status', '--porcelain', '--untracked-files=no')).toBe('');
  });

  it('a tag already on the remote (pushed by someone else) stops it at the pre-flight too', () => {
    const other = path.join(dir, 'other');
    git(dir, 'clone', '-q', origin, other);
    git(other, 'tag', '-a', 'v1.4.0', '-m', 'someone else', 'main');
    git(other, 'push', '-q', 'origin', 'v1.4.0');
    const r = run('release', 'minor', '--non-interactive', '--yes', 'all');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/remote 'origin' already has tag v1\.4\.0: that version was released/);
  });

  it('killed (SIGKILL) while the bump commit runs: resume finds the commit made and does not commit twice', async () => {
    // A post-commit hook that hangs: the cockpit is killed once the commit exists and the hook is running.
    const hooks = path.join(work, '.git', 'hooks');
    writeFileSync(path.join(hooks, 'post-commit'), '#!/bin/sh\necho hook running\nsleep 30\n', { mode: 0o755 });
    const child = spawn(process.execPath, [BIN, '--repo', work, 'run', 'rel', '-p', 'version=1.4.0', '--non-interactive', '--json'], {
      cwd: work,
      env: { ...process.env, ...ENV, NO_COLOR: '1', COCKPIT_OPERATOR: 'tester' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const until = Date.now() + 20_000;
    while (!jsonLines(out).some((e) => e.type === 'step.output' && e.stepId === 'bump' && String(e.data.text).includes('hook running'))) {
      if (Date.now() > until) throw new Error(`the bump never reached its hook:\n${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.on('close', r));
    rmSync(path.join(hooks, 'post-commit'));
    const commitsBefore = git(work, 'rev-list', '--count', 'release/v1.4.0');
    const r = run('resume', '--non-interactive');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // The bump was probed (every file says 1.4.0) and passed: one release commit, not two.
    expect(git(work, 'rev-list', '--count', 'release/v1.4.0')).toBe(commitsBefore);
    expect(
      git(work, 'log', '--format=%s', 'release/v1.4.0')
        .split('\n')
        .filter((s) => s === 'chore(release): 1.4.0'),
    ).toHaveLength(1);
    const show = run('audit', 'show', JSON.parse(run('audit', 'list', '--json').stdout)[0].id).stdout;
    expect(show).toMatch(/step 'bump' interrupted/);
    expect(show).toMatch(/every version file says 1\.4\.0/);
    expect(git(origin, 'rev-parse', 'v1.4.0^{commit}')).toBe(git(work, 'rev-parse', 'main'));
  });
});

describe('the code-freeze gate', () => {
  const schedule = (releaseInHours: number) => {
    // A schedule whose next release is due in `releaseInHours`: its 24 h freeze began 24 − that many hours ago.
    const anchor = new Date(Date.now() + releaseInHours * 3_600_000 - 14 * 24 * 3_600_000).toISOString();
    write('cockpit.config.yaml', `release:\n  schedule: {every: 14d, anchor: "${anchor}", freeze: 24h}\n`);
  };
  const FREEZE = `id: fr
title: Freeze
steps:
  - id: freeze-gate
    title: Freeze gate
    kind: freeze
    branch: develop
`;

  it('with no schedule configured it has nothing to check, and says so instead of ✔: on the line, in the JSON and in the report', () => {
    write('checklists/fr.yaml', FREEZE);
    commit('chore: freeze checklist');
    const r = run('run', 'fr', '--non-interactive');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/○ nothing to check: no release schedule configured/);
    expect(r.stdout).not.toMatch(/✔ passed/);
    const id = JSON.parse(run('audit', 'list', '--json').stdout)[0].id;
    const events = JSON.parse(run('audit', 'show', id, '--format', 'json').stdout).events as Array<{
      type: string;
      data: Record<string, unknown>;
    }>;
    expect(events.find((e) => e.type === 'step.passed')?.data.nothingToCheck).toMatch(/no release schedule configured/);
    expect(run('audit', 'show', id).stdout).toMatch(/○ Freeze gate \(freeze-gate\) — nothing to check/);
    expect(run('audit', 'show', id, '--format', 'md').stdout).toMatch(/○ nothing to check/);
  });

  it('lists a commit that landed on develop after the freeze began and stops; a skip with a reason is the override', () => {
    write('checklists/fr.yaml', FREEZE);
    schedule(12);
    commit('chore: schedule');
    let r = run('run', 'fr', '--non-interactive');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/2 commit\(s\) landed on develop after the code freeze began/);
    const show = run('audit', 'show', JSON.parse(run('audit', 'list', '--json').stdout)[0].id).stdout;
    expect(show).toMatch(/chore: schedule/);
    expect(show).toMatch(/feat\(search\): search listings/);
    r = run('resume', '--non-interactive', '--skip', 'freeze-gate', '--reason', 'the search feature was agreed with the lead');
    expect(r.code).toBe(0);
  });

  it('passes when nothing landed since the freeze began, and refuses a release before its freeze has begun', () => {
    write('checklists/fr.yaml', FREEZE);
    schedule(12);
    // Everything on develop since the release landed three days ago, long before the freeze.
    const old = new Date(Date.now() - 3 * 24 * 3_600_000).toISOString();
    const env = { ...process.env, ...ENV, GIT_AUTHOR_DATE: old, GIT_COMMITTER_DATE: old };
    git(work, 'add', '-A');
    execFileSync('git', ['commit', '-q', '-m', 'chore: schedule'], { cwd: work, env });
    execFileSync('git', ['rebase', '-q', '--exec', `git commit -q --amend --no-edit --date=${old}`, 'v1.3.0'], { cwd: work, env });
    let r = run('run', 'fr', '--non-interactive');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    schedule(48);
    commit('chore: later schedule');
    r = run('run', 'fr', '--non-interactive');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the code freeze for the release due .* only begins/);
  });
});

describe('release and hotfix refusals', () => {
  it('a dirty work tree stops the release at its pre-flight, listing the files, before any branch is made', () => {
    write('frontend/search.js', 'export const search = () => ["changed"];\n');
    const r = run('release', 'minor', '--non-interactive', '--yes', 'all');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/step 'clean-tree'/);
    const show = run('audit', 'show', JSON.parse(run('audit', 'list', '--json').stdout)[0].id).stdout;
    expect(show).toMatch(/frontend\/search\.js/);
    expect(git(work, 'branch', '--list', 'release/*')).toBe('');
  });

  it('a version file whose pattern would not read the new version back stops the bump before anything is written', () => {
    write(
      'cockpit.config.yaml',
      'release:\n  versionFiles:\n    - {file: frontend/package.json, json: version}\n    - {file: backend/setup.py, regex: \'version="(1\\.3\\.0)"\'}\n',
    );
    commit('chore: pin the version pattern');
    const r = run('release', 'minor', '--non-interactive', '--yes', 'all');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/step 'version-files' .*failed: cannot bump: backend\/setup\.py/);
    expect(git(work, 'show', 'release/v1.4.0:frontend/package.json')).toContain('"version": "1.3.0"');
    expect(readFileSync(path.join(work, 'frontend/package.json'), 'utf8')).toContain('"version": "1.3.0"');
  });

  it.skipIf(!pgInfo.url)(
    `a hotfix whose backport to develop conflicts stops with the files listed and develop untouched; merged by hand, a retry finishes${pgInfo.skipReason}`,
    () => {
      // develop changed the line the hotfix's version bump changes.
      write('backend/setup.py', 'from setuptools import setup\n\nsetup(\n    name="property-backend",\n    version="1.4.0-dev",\n)\n');
      commit('chore: develop is 1.4.0-dev');
      const developBefore = git(work, 'rev-parse', 'develop');
      const r = run('hotfix', 'PROP-9', '--non-interactive', '--yes', 'all');
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/merging main into develop conflicts in 1 file\(s\): backend\/setup\.py\. The merge was aborted/);
      expect(git(work, 'rev-parse', 'develop')).toBe(developBefore);
      expect(existsSync(path.join(work, '.git', 'MERGE_HEAD'))).toBe(false);
      // The operator merges by hand, keeping develop's version, and retries: the backport step finds it merged.
      git(work, 'switch', '-q', 'develop');
      try {
        git(work, 'merge', '--no-ff', '-q', 'main');
      } catch {
        git(work, 'checkout', '--ours', 'backend/setup.py');
        git(work, 'add', 'backend/setup.py');
        git(work, 'commit', '-q', '--no-edit');
      }
      const again = pastTheWatch(run('resume', '--non-interactive', '--yes', 'all'));
      expect(again.stderr).toBe('');
      expect(again.code).toBe(0);
      expect(git(origin, 'rev-parse', 'v1.3.1^{commit}')).toBe(git(work, 'rev-parse', 'main'));
      expect(git(origin, 'rev-parse', 'develop')).toBe(git(work, 'rev-parse', 'develop'));
    },
  );
});

import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cmdRun } from './commands.js';

const DEMO_CHECKLIST = `id: demo
title: Demo release of the Property app
description: A short tour of the cockpit on a throwaway repository.
params:
  version: {type: semver, default: 1.4.0, description: "Version to release"}
  environment: {type: enum, choices: [staging, production], default: staging}
steps:
  - id: clean-tree
    title: Check the work tree is clean
    kind: run
    run: test -z "$(git status --porcelain --untracked-files=no)"
    help: Nothing uncommitted may ride along with a release.
  - id: freeze
    title: Code freeze on develop
    kind: confirm
    help: Tell the team that develop is frozen for this release.
    prompt: Is develop frozen?
  - id: tests
    title: Run the test suite
    kind: run
    run: ./scripts/test.sh
    timeout: 2m
    help: The full suite must pass before anything is tagged.
  - id: changes
    title: Changes since the last tag
    kind: run
    run: git log --oneline "$(git describe --tags --abbrev=0)"..HEAD
  - id: approval
    title: Approval from a senior developer
    kind: confirm
    when: {environment: production}
    help: Production needs a senior developer's approval.
  - id: deploy
    title: Deploy
    kind: run
    run: ["./scripts/deploy.sh", "\${environment}", "\${version}"]
    help: Deploys by running the repository's deploy script (parameters are passed as arguments, never as shell text).
  - id: announce
    title: Announce the release
    kind: confirm
    help: Post the release notes in the team channel.
`;

const TEST_SH = `#!/bin/sh
for t in listings search booking payments accounts; do
  echo "ok - $t"
  sleep 0.2
done
echo "5 passed, 0 failed"
`;

const DEPLOY_SH = `#!/bin/sh
echo "deploying Property v$2 to $1"
sleep 0.5
echo "health check: 200 OK"
`;

function git(dir: string, ...args: string[]) {
  execFileSync('git', args, { cwd: dir, stdio: 'ignore', env: { ...process.env, GIT_AUTHOR_NAME: 'Demo', GIT_AUTHOR_EMAIL: 'demo@example.com', GIT_COMMITTER_NAME: 'Demo', GIT_COMMITTER_EMAIL: 'demo@example.com' } });
}

export function demoDir(explicit?: string): string {
  return path.resolve(explicit ?? process.env.COCKPIT_DEMO_DIR ?? path.join(os.homedir(), '.cache', 'release-cockpit', 'demo'));
}

/** Make the sandbox repository if it is not there (or --reset): a git repo with history, a tag and the demo checklist. */
export function ensureSandbox(dir: string, reset: boolean): boolean {
  if (reset) rmSync(dir, { recursive: true, force: true });
  if (existsSync(path.join(dir, '.git'))) return false;
  mkdirSync(path.join(dir, 'checklists'), { recursive: true });
  mkdirSync(path.join(dir, 'scripts'), { recursive: true });
  writeFileSync(path.join(dir, 'checklists', 'demo.yaml'), DEMO_CHECKLIST);
  writeFileSync(path.join(dir, 'scripts', 'test.sh'), TEST_SH);
  writeFileSync(path.join(dir, 'scripts', 'deploy.sh'), DEPLOY_SH);
  chmodSync(path.join(dir, 'scripts', 'test.sh'), 0o755);
  chmodSync(path.join(dir, 'scripts', 'deploy.sh'), 0o755);
  writeFileSync(path.join(dir, '.gitignore'), '.cockpit/\n');
  writeFileSync(path.join(dir, 'cockpit.config.yaml'), 'secrets:\n  env: [DEPLOY_TOKEN]\n');
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'chore: start the Property app');
  git(dir, 'tag', '-a', 'v1.3.0', '-m', 'v1.3.0');
  for (const msg of ['feat(search): filter listings by price', 'fix(booking): double booking on refresh', 'feat(payments): retry failed card payments']) {
    writeFileSync(path.join(dir, 'CHANGES'), msg + '\n', { flag: 'a' });
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', msg);
  }
  return true;
}

export async function cmdDemo(flags: { reset?: boolean; dir?: string; nonInteractive?: boolean }): Promise<number> {
  const dir = demoDir(flags.dir);
  const made = ensureSandbox(dir, !!flags.reset);
  process.stdout.write(`${made ? 'Made' : 'Using'} the demo sandbox in ${dir}${made ? '' : ' (cockpit demo --reset makes it anew)'}\n\n`);
  const interactive = !flags.nonInteractive && !!process.stdin.isTTY && !!process.stdout.isTTY;
  const code = await cmdRun({ repo: dir }, 'demo', interactive ? {} : { nonInteractive: true, yes: ['all'] });
  process.stdout.write(`\nSee what was recorded (from the cockpit folder):\n  npx cockpit --repo ${dir} audit list\n  npx cockpit --repo ${dir} audit show <session> --format md\n  npx cockpit --repo ${dir} audit verify\n`);
  return code;
}

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cockpit, tempRepo } from '../helpers/cli.js';
import { startDeployTarget, type DeployTarget } from '../helpers/deploy-target.js';

// `cockpit deploy <env> [version]` in a real git repository with a `deploy:` config and a real deploy script: what a
// user reads (the dry run's script commands, the version it chose and why, the errors) and that a dry run runs nothing.
const GIT_ENV = { GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@example.com' };

let repo: ReturnType<typeof tempRepo>;
let target: DeployTarget;
const run = (...args: string[]) => cockpit(['--repo', repo.dir, ...args], { cwd: repo.dir, env: GIT_ENV });

beforeAll(async () => {
  repo = tempRepo();
  target = await startDeployTarget(repo.dir, repo.write);
  repo.write(
    'cockpit.config.yaml',
    [
      'deploy:',
      target.config({ production: 'blue-green', staging: 'in-place' }),
      '  production-eu:',
      '    url: https://eu.property.example',
      'verify:',
      '  tests: [node, -e, "process.exit(0)"]',
      '',
    ].join('\n'),
  );
  repo.write('.gitignore', '.cockpit/\n.target/\n');
  repo.write('README', 'property\n');
  const git = (...args: string[]) => expect(spawnSync('git', args, { cwd: repo.dir, env: { ...process.env, ...GIT_ENV } }).status).toBe(0);
  git('add', '-A');
  git('commit', '-qm', 'feat: first');
  git('tag', '-a', 'v1.4.0', '-m', 'v1.4.0');
  repo.write('README', 'property 2\n');
  git('commit', '-qam', 'fix: second');
  git('tag', '-a', 'v1.5.0', '-m', 'v1.5.0');
});
afterAll(async () => {
  await target.close();
  repo.cleanup();
});

describe('cockpit deploy', () => {
  it('--dry-run lists each deploy step with the script command it would run, and runs nothing', () => {
    const r = run('deploy', 'production', '1.5.0', '--dry-run');
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(/^Production deployment \(blue\/green\) \[deploy-production\] — dry run, nothing is executed or recorded$/m);
    // The tests, from the config.
    expect(out).toMatch(/• tests: Run the tests — run node -e 'process\.exit\(0\)'/);
    // The deploy to the idle colour, the switch, the smoke checks against the new colour's URL and the live one.
    expect(out).toMatch(/• deploy: .*\.\/scripts\/deploy\.sh deploy 1\.5\.0 --env production --colour/);
    expect(out).toMatch(/• switch: .*\.\/scripts\/deploy\.sh switch .*--env production/);
    const smokeNew = out.split('\n').find((l) => l.includes('• smoke-new:'));
    expect(smokeNew).toBeDefined();
    expect(smokeNew).toMatch(new RegExp(`${target.colours.blue}|${target.colours.green}|colour`));
    expect(out.split('\n').find((l) => l.includes('post-deploy-watch/smoke-tests:'))).toContain(target.live);
    // Nothing ran: no session recorded, no audit log made, the script never called.
    expect(target.calls()).toEqual([]);
    expect(existsSync(path.join(repo.dir, '.cockpit', 'audit.db'))).toBe(false);
  });

  it('without a version, production takes the newest release tag on main, and says which and why', () => {
    const r = run('deploy', 'production', '--dry-run');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^deploy production 1\.5\.0: v1\.5\.0, the newest release tag on main \(no version given\)$/m);
    expect(r.stdout).toContain('deploy 1.5.0 --env production');
  });

  it('staging without a version (no terminal) is bad usage, saying how to give it', () => {
    const r = run('deploy', 'staging', '--dry-run');
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/cockpit deploy staging needs the version to deploy: give it: cockpit .*deploy staging '?<version>'?$/);
  });

  it('staging with a version: the in-place deploy, no colour', () => {
    const r = run('deploy', 'staging', '1.5.0', '--dry-run');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\[deploy-staging\]/);
    expect(r.stdout).toMatch(/\.\/scripts\/deploy\.sh deploy 1\.5\.0 --env staging(?! --colour)/);
  });

  it('an unknown environment exits 2 with one sentence naming the environments it knows', () => {
    const r = run('deploy', 'qa', '1.5.0');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/no environment 'qa' to deploy to: the ones known here are production, production-eu, staging/);
  });

  it('an environment configured without its checklist says which checklist to write', () => {
    const r = run('deploy', 'production-eu', '1.5.0');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/deploy: entry for 'production-eu', but there is no checklist deploy-production-eu/);
  });

  it('a version that is not semver is bad usage, before anything runs', () => {
    const r = run('deploy', 'production', 'latest', '--non-interactive');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/version/);
    expect(target.calls()).toEqual([]);
  });

  it('failing tests stop the deploy at its first step: the deploy script is never called', () => {
    const config = repo.write(
      '.target/failing-tests.yaml',
      [
        'deploy:',
        target.config({ production: 'blue-green', staging: 'in-place' }),
        'verify:',
        '  tests: [node, -e, "process.exit(3)"]',
        '',
      ].join('\n'),
    );
    const r = run('--config', config, 'deploy', 'staging', '1.5.0', '--non-interactive', '--yes', 'all');
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/the tests failed \(exited with code 3\)/);
    expect(target.calls()).toEqual([]);
  });

  it('staging runs its Day-2 scripts after the deploy and the smoke checks, and fails naming each one that failed', () => {
    const config = repo.write(
      '.target/day2.yaml',
      [
        'deploy:',
        target.config({ production: 'blue-green', staging: 'in-place' }),
        'verify:',
        '  tests: [node, -e, "process.exit(0)"]',
        '  day2:',
        '    staging:',
        '      - {name: jobs, run: [node, -e, "console.log(42)"]}',
        '      - {name: emails, run: [node, -e, "process.exit(4)"]}',
        '',
      ].join('\n'),
    );
    const r = run('--config', config, 'deploy', 'staging', '1.5.0', '--non-interactive', '--yes', 'all', '--json');
    expect(r.code).toBe(1);
    const events = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
    const failed = events.find((e) => e.type === 'step.failed');
    expect(failed?.stepId).toBe('day2');
    expect(failed?.data.reason).toContain('1 of 2 Day-2 script(s) failed (emails: exited with code 4)');
    const out = events
      .filter((e) => e.type === 'step.output' && e.stepId === 'day2')
      .map((e) => e.data.text)
      .join('');
    expect(out).toMatch(/✔ jobs/);
    expect(out).toMatch(/✖ emails: exited with code 4/);
    // It ran after the deploy: staging runs the version.
    expect(target.calls()).toContain('deploy 1.5.0 --env staging');
  });

  it('--help says what it does', () => {
    const r = run('deploy', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: cockpit deploy \[options\] <env> \[version\]/);
    expect(r.stdout).toMatch(/newest release tag\s+on main/);
    expect(r.stdout).toMatch(/--dry-run/);
  });
});

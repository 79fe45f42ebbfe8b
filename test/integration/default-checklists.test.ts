import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cockpit, jsonLines, tempRepo } from '../helpers/cli.js';

/** The default checklists run end to end on a real repository (confirmations by flag), and their checks bite. */
const GIT_ENV = { GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@example.com' };

let repo: ReturnType<typeof tempRepo>;
beforeAll(() => {
  repo = tempRepo();
  repo.write('.gitignore', '.cockpit/\n');
  repo.write('README', 'property app\n');
  const git = (...args: string[]) => expect(spawnSync('git', args, { cwd: repo.dir, env: { ...process.env, ...GIT_ENV } }).status).toBe(0);
  git('add', '-A');
  git('commit', '-qm', 'feat: first');
  git('tag', '-a', 'v1.3.0', '-m', 'v1.3.0');
});
afterAll(() => repo.cleanup());

const PARAMS: Record<string, string[]> = {
  release: ['-p', 'version=1.4.0'],
  hotfix: ['-p', 'version=1.3.1', '-p', 'issue=PROP-12'],
  'deploy-staging': ['-p', 'version=1.4.0'],
  'deploy-production': ['-p', 'version=1.4.0'],
  migration: [],
  'rollback-code': ['-p', 'version=1.3.0'],
  'rollback-db': [],
  'post-deploy-watch': ['-p', 'version=1.4.0', '-p', 'environment=production'],
  communication: [],
};

describe('default checklists', () => {
  for (const [id, params] of Object.entries(PARAMS)) {
    it(`${id} runs to the end with every confirmation given by flag`, () => {
      const r = cockpit(['--repo', repo.dir, 'run', id, ...params, '--non-interactive', '--yes', 'all', '--json'], { cwd: repo.dir });
      expect(r.code, r.stderr).toBe(0);
      const events = jsonLines(r.stdout);
      expect(events.at(-1)).toMatchObject({ type: 'session.finished', data: { outcome: 'succeeded' } });
      expect(events.filter((e) => e.type === 'step.failed')).toEqual([]);
    });
  }

  it('release stops at its tag check when the version is already tagged', () => {
    const r = cockpit(['--repo', repo.dir, 'run', 'release', '-p', 'version=1.3.0', '--non-interactive', '--yes', 'all', '--json'], { cwd: repo.dir });
    expect(r.code).toBe(1);
    const failed = jsonLines(r.stdout).find((e) => e.type === 'step.failed');
    expect(failed?.stepId).toBe('tag-free');
  });

  it('rollback-code refuses a version that was never released', () => {
    const r = cockpit(['--repo', repo.dir, 'run', 'rollback-code', '-p', 'version=0.9.0', '--non-interactive', '--yes', 'all', '--json'], { cwd: repo.dir });
    expect(r.code).toBe(1);
    expect(jsonLines(r.stdout).find((e) => e.type === 'step.failed')).toBeTruthy();
  });

  it('a production deploy without --yes stops first at the senior developer approval', () => {
    const r = cockpit(['--repo', repo.dir, 'run', 'deploy-production', '-p', 'version=1.4.0', '--non-interactive', '--yes', 'trigger'], { cwd: repo.dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/step 'approval' needs confirmation/);
  });
});

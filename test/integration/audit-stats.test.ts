import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cockpit, jsonLines, tempRepo } from '../helpers/cli.js';
import { freshDatabase, pgTest } from '../helpers/pg.js';

// Real sessions recorded by `cockpit run … --non-interactive --yes all` with small checklists that carry the default
// checklists' ids (release, deploy-production, rollback-code, hotfix), then `cockpit audit stats` over what they recorded.

const DAY = 86_400_000;

const RELEASE = `id: release
title: Release (notes only)
params:
  version: {type: semver, required: true}
steps:
  - id: release-notes
    title: Notes
    kind: notes
    version: \${version}
`;

const DEPLOY = `id: deploy-production
title: Production deploy (test)
params:
  version: {type: semver, required: true}
  fail: {type: string, default: "no"}
steps:
  - id: approval
    title: Approval
    kind: confirm
    prompt: Approved?
  - id: deploy-new-env
    title: Deploy to the idle colour
    kind: run
    run: echo "deploying $COCKPIT_PARAM_VERSION"
  - id: switch-traffic
    title: Switch
    kind: confirm
    prompt: Switched?
  - id: smoke-live
    title: Smoke the live colour
    kind: run
    run: test "$COCKPIT_PARAM_FAIL" != yes || { echo "smoke failed" >&2; exit 1; }
`;

const ROLLBACK = `id: rollback-code
title: Rollback (test)
params:
  version: {type: semver, required: true}
steps:
  - id: trigger-rollback
    title: Roll back
    kind: run
    run: echo "rolling back to $COCKPIT_PARAM_VERSION"
`;

const HOTFIX = `id: hotfix
title: Hotfix (test)
params:
  version: {type: semver, required: true}
steps:
  - id: fix
    title: Fix
    kind: confirm
    prompt: Fixed?
  - id: deploy-production
    title: Deploy the hotfix
    kind: checklist
    use: deploy-production
    with: {version: "\${version}"}
`;

let repo: ReturnType<typeof tempRepo>;
const ids: Record<string, string> = {};
let firstCommitAt = 0;

function git(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync('git', args, { cwd: repo.dir, env: { ...process.env, ...env }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
}

function commitAt(subject: string, at: number) {
  const date = `@${Math.floor(at / 1000)} +0000`;
  repo.write(`src/${subject.replace(/\W+/g, '-')}.txt`, subject);
  git(['add', '-A', 'src']);
  git(['commit', '-q', '-m', subject], { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date });
}

/** Runs a checklist to its end as a user would, and returns its session id. */
function run(name: string, checklist: string, params: string[], expectCode = 0) {
  const r = cockpit(['--repo', repo.dir, 'run', checklist, ...params.flatMap((p) => ['-p', p]), '--yes', 'all', '--json'], {
    cwd: repo.dir,
  });
  expect(r.code, `${name}: ${r.stderr}`).toBe(expectCode);
  ids[name] = jsonLines(r.stdout)[0].sessionId;
}

const stats = (...args: string[]) => cockpit(['--repo', repo.dir, 'audit', 'stats', ...args], { cwd: repo.dir });

beforeAll(() => {
  repo = tempRepo({ release: RELEASE, 'deploy-production': DEPLOY, 'rollback-code': ROLLBACK, hotfix: HOTFIX });
  git(['config', 'user.name', 'Tester']);
  git(['config', 'user.email', 'tester@example.com']);
  repo.write('.gitignore', '.cockpit/\n');
  const now = Date.now();
  commitAt('feat: the first release', now - 40 * DAY);
  git(['tag', '-a', 'v1.0.0', '-m', 'v1.0.0']);
  firstCommitAt = Math.floor((now - 10 * DAY) / 1000) * 1000;
  commitAt('feat: search by price', firstCommitAt);
  commitAt('fix: rounding of refunds', now - 4 * DAY);
  git(['add', '-A']);
  git(['commit', '-q', '-m', 'chore: checklists']);

  run('release', 'release', ['version=1.1.0']);
  run('deploy1', 'deploy-production', ['version=1.1.0']);
  run('deploy2', 'deploy-production', ['version=1.2.0', 'fail=yes'], 1); // switched, then its live smoke failed
  run('rollback', 'rollback-code', ['version=1.1.0']);
  run('hotfix', 'hotfix', ['version=1.2.1']);
}, 120_000);

afterAll(() => repo?.cleanup());

describe('cockpit audit stats over recorded sessions', () => {
  it('the release recorded its first commit in its notes step', () => {
    const r = cockpit(['--repo', repo.dir, 'audit', 'show', ids.release, '--format', 'json'], { cwd: repo.dir });
    expect(r.code, r.stderr).toBe(0);
    const events: Array<Record<string, any>> = JSON.parse(r.stdout).events;
    const passed = events.find((e) => e.type === 'step.passed' && e.stepId === 'release-notes');
    expect(passed?.data.release).toMatchObject({ version: '1.1.0', commits: 3, firstCommitAt, previousTag: 'v1.0.0' });
  });

  it('--json: three production deploys, one failed (once, though a rollback and a hotfix followed), its restore, the lead time', () => {
    const r = stats('--json');
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    const p = json.environments.find((e: { environment: string }) => e.environment === 'production');
    expect(p.deploys.sessions).toEqual([ids.deploy1, ids.deploy2, ids.hotfix]);
    expect(p.deploys.items.map((d: { timeFrom: string; step: string }) => [d.timeFrom, d.step])).toEqual([
      ['switch', 'switch-traffic'],
      ['switch', 'switch-traffic'],
      ['switch', 'deploy-production/switch-traffic'],
    ]);
    expect(p.changeFailure).toMatchObject({ failed: 1, of: 3 });
    expect(p.changeFailure.items[0].deploy.session).toBe(ids.deploy2);
    expect(p.changeFailure.items[0].followedBy.map((f: { session: string }) => f.session)).toEqual([ids.rollback, ids.hotfix]);
    const restore = p.restore.items[0];
    expect(restore.from).toMatchObject({ kind: 'failed-step', session: ids.deploy2, detail: 'smoke-live' });
    expect(restore.to).toMatchObject({ kind: 'rollback-finished', session: ids.rollback });
    expect(restore.ms).toBe(Date.parse(restore.to.at) - Date.parse(restore.from.at));
    expect(restore.ms).toBeGreaterThan(0);
    expect(p.leadTime.items).toHaveLength(1);
    const lead = p.leadTime.items[0];
    expect(lead).toMatchObject({ session: ids.deploy1, version: '1.1.0', releaseSession: ids.release });
    expect(lead.firstCommitAt).toBe(new Date(firstCommitAt).toISOString());
    expect(lead.ms).toBe(Date.parse(p.deploys.items[0].at) - firstCommitAt);
    expect(p.leadTime.missing.map((m: { session: string }) => m.session)).toEqual([ids.deploy2, ids.hotfix]);
  });

  it('text: per environment, figures a person reads with the sessions they came from', () => {
    const r = stats();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('production\n');
    expect(r.stdout).toMatch(/deployment frequency +0\.2 a week \(3 deploys\)/);
    expect(r.stdout).toContain(`from ${ids.deploy1}, ${ids.deploy2}, ${ids.hotfix}`);
    expect(r.stdout).toMatch(/lead time for changes +median 10d over 1 deploy, first commit to production/);
    expect(r.stdout).toContain('33% (1 of 3 deploys followed by a rollback or hotfix)');
    expect(r.stdout).toMatch(/time to restore +median \d+(\.\d)?(ms|s) over 1 failed deploy/);
    expect(r.stdout).toContain('2 deploys without a recorded first commit');
  });

  it('--env staging has no deploys and says so; --since 1h still holds the three deploys, a date in the future exits 2', () => {
    const r = stats('--env', 'staging');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('no staging deploys since');
    expect(r.stdout).not.toContain('production');
    const today = new Date(Date.now() + DAY).toISOString().slice(0, 10);
    const late = stats('--since', '1h', '--json');
    expect(JSON.parse(late.stdout).environments[0].deploys.count).toBe(3);
    expect(stats('--since', today).code).toBe(2);
  });

  it('a bad --since exits 2 with one sentence', () => {
    const r = stats('--since', 'last-quarter');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([
      'cockpit: --since last-quarter: expected a span back from now (90d, 12w, 36h) or a date (2026-09-01)',
    ]);
  });
});

const pgInfo = pgTest();

describe.skipIf(!pgInfo.url)(`cockpit audit stats on the shared PostgreSQL store${pgInfo.skipReason}`, () => {
  it('reads the team store the same way: a deploy, then a rollback, is one failed deploy with its restore', async () => {
    const url = await freshDatabase('stats');
    const team = tempRepo({ 'deploy-production': DEPLOY, 'rollback-code': ROLLBACK });
    try {
      const c = (...args: string[]) => cockpit(['--repo', team.dir, '--audit-url', url, ...args], { cwd: team.dir });
      const d = c('run', 'deploy-production', '-p', 'version=3.0.0', '--yes', 'all', '--json');
      expect(d.code, d.stderr).toBe(0);
      const r = c('run', 'rollback-code', '-p', 'version=2.9.0', '--yes', 'all', '--json');
      expect(r.code, r.stderr).toBe(0);
      const s = c('audit', 'stats', '--json');
      expect(s.code, s.stderr).toBe(0);
      const p = JSON.parse(s.stdout).environments[0];
      expect(p.environment).toBe('production');
      expect(p.deploys.sessions).toEqual([jsonLines(d.stdout)[0].sessionId]);
      expect(p.changeFailure).toMatchObject({ failed: 1, of: 1, rate: 1 });
      expect(p.restore.items[0].from.kind).toBe('rollback-started');
      expect(p.restore.items[0].to).toMatchObject({ kind: 'rollback-finished', session: jsonLines(r.stdout)[0].sessionId });
      // Nothing went to a local SQLite log.
      expect(cockpit(['--repo', team.dir, 'audit', 'stats']).stdout).toContain('no production deploys since');
    } finally {
      team.cleanup();
    }
  });
});

import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cockpit, cockpitAsync, jsonLines, tempRepo } from '../helpers/cli.js';
import { startDeployTarget, type DeployTarget } from '../helpers/deploy-target.js';
import { freshDatabase, pgTest } from '../helpers/pg.js';
import { cleanupPrometheusHarness, prometheusTest, startMetricsService, startPrometheus } from '../helpers/prometheus.js';

/** The default checklists run end to end on a real repository (confirmations by flag), and their checks bite. */
const GIT_ENV = { GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@example.com' };
// The migration checklist (also inside deploy-production and hotfix) applies migrations: to a real, empty database.
const pgInfo = pgTest();
let databaseUrl = '';
// (deploy-staging applies them too, and the release includes it.)
const NEEDS_DB = new Set(['migration', 'deploy-production', 'hotfix', 'rollback-db', 'deploy-staging', 'release']);
// The post-deploy watch (also inside deploy-production and hotfix) polls Prometheus: a real one, scraping a real
// metrics service, watched for 3 s instead of an hour (the baseline rules are left out: this Prometheus has no
// hour before the deploy).
const promInfo = prometheusTest();
const NEEDS_PROM = new Set(['post-deploy-watch', 'deploy-production', 'hotfix']);
const run = (args: string[]) => cockpit(args, { cwd: repo.dir, env: { ...GIT_ENV, DATABASE_URL: databaseUrl } });
// The deploys drive a real deploy script (a blue/green production, an in-place staging) whose colours and live URL
// are HTTP servers on free ports; the production deploys wait for a senior developer, who approves from their own
// process with their own git identity.
let target: DeployTarget;
const SENIOR = 'senior@example.com';
const NEEDS_APPROVAL = new Set(['deploy-production', 'hotfix']);

/** A run whose approve step a senior developer approves (or rejects) from another process, once it asks. */
function runApproved(args: string[], decision: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const gitconfig = path.join(path.dirname(repo.dir), `${path.basename(repo.dir)}-senior.gitconfig`);
  writeFileSync(gitconfig, `[user]\n\temail = ${SENIOR}\n\tname = senior\n`);
  const child = cockpitAsync(args, { cwd: repo.dir, env: { ...GIT_ENV, DATABASE_URL: databaseUrl } });
  let stdout = '';
  let stderr = '';
  let seen = 0;
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    const lines = stdout.split('\n');
    for (; seen < lines.length - 1; seen++) {
      if (!lines[seen].startsWith('{')) continue;
      const e = JSON.parse(lines[seen]);
      if (e.type !== 'approval.requested') continue;
      const a = cockpit(['--repo', repo.dir, 'approve', e.sessionId, ...decision], {
        cwd: repo.dir,
        env: { GIT_CONFIG_GLOBAL: gitconfig, GIT_CONFIG_NOSYSTEM: '1' },
      });
      if (a.code !== 0) stderr += `approve: ${a.stderr}`;
    }
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

let repo: ReturnType<typeof tempRepo>;
let watchConfig = '';
beforeAll(async () => {
  if (pgInfo.url) databaseUrl = await freshDatabase('defaults');
  if (promInfo.ok) {
    // Enough payments for the payment-failure rule's minimum (20 transactions in its window).
    const service = await startMetricsService({ paymentsPerSec: 10 });
    const prom = await startPrometheus({
      scrape: [
        { job: 'app', target: service.target, path: '/metrics' },
        { job: 'db', target: service.target, path: '/db-metrics' },
      ],
    });
    watchConfig = `watch:\n  prometheus: {url: "${prom.url}"}\n  duration: 3s\n  interval: 1s\n  window: 10s\n  disable: [error_rate_increase, latency_p95_increase]\n`;
  }
  // A repository as the release checklist expects one: main and develop, the two version files, an origin.
  repo = tempRepo();
  target = await startDeployTarget(repo.dir, repo.write);
  repo.write('.gitignore', '.cockpit/\n.sandbox/\n.target/\n');
  repo.write('README', 'property app\n');
  repo.write(
    'cockpit.config.yaml',
    [
      watchConfig,
      'deploy:',
      target.config({ production: 'blue-green', staging: 'in-place' }),
      'verify:',
      '  tests: [git, rev-parse, --verify, HEAD]',
      `approvers:\n  senior: [${SENIOR}]\n  timeout: 2m`,
      '',
    ].join('\n'),
  );
  repo.write('frontend/package.json', '{\n  "name": "property-frontend",\n  "version": "1.3.0"\n}\n');
  repo.write('backend/setup.py', 'from setuptools import setup\n\nsetup(name="property-backend", version="1.3.0")\n');
  // One migration, as `cockpit migrate create "listings"` starts it (its description first): the deploys apply it,
  // rollback-db rolls it back.
  repo.write(
    'migrations/20260101000000_listings.sql',
    '-- listings\n-- migrate:up\nCREATE TABLE listings (id bigint primary key);\n-- migrate:down\nDROP TABLE listings;\n',
  );
  const git = (...args: string[]) => expect(spawnSync('git', args, { cwd: repo.dir, env: { ...process.env, ...GIT_ENV } }).status).toBe(0);
  git('add', '-A');
  git('commit', '-qm', 'feat: first');
  git('tag', '-a', 'v1.3.0', '-m', 'v1.3.0');
  git('branch', 'develop');
  git('init', '-q', '--bare', '-b', 'main', '.sandbox/origin.git');
  git('remote', 'add', 'origin', `${repo.dir}/.sandbox/origin.git`);
  git('push', '-q', 'origin', 'main', 'develop', 'v1.3.0');
  git('switch', '-q', 'develop');
  repo.write('frontend/search.js', 'export const search = () => [];\n');
  git('add', '-A');
  git('commit', '-qm', 'feat(search): search listings');
});
afterAll(async () => {
  await target?.close();
  repo.cleanup();
  await cleanupPrometheusHarness();
});

const PARAMS: Record<string, string[]> = {
  release: ['-p', 'version=1.4.0'],
  hotfix: ['-p', 'version=1.4.1', '-p', 'issue=PROP-12'],
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
    const skip = (NEEDS_DB.has(id) && !pgInfo.url) || (NEEDS_PROM.has(id) && !promInfo.ok);
    const why = `${NEEDS_DB.has(id) ? pgInfo.skipReason : ''}${NEEDS_PROM.has(id) ? promInfo.skipReason : ''}`;
    it.skipIf(skip)(`${id} runs to the end with every confirmation given by flag${why}`, { timeout: 180_000 }, async () => {
      const args = ['--repo', repo.dir, 'run', id, ...params, '--non-interactive', '--yes', 'all', '--json'];
      const r = NEEDS_APPROVAL.has(id) ? await runApproved(args) : run(args);
      expect(
        r.code,
        `${r.stderr}\n${jsonLines(r.stdout)
          .filter((e) => e.type === 'step.output' || e.type === 'step.failed')
          .map((e) => JSON.stringify(e.data))
          .join('\n')}`,
      ).toBe(0);
      const events = jsonLines(r.stdout);
      expect(events.at(-1)).toMatchObject({ type: 'session.finished', data: { outcome: 'succeeded' } });
      expect(events.filter((e) => e.type === 'step.failed')).toEqual([]);
    });
  }

  it.skipIf(!pgInfo.url)(
    `the release did its git work: release branch, bump, notes in CHANGELOG.md, --no-ff merge to main, tag, merge back, push${pgInfo.skipReason}`,
    () => {
      // (The hotfix ran after it and moved main on: what the release made is looked at through its tag.)
      const g = (...args: string[]) => spawnSync('git', args, { cwd: repo.dir, encoding: 'utf8' }).stdout.trim();
      expect(g('show', 'v1.4.0:frontend/package.json')).toContain('"version": "1.4.0"');
      expect(g('show', 'v1.4.0:backend/setup.py')).toContain('version="1.4.0"');
      const changelog = g('show', 'v1.4.0:CHANGELOG.md');
      expect(changelog).toMatch(/^## 1\.4\.0 \(\d{4}-\d{2}-\d{2}\)$/m);
      expect(changelog).toMatch(/### Features\n\n- \*\*search:\*\* search listings/);
      expect(g('log', '-1', '--format=%P', 'v1.4.0^{commit}').split(' ')).toHaveLength(2);
      expect(g('log', '-1', '--format=%s', 'v1.4.0^{commit}')).toBe('Merge release/v1.4.0 into main');
      const tag = g('cat-file', '-p', 'v1.4.0');
      expect(tag).toContain('### Features');
      expect(tag).not.toContain('chore(release)');
      expect(g('merge-base', '--is-ancestor', 'v1.4.0', 'develop')).toBe('');
      expect(g('ls-remote', 'origin')).toMatch(/refs\/tags\/v1\.4\.0\^\{\}/);
      expect(g('ls-remote', 'origin', 'release/v1.4.0')).toContain('refs/heads/release/v1.4.0');
      // And the hotfix after it (run only with a database: it includes the migrations): v1.4.1 on main, backported.
      if (pgInfo.url) {
        expect(g('show', 'v1.4.1:backend/setup.py')).toContain('version="1.4.1"');
        expect(g('merge-base', '--is-ancestor', 'v1.4.1', 'develop')).toBe('');
      }
    },
  );

  it.skipIf(!pgInfo.url)(`the deploys applied the repository's migration and rollback-db rolled it back${pgInfo.skipReason}`, () => {
    const status = run(['--repo', repo.dir, 'migrate', 'status', '--json']);
    expect(status.code, status.stderr).toBe(0);
    const s = JSON.parse(status.stdout);
    expect(s.applied).toEqual([]);
    expect(s.pending.map((m: { id: string }) => m.id)).toEqual(['20260101000000']);
    const id = JSON.parse(run(['--repo', repo.dir, 'audit', 'list', '--json']).stdout).find(
      (x: { checklist: string }) => x.checklist === 'rollback-db',
    ).id;
    // Its downgrade step's output, in the audit log, names the migration it reverted.
    expect(run(['--repo', repo.dir, 'audit', 'show', id, '--format', 'json']).stdout).toMatch(/20260101000000 reverted/);
  });

  it.skipIf(!pgInfo.url || !promInfo.ok)(
    `rollback-db with strategy restore restores the latest backup (the production deploy's) and checks its integrity${pgInfo.skipReason}${promInfo.skipReason}`,
    () => {
      const r = run(['--repo', repo.dir, 'run', 'rollback-db', '-p', 'strategy=restore', '--non-interactive', '--yes', 'all', '--json']);
      const events = jsonLines(r.stdout);
      expect(r.code, `${r.stderr}\n${JSON.stringify(events.filter((e) => e.type === 'step.failed'))}`).toBe(0);
      expect(events.find((e) => e.type === 'step.passed' && e.stepId === 'restore')).toBeTruthy();
      const out = events
        .filter((e) => e.type === 'step.output' && e.stepId === 'restore')
        .map((e) => e.data.text)
        .join('');
      expect(out).toMatch(/restored backup \S+ in .*: integrity verified/);
      // The backup was taken with the migration applied: restored, it is applied again.
      const status = JSON.parse(run(['--repo', repo.dir, 'migrate', 'status', '--json']).stdout);
      expect(status.applied.map((m: { id: string }) => m.id)).toEqual(['20260101000000']);
    },
  );

  it('release stops at its tag check when the version is already tagged', () => {
    const r = run(['--repo', repo.dir, 'run', 'release', '-p', 'version=1.3.0', '--non-interactive', '--yes', 'all', '--json']);
    expect(r.code).toBe(1);
    const failed = jsonLines(r.stdout).find((e) => e.type === 'step.failed');
    expect(failed?.stepId).toBe('tag-free');
  });

  it('deploy-production refuses a version that is not a release on main, before asking anyone or deploying anything', () => {
    const before = target.calls().length;
    const r = run(['--repo', repo.dir, 'run', 'deploy-production', '-p', 'version=9.9.9', '--non-interactive', '--yes', 'all', '--json']);
    expect(r.code).toBe(1);
    const events = jsonLines(r.stdout);
    expect(events.find((e) => e.type === 'step.failed')?.stepId).toBe('on-main');
    expect(
      events
        .filter((e) => e.type === 'step.output')
        .map((e) => e.data.text)
        .join(''),
    ).toContain('no tag v9.9.9 here');
    expect(events.some((e) => e.type === 'approval.requested')).toBe(false);
    expect(target.calls().slice(before)).toEqual([]);
  });

  it('rollback-code refuses a version that was never released', () => {
    const r = run(['--repo', repo.dir, 'run', 'rollback-code', '-p', 'version=0.9.0', '--non-interactive', '--yes', 'all', '--json']);
    expect(r.code).toBe(1);
    expect(jsonLines(r.stdout).find((e) => e.type === 'step.failed')).toBeTruthy();
  });

  it.skipIf(!pgInfo.url || !promInfo.ok)(
    `the deploys drove the deploy script: staging in place, production to the idle colour then the switch, the rollback${pgInfo.skipReason}${promInfo.skipReason}`,
    () => {
      const calls = target.calls().filter((c) => !c.startsWith('status'));
      expect(calls).toContain('deploy 1.4.0 --env staging');
      expect(calls).toEqual(expect.arrayContaining([expect.stringMatching(/^deploy 1\.4\.0 --env production --colour (blue|green)$/)]));
      expect(calls).toEqual(expect.arrayContaining([expect.stringMatching(/^switch (blue|green) --env production$/)]));
      expect(calls.some((c) => /^(rollback 1\.3\.0 --env production|switch (blue|green) --env production)$/.test(c))).toBe(true);
    },
  );

  it.skipIf(!pgInfo.url || !promInfo.ok)(
    `rollback-code without a version finds the version to go back to itself, and says which and why${pgInfo.skipReason}${promInfo.skipReason}`,
    () => {
      const r = run(['--repo', repo.dir, 'run', 'rollback-code', '--non-interactive', '--yes', 'all', '--json']);
      const events = jsonLines(r.stdout);
      expect(r.code, `${r.stderr}\n${JSON.stringify(events.filter((e) => e.type === 'step.failed'))}`).toBe(0);
      const chosen = events.find((e) => e.type === 'deploy.rollback');
      expect(chosen?.data).toMatchObject({ env: 'production', version: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
      expect(chosen?.data.why).toMatch(/\S/);
    },
  );

  it(
    'a production deploy the senior developer rejects stops at the approval: nothing is built, deployed or switched',
    { timeout: 120_000 },
    async () => {
      const before = target.calls().length;
      const r = await runApproved(
        ['--repo', repo.dir, 'run', 'deploy-production', '-p', 'version=1.4.0', '--non-interactive', '--yes', 'all', '--json'],
        ['--reject', 'not during the sale'],
      );
      expect(r.code, r.stderr).toBe(1);
      const failed = jsonLines(r.stdout).find((e) => e.type === 'step.failed');
      expect(failed?.stepId).toBe('approval');
      expect(failed?.data.reason).toContain('not during the sale');
      expect(target.calls().slice(before)).toEqual([]);
    },
  );
});

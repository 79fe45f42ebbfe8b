import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Workspace } from '../../src/cli/setup.js';
import { lastStable } from '../../src/engine/deploy-history.js';
import { provideServices, type ServiceScope } from '../../src/engine/services.js';
import { cockpit, jsonLines, tempRepo } from '../helpers/cli.js';
import {
  cleanupPrometheusHarness,
  paymentsFlowing,
  pollUntil,
  prometheusTest,
  promValue,
  startWatchedService,
  type MetricsService,
  type PromServer,
} from '../helpers/prometheus.js';

// The last stable version, from sessions recorded by the real bin on a real SQLite store: production deploys whose
// post-deploy watch ran against a real Prometheus (passing on a healthy service, failing on failed payments), and a
// rollback. `cockpit audit stats` says it per environment, and the deploy history service gives the same answer.

const DEPLOY = `id: deploy-production
title: Production deploy (test)
params:
  version: {type: semver, required: true}
  watch_for: {type: string, default: "6s"}
steps:
  - id: deploy-new-env
    title: Deploy to the idle colour
    kind: run
    run: echo "deploying $COCKPIT_PARAM_VERSION"
  - id: switch-traffic
    title: Switch
    kind: confirm
    prompt: Switched?
  - id: watch
    title: Post-deploy watch
    kind: watch
    duration: \${watch_for}
    interval: 1s
    stopOnBreach: true
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

const info = prometheusTest();

describe.skipIf(!info.ok)(`the last stable version from recorded deploys${info.skipReason}`, () => {
  let svc: MetricsService;
  let prom: PromServer;
  let repo: ReturnType<typeof tempRepo>;
  const ids: Record<string, string> = {};

  function run(name: string, checklist: string, params: string[], expectCode = 0) {
    const r = cockpit(['--repo', repo.dir, 'run', checklist, ...params.flatMap((p) => ['-p', p]), '--yes', 'all', '--json'], {
      cwd: repo.dir,
      env: { COCKPIT_OPERATOR: name.startsWith('deploy2') ? 'bob' : 'alice' },
    });
    expect(r.code, `${name}: ${r.stderr}${r.stdout.slice(-1500)}`).toBe(expectCode);
    ids[name] = jsonLines(r.stdout)[0].sessionId;
  }

  beforeAll(async () => {
    ({ svc, prom } = await startWatchedService());
    await paymentsFlowing(prom);
    repo = tempRepo({ 'deploy-production': DEPLOY, 'rollback-code': ROLLBACK });
    repo.write(
      'cockpit.config.yaml',
      [
        'watch:',
        '  prometheus:',
        `    url: ${prom.url}`,
        '  window: 10s',
        '  disable: [error_rate_increase, latency_p95_increase, failed_payments_any]',
        '',
      ].join('\n'),
    );
    run('deploy1', 'deploy-production', ['version=1.1.0']);
    run('deploy2', 'deploy-production', ['version=1.2.0']);
    run('rollback', 'rollback-code', ['version=1.1.0']);
    await svc.set({ paymentFailureRatio: 0.05 });
    try {
      run('deploy3', 'deploy-production', ['version=1.3.0', 'watch_for=30s'], 1); // the watch breaches on failed payments
    } finally {
      await svc.set({ paymentFailureRatio: 0 });
    }
  }, 180_000);
  afterAll(async () => {
    repo?.cleanup();
    await cleanupPrometheusHarness();
  });

  it('the watches were judged by the real Prometheus: two passed, the third failed', () => {
    const verdict = (id: string) => {
      const r = cockpit(['--repo', repo.dir, 'audit', 'show', id, '--format', 'json'], { cwd: repo.dir });
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout).events as Array<{ type: string; data: { verdict: string } }>).find((e) => e.type === 'watch.finished')
        ?.data.verdict;
    };
    expect([verdict(ids.deploy1), verdict(ids.deploy2), verdict(ids.deploy3)]).toEqual(['pass', 'pass', 'fail']);
  });

  it('audit stats --json: production goes back to 1.1.0 (1.2.0 rolled back, 1.3.0 failed its watch), staging has none', () => {
    const r = cockpit(['--repo', repo.dir, 'audit', 'stats', '--json'], { cwd: repo.dir });
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    const p = json.environments.find((e: { environment: string }) => e.environment === 'production');
    expect(p.lastStable).toMatchObject({ version: '1.1.0', session: ids.deploy1 });
    const today = new Date().toISOString().slice(0, 10);
    expect(p.lastStable.why).toBe(
      `1.1.0: deployed to production by alice in session ${ids.deploy1} on ${today}, watch passed (watch), ` +
        `no rollback away from it since (session ${ids.rollback} went back to 1.1.0); newer deploys passed over: ` +
        `1.3.0's watch failed (session ${ids.deploy3}); 1.2.0 was rolled back by session ${ids.rollback} (to 1.1.0)`,
    );
    expect(json.definitions.lastStable).toContain('post-deploy watch passed');
    const staging = cockpit(['--repo', repo.dir, 'audit', 'stats', '--env', 'staging', '--json'], { cwd: repo.dir });
    expect(JSON.parse(staging.stdout).environments[0].lastStable).toBeNull();
  });

  it('audit stats in text says it where a user looks, per environment', () => {
    const r = cockpit(['--repo', repo.dir, 'audit', 'stats'], { cwd: repo.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`production\n  last stable: 1.1.0 (deployed to production by alice in session ${ids.deploy1} on `);
    const staging = cockpit(['--repo', repo.dir, 'audit', 'stats', '--env', 'staging'], { cwd: repo.dir });
    expect(staging.stdout).toContain('last stable: none in the audit log (no deploy to staging reached it');
  });

  it('the deploy history service reads the same answer from the store, read newest first (one source of truth)', async () => {
    const ws = new Workspace({ repo: repo.dir });
    try {
      const store = await ws.openStore({ readOnly: true });
      const stats = JSON.parse(cockpit(['--repo', repo.dir, 'audit', 'stats', '--json'], { cwd: repo.dir }).stdout);
      expect(await lastStable(store, 'production')).toEqual(stats.environments[0].lastStable);
      expect(await lastStable(store, 'staging')).toBeNull();
      // As a step kind that declares it gets it (the rollback step: needs ['deployHistory']), over the session's store.
      const { deployHistory } = provideServices({ deps: { store } } as unknown as ServiceScope, ['deployHistory']);
      expect(await deployHistory.lastStable('production')).toEqual(stats.environments[0].lastStable);
    } finally {
      await ws.close();
    }
  });

  it('a newer deploy whose watch passes becomes the last stable version', async () => {
    // The failed payments of deploy3's watch out of the 10 s window first.
    await pollUntil(
      () => promValue(prom.url, '(sum(increase(payments_total{job="app",result="failed"}[10s])) or vector(0))'),
      (v) => v === 0,
      { what: 'no failed payment in the 10 s window', timeoutMs: 30_000 },
    );
    run('deploy4', 'deploy-production', ['version=1.3.1']);
    const r = cockpit(['--repo', repo.dir, 'audit', 'stats', '--json'], { cwd: repo.dir });
    const p = JSON.parse(r.stdout).environments[0];
    expect(p.lastStable).toMatchObject({ version: '1.3.1', session: ids.deploy4 });
    expect(p.lastStable.why).toMatch(/watch passed \(watch\), no rollback since$/);
  }, 90_000);
});

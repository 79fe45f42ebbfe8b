import { spawnSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cockpitAsync, jsonLines, tempRepo } from '../helpers/cli.js';
import { startDeployTarget, type DeployTarget } from '../helpers/deploy-target.js';
import {
  API_KEY,
  PAGE,
  SLACK_TOKEN,
  slackReceiver,
  statuspageReceiver,
  type Receiver,
  type StatusPage,
} from '../helpers/notify-receivers.js';
import {
  cleanupPrometheusHarness,
  paymentsFlowing,
  prometheusTest,
  startWatchedService,
  type MetricsService,
  type PromServer,
} from '../helpers/prometheus.js';

// The automatic messages around the post-deploy watch, end to end: a production deploy session announces itself,
// deploys to the idle colour of a real blue/green target (test/helpers/deploy-target.ts) and switches to it,
// runs the shipped post-deploy-watch checklist against a real Prometheus (free port, killed by pid by the harness)
// scraping a metrics service this test drives, then the shipped communication checklist's post-deploy phase. A
// clean watch is followed by the confirmation in the chat and the status page's maintenance closed (Operational);
// a watch that breaches (5% of payments failing) stops the deploy, and the shipped rollback-code checklist, its
// clock from the breach, posts the rollback notice, naming the version gone back to, to the chat and to the status
// page, whose open incident of the deploy it closes. What the loopback receivers got is asserted, in order.

const prom = prometheusTest();

const SHIP = `id: ship
title: Ship to production
params:
  version: {type: semver, required: true}
  environment: {type: string, default: production}
steps:
  - id: started
    title: Tell the deployment started
    kind: notify
    message: deployment-started
    channels: [chat, statuspage]
    status: under_maintenance
  - id: deploy
    title: Deploy to the idle colour
    kind: deploy
    env: production
    version: "\${version}"
  - id: switch
    title: Switch traffic to it
    kind: switch
    env: production
  - id: post-deploy-watch
    title: Run the post-deploy verification
    kind: checklist
    use: post-deploy-watch
    with: {version: "\${version}", environment: production}
  - id: comms-post
    title: Close the deployment communication
    kind: checklist
    use: communication
    with: {phase: post-deploy, version: "\${version}", target: production}
`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe.skipIf(!prom.ok)(`notify: the messages after a clean or a breached production watch${prom.skipReason}`, () => {
  let svc: MetricsService;
  let server: PromServer;
  let repo: ReturnType<typeof tempRepo>;
  let target: DeployTarget;
  let slack: Receiver;
  let sp: StatusPage;

  beforeAll(async () => {
    ({ svc, prom: server } = await startWatchedService());
    await paymentsFlowing(server);
  }, 60_000);
  afterAll(cleanupPrometheusHarness);

  beforeEach(async () => {
    repo = tempRepo({ ship: SHIP });
    target = await startDeployTarget(repo.dir, repo.write);
    slack = await slackReceiver();
    sp = await statuspageReceiver();
    repo.write(
      'cockpit.config.yaml',
      [
        'deploy:',
        target.config({ production: 'blue-green' }),
        'watch:',
        '  prometheus:',
        `    url: ${server.url}`,
        // A short watch: a sample a second for 6 s, over a 10 s window; only the payment-ratio rule (a rollback's criterion).
        '  interval: 1s',
        '  duration: 6s',
        '  window: 10s',
        '  disable: [error_rate_increase, latency_p95_increase, failed_payments_any]',
        'notify:',
        '  chat:',
        '    type: slack',
        '    url: {env: TEST_SLACK_URL}',
        '  statuspage:',
        '    type: statuspage',
        `    url: ${sp.url}/v1`,
        `    page: ${PAGE}`,
        `    apiKey: ${API_KEY}`,
        '    components: [cmpA]',
        '',
      ].join('\n'),
    );
    const git = (...args: string[]) =>
      spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: repo.dir });
    git('commit', '-q', '--allow-empty', '-m', 'release 1.3.0');
    git('tag', '-a', 'v1.3.0', '-m', 'v1.3.0');
    git('commit', '-q', '--allow-empty', '-m', 'release 1.4.0');
    git('tag', '-a', 'v1.4.0', '-m', 'v1.4.0');
  });
  afterEach(async () => {
    await svc.set({ paymentFailureRatio: 0 });
    await Promise.all([slack.close(), sp.close(), target.close()]);
    repo.cleanup();
  });

  /** The bin as an async child: the receivers answer from this process. */
  function run(args: string[]): Promise<Run> {
    const child = cockpitAsync(['--repo', repo.dir, ...args, '--non-interactive', '--yes', 'all', '--json'], {
      cwd: repo.dir,
      env: { TEST_SLACK_URL: `${slack.url}/services/T0001/B0001/${SLACK_TOKEN}`, COCKPIT_OPERATOR: 'tester' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  }

  const chat = () => slack.received.map((q) => q.body.blocks[0].text.text as string);
  /** The status page's writes (reads are the delivery's own business): method, incident or component, status, body. */
  const writes = () =>
    sp.received
      .filter((q) => q.method !== 'GET')
      .map((q) => {
        const inc = q.body.incident;
        return inc
          ? {
              write: `${q.method} ${q.path.replace(/^.*\/incidents/, '/incidents')}`,
              status: inc.status,
              components: inc.components,
              body: inc.body,
            }
          : { write: `${q.method} ${q.path.replace(/^.*\/components/, '/components')}`, status: q.body.component?.status };
      });

  it('a clean watch: the confirmation goes to the chat and the maintenance is closed, the page Operational', async () => {
    const r = await run(['run', 'ship', '-p', 'version=1.3.0']);
    expect(r.code, r.stderr + r.stdout.slice(-3000)).toBe(0);
    expect([...slack.violations, ...sp.violations]).toEqual([]);
    const evs = jsonLines(r.stdout);
    expect(evs.find((e) => e.type === 'step.passed' && e.stepId === 'post-deploy-watch/watch')).toBeTruthy();

    expect(chat()).toEqual(['Deployment started: v1.3.0 to production', 'Deployment complete: v1.3.0 to production']);
    expect(writes()).toEqual([
      {
        write: 'POST /incidents',
        status: 'in_progress',
        components: { cmpA: 'under_maintenance' },
        body: 'Deployment of release v1.3.0 to production has started. Operator: tester.',
      },
      {
        write: 'PATCH /incidents/inc1',
        status: 'completed',
        components: { cmpA: 'operational' },
        body: 'All systems are operational again after the deployment of release v1.3.0 to production.',
      },
    ]);
    expect(sp.components.cmpA.at(-1)).toBe('operational');
    // The confirmation came after the watch ended: the chat's second message after the status page's maintenance began.
    expect(slack.received[1].at).toBeGreaterThan(sp.received.find((q) => q.method === 'POST')!.at);
  }, 90_000);

  it('a breached watch, then rollback-code from the breach: the rollback notice, naming 1.3.0, reaches the chat and closes the incident', async () => {
    await svc.set({ paymentFailureRatio: 0.05 });
    const deploy = await run(['run', 'ship', '-p', 'version=1.4.0']);
    // The watch breached: the deploy stopped there (exit 1), nothing said it was complete or operational.
    expect(deploy.code, deploy.stderr + deploy.stdout.slice(-3000)).toBe(1);
    const evs = jsonLines(deploy.stdout);
    const breach = evs.find((e) => e.type === 'watch.breach')!;
    expect(breach.data.rule).toBe('payment_failure_ratio_high');
    const deployId = evs.find((e) => e.type === 'session.started')!.sessionId as string;
    expect(chat()).toEqual(['Deployment started: v1.4.0 to production']);
    expect(writes().map((w) => [w.write, w.status])).toEqual([['POST /incidents', 'in_progress']]);
    const breachedAt = Date.now();
    await svc.set({ paymentFailureRatio: 0 });

    const rollback = await run(['run', 'rollback-code', '-p', 'version=1.3.0', '--recovery-since', deployId]);
    expect(rollback.code, rollback.stderr + rollback.stdout.slice(-3000)).toBe(0);
    expect(target.calls().some((c) => /^(rollback|switch) /.test(c))).toBe(true);
    expect([...slack.violations, ...sp.violations]).toEqual([]);

    // The chat: the deploy's start, then the notice, after the breach, naming the version production went back to.
    expect(chat()).toEqual(['Deployment started: v1.4.0 to production', 'Rollback: production back on 1.3.0']);
    const notice: string = slack.received[1].body.blocks[1].text.text;
    expect(notice).toMatch(/^Production was rolled back to 1\.3\.0 \((traffic switched back|redeployed)/);
    expect(notice).toMatch(/Recovery: \S+ of the 15m objective\./);
    expect(slack.received[1].at).toBeGreaterThanOrEqual(breachedAt);

    // The status page: the deploy's maintenance, then the same incident (found by its environment) closed with the notice.
    const w = writes();
    expect(w.map((x) => [x.write, x.status, x.components])).toEqual([
      ['POST /incidents', 'in_progress', { cmpA: 'under_maintenance' }],
      ['PATCH /incidents/inc1', 'completed', { cmpA: 'operational' }],
    ]);
    expect(w[1].body).toBe(notice);
    expect(sp.incidents).toHaveLength(1);
    expect(sp.incidents[0]).toMatchObject({ name: 'Deployment of v1.4.0 to production', status: 'completed' });
  }, 120_000);
});

import { spawnSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { appContext, processIO, type AppIO } from '../../src/app/context.js';
import { runChecklist } from '../../src/cli/commands.js';
import { closeStores } from '../../src/cli/open-stores.js';
import { Workspace } from '../../src/cli/setup.js';
import { renderText } from '../../src/report/timeline.js';
import { cockpit, cockpitAsync, tempRepo } from '../helpers/cli.js';
import { startDeployTarget, type DeployTarget } from '../helpers/deploy-target.js';
import {
  cleanupPrometheusHarness,
  paymentsFlowing,
  prometheusTest,
  runBreachedWatch,
  startWatchedService,
  type MetricsService,
  type PromServer,
} from '../helpers/prometheus.js';

// The recovery clock of a rollback session, as the operator reads it afterwards: `audit show` in text, Markdown and
// JSON, after a run of the policy's rollback-code checklist, after a SIGKILL and a resume, and with the system's
// time set forward in the middle of a rollback.

type Ev = Record<string, any>;

let repo: ReturnType<typeof tempRepo>;
// rollback-code drives the production deploy script: a real one, with its colours and live URL on free ports.
let target: DeployTarget;
let deployConfig = '';
beforeEach(async () => {
  repo = tempRepo({ timed: TIMED });
  target = await startDeployTarget(repo.dir, repo.write);
  deployConfig = `deploy:\n${target.config({ production: 'blue-green' })}\n`;
  repo.write('cockpit.config.yaml', deployConfig);
  const git = (...args: string[]) => spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: repo.dir });
  git('commit', '-q', '--allow-empty', '-m', 'first release');
  git('tag', '-a', 'v1.0.0', '-m', 'v1.0.0');
});
afterEach(async () => {
  await closeStores();
  await target.close();
  repo.cleanup();
});

const TIMED = `id: timed
title: Timed recovery
objective: {recovery: 15m, name: code rollback}
steps:
  - id: work
    title: Work that is killed the first time
    kind: run
    run: test -f started || { touch started; sleep 60; }
  - id: done
    title: Recovered
    kind: confirm
`;

function show(id: string, format: 'text' | 'md' | 'json'): string {
  const r = cockpit(['--repo', repo.dir, 'audit', 'show', id, '--format', format]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

/** The newest session of a checklist (audit list puts resumable sessions first). */
function newest(checklist?: string): string {
  const rows: Array<{ id: string; checklist: string; startedAt: number }> = JSON.parse(
    cockpit(['--repo', repo.dir, 'audit', 'list', '--json']).stdout,
  );
  return rows.filter((s) => !checklist || s.checklist === checklist).sort((a, b) => b.startedAt - a.startedAt)[0].id;
}

describe('the recovery clock of a rollback session', () => {
  it("rollback-code run with --yes all: audit show says 'recovered in … (objective 15m: met)' in text, Markdown and JSON", () => {
    const r = cockpit(['--repo', repo.dir, 'run', 'rollback-code', '-p', 'version=1.0.0', '--non-interactive', '--yes', 'all'], {
      cwd: repo.dir,
    });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/recovery clock: objective 15m; counted from the rollback's start/);
    expect(r.stdout).toMatch(/recovered in \d+s \(objective 15m: met\)/);
    const id = newest();

    const json = JSON.parse(show(id, 'json'));
    const rec = json.session.recovery;
    expect(rec).toMatchObject({
      objective: '15m',
      objectiveMs: 900_000,
      name: 'code rollback',
      from: 'session',
      state: 'recovered',
      met: true,
    });
    expect(rec.since).toBe(json.session.startedAt);
    // Measured by the process that finished it, and agreeing with the recorded times.
    const finished = json.events.find((e: Ev) => e.type === 'session.finished');
    expect(finished.data.recoveredMs).toBe(rec.elapsedMs);
    expect(Math.abs(rec.elapsedMs - (json.session.endedAt - json.session.startedAt))).toBeLessThan(1000);
    // rollback-code rolls back, then smoke-checks the live URL: the smoke step passing is when the rollback mitigated.
    const said = `recovered in ${Math.floor(rec.elapsedMs / 1000)}s (objective 15m: met), mitigated after ${Math.floor(rec.mitigated.afterMs / 1000)}s`;
    expect(rec.text).toBe(said);
    expect(rec.mitigated.afterMs).toBeLessThanOrEqual(rec.elapsedMs);

    const text = show(id, 'text');
    expect(text).toContain(`Recovery:    ${said}`);
    expect(text).toMatch(/Clock from: {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ: counted from the rollback's start/);
    expect(text).toContain('recovery clock started: objective 15m');
    expect(show(id, 'md')).toContain(`| Recovery | ${said} |`);
  });

  it('a session killed with SIGKILL and resumed keeps its clock: counted from the first start, across the restart', async () => {
    const child = cockpitAsync(['--repo', repo.dir, 'run', 'timed', '--non-interactive', '--yes', 'all', '--json'], { cwd: repo.dir });
    let out = '';
    await new Promise<void>((resolve) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('"step.spawned"')) setTimeout(() => child.kill('SIGKILL'), 1500);
      });
      child.on('exit', () => resolve());
    });
    const id = newest();
    const before = JSON.parse(show(id, 'json')).session;
    expect(before.outcome).toBeNull();
    // Not finished: the clock is read as of the last event, and says it is still running.
    expect(before.recovery.state).toBe('running');
    expect(show(id, 'text')).toMatch(/Recovery: {4}recovery \d+s \/ 15m \(\d+m\d*s? left\) — not recovered yet, as of the last event/);
    await new Promise((r) => setTimeout(r, 1000));

    const resumed = cockpit(['--repo', repo.dir, 'resume', id, '--non-interactive', '--yes', 'all'], { cwd: repo.dir });
    expect(resumed.code, resumed.stderr + resumed.stdout).toBe(0);
    const after = JSON.parse(show(id, 'json'));
    const rec = after.session.recovery;
    expect(rec.since).toBe(before.startedAt);
    expect(rec.since).toBe(before.recovery.since);
    // The 1.5 s before the kill and the second before the resume count: the clock is not the resumed process's.
    expect(rec.elapsedMs).toBeGreaterThanOrEqual(2500);
    expect(Math.abs(rec.elapsedMs - (after.session.endedAt - after.session.startedAt))).toBeLessThan(1000);
    expect(rec.text).toBe(`recovered in ${Math.floor(rec.elapsedMs / 1000)}s (objective 15m: met)`);
  }, 60_000);

  it('the system time set forward an hour mid-rollback: the recorded times span an hour, the verdict is still met', async () => {
    const ws = new Workspace({ repo: repo.dir });
    const T0 = Date.UTC(2026, 11, 6, 14, 0, 0);
    let wall = T0;
    let mono = 1000;
    let reads = 0;
    const clock = {
      // Each reading moves both on by 100 ms; after the session has started, the wall clock jumps an hour ahead.
      now: () => {
        mono += 100;
        if (++reads === 3) wall += 3_600_000;
        return (wall += 100);
      },
      monotonic: () => mono,
    };
    const sink = () => ({ write: () => true }) as unknown as NodeJS.WriteStream;
    const io: AppIO = { ...processIO(), stdout: sink(), stderr: sink(), env: {}, isTerminal: () => false };
    const ctx = appContext(() => ws, { io, clock, identity: { operator: 'carol', host: 'box' } });
    repo.write('started', '');
    const code = await runChecklist(ctx, { checklist: 'timed', params: {}, yes: ['all'] }, { nonInteractive: true, yes: ['all'] });
    expect(code).toBe(0);
    const store = await ws.openStore();
    const [s] = await store.listSessions(1);
    const events = await store.readEvents(s.id);
    const first = events[0];
    const last = events.at(-1)!;
    expect(last.type).toBe('session.finished');
    expect(last.time - first.time).toBeGreaterThan(3_600_000);
    const report = renderText(events);
    const m = /Recovery: {4}recovered in (\S+) \(objective 15m: met\)/.exec(report);
    expect(m, report).not.toBeNull();
    expect(m![1]).toMatch(/^\d+s$/); // seconds, not the hour the wall clock jumped
    await ws.close();
  });
});

const info = prometheusTest();

describe.skipIf(!info.ok)(`a rollback started from a watch's breach${info.skipReason}`, () => {
  let failing: MetricsService;
  let prom: PromServer;

  beforeAll(async () => {
    ({ svc: failing, prom: prom } = await startWatchedService());
    await paymentsFlowing(prom);
  }, 60_000);
  afterAll(cleanupPrometheusHarness);

  it(
    "run rollback-code --recovery-since <watch session>: the clock counts from the watch's breach, and the log says which and why",
    { timeout: 60_000 },
    async () => {
      await runBreachedWatch(repo.dir, prom, failing);
      // (The watch wrote its own config: the deploy section again, for the rollback.)
      appendFileSync(path.join(repo.dir, 'cockpit.config.yaml'), deployConfig);
      const watchId = newest('watch');
      const breach = JSON.parse(show(watchId, 'json')).events.find((e: Ev) => e.type === 'watch.breach');
      expect(breach.data.advice).toBe('rollback');

      // A checklist with no objective has no clock to start.
      const refused = cockpit(['--repo', repo.dir, 'run', 'watch', '--recovery-since', watchId, '--non-interactive'], { cwd: repo.dir });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain("--recovery-since: 'watch' has no recovery objective");

      await new Promise((r) => setTimeout(r, 1000));
      const r = cockpit(
        [
          '--repo',
          repo.dir,
          'run',
          'rollback-code',
          '-p',
          'version=1.0.0',
          '--recovery-since',
          watchId.slice(0, 17),
          '--non-interactive',
          '--yes',
          'all',
        ],
        { cwd: repo.dir },
      );
      expect(r.code, r.stderr + r.stdout).toBe(0);
      const id = newest('rollback-code');
      const json = JSON.parse(show(id, 'json'));
      const rec = json.session.recovery;
      expect(rec).toMatchObject({
        from: 'breach',
        since: breach.data.t,
        breach: { session: watchId, rule: 'payment_failure_ratio_high', t: breach.data.t },
        state: 'recovered',
        met: true,
      });
      // Counted from the breach: longer than the rollback session itself.
      expect(rec.elapsedMs).toBeGreaterThan(json.session.endedAt - json.session.startedAt + 900);
      const text = show(id, 'text');
      const at = new Date(breach.data.t)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z');
      expect(text).toContain(
        `Clock from:  ${at}: counted from the breach of 'payment_failure_ratio_high' in the watch of session ${watchId}`,
      );
      expect(text).toContain(`Recovery:    recovered in ${Math.floor(rec.elapsedMs / 1000)}s (objective 15m: met)`);
    },
  );
});

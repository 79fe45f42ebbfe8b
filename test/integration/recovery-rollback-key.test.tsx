import { spawnSync } from 'node:child_process';
import { render } from 'ink-testing-library';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { closeStores } from '../../src/cli/open-stores.js';
import { Workspace } from '../../src/cli/setup.js';
import { workspaceServices } from '../../src/cli/tui.js';
import type { LiveSession } from '../../src/engine/live.js';
import { anchorsWritten } from '../../src/engine/pending-anchors.js';
import { App } from '../../src/tui/App.js';
import { noColorTheme } from '../../src/tui/theme.js';
import { cockpit, tempRepo } from '../helpers/cli.js';
import { frame, KEY, press, type, waitFor, type Rendered } from '../helpers/ink.js';
import {
  cleanupPrometheusHarness,
  paymentsFlowing,
  prometheusTest,
  runBreachedWatch,
  startWatchedService,
  type MetricsService,
  type PromServer,
} from '../helpers/prometheus.js';

// R on a watch that breached: the rollback checklist it opens is timed from the breach, not from the moment the
// operator got to press R. A real watch (Prometheus scraping a metrics service whose payments fail), the real
// screens, engine and audit log; only the terminal is ink-testing-library's.

const info = prometheusTest();

type Ev = Record<string, any>;

describe.skipIf(!info.ok)(`R on a breached watch${info.skipReason}`, () => {
  let failing: MetricsService;
  let prom: PromServer;
  let repo: ReturnType<typeof tempRepo>;
  let app: Rendered | null = null;
  const sessions: LiveSession[] = [];

  beforeAll(async () => {
    ({ svc: failing, prom: prom } = await startWatchedService());
    await paymentsFlowing(prom);
  }, 60_000);
  afterAll(cleanupPrometheusHarness);

  beforeEach(() => {
    process.env.COCKPIT_OPERATOR = 'alice';
    repo = tempRepo();
    const git = (...args: string[]) =>
      spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: repo.dir });
    git('commit', '-q', '--allow-empty', '-m', 'first release');
    git('tag', '-a', 'v1.0.0', '-m', 'v1.0.0');
  });
  afterEach(async () => {
    for (const s of sessions.splice(0)) await s.stop();
    app?.unmount();
    app = null;
    await anchorsWritten();
    await closeStores();
    repo.cleanup();
  });

  it("opens rollback-code with the watch's breach as the clock's start, recorded with why", { timeout: 90_000 }, async () => {
    await runBreachedWatch(repo.dir, prom, failing);
    const [watchRow] = JSON.parse(cockpit(['--repo', repo.dir, 'audit', 'list', '--json']).stdout);
    const watchEvents: Ev[] = JSON.parse(cockpit(['--repo', repo.dir, 'audit', 'show', watchRow.id, '--format', 'json']).stdout).events;
    const breach = watchEvents.find((e) => e.type === 'watch.breach')!;

    // The watch on screen again (resumed), then R, yes, the form, enter.
    const ws = new Workspace({ repo: repo.dir });
    const services = workspaceServices(ws, (s) => sessions.push(s));
    const controls = await services.resume(watchRow.id);
    app = render(<App services={services} initial={{ name: 'session', controls }} theme={noColorTheme} onExit={() => undefined} />);
    await waitFor(app, 'R rollback');
    await press(app, 'R');
    await waitFor(app, 'Start the rollback (rollback-code)? This watch stops; it stays resumable.');
    await press(app, 'y');
    await waitFor(app, `Its recovery clock counts from the breach in the watch of session ${watchRow.id}.`);
    // The version is suggested from git once the form is up; typed when it is not.
    await new Promise((r) => setTimeout(r, 500));
    if (!/1\.0\.0/.test(frame(app))) await type(app, '1.0.0');
    await press(app, KEY.enter);
    const f = await waitFor(app, 'Does at least one rollback criterion apply?', 20_000);
    expect(f.split('\n')[1]).toMatch(/^recovery \d+s \/ 15m \(\d+m\d*s? left\)/);

    const store = await ws.openStore();
    const rows = await store.listSessions(5);
    const rollback = rows.find((s) => s.checklistId === 'rollback-code')!;
    const [started] = await store.readEvents(rollback.id);
    expect(started.data).toMatchObject({
      recovery: {
        objective: '15m',
        from: 'breach',
        since: breach.data.t,
        breach: { session: watchRow.id, rule: 'payment_failure_ratio_high', t: breach.data.t },
      },
    });
    expect((started.data as { recovery: { reason: string } }).recovery.reason).toContain(
      `counted from the breach of 'payment_failure_ratio_high' in the watch of session ${watchRow.id}`,
    );
  });
});

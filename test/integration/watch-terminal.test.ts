import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cockpit, tempRepo } from '../helpers/cli.js';
import {
  cleanupPrometheusHarness,
  pollUntil,
  prometheusTest,
  promValue,
  startWatchedService,
  type MetricsService,
  type PromServer,
} from '../helpers/prometheus.js';
import { frameProblem, Tmux } from '../helpers/tmux.js';

// `cockpit watch` in a real terminal (tmux, 100x30) against a real Prometheus scraping a real metrics service: the
// checklist screen with the monitor panel, a breach as the service's database CPU climbs, R → the rollback form.

const tmuxOk = Tmux.available();
if (!tmuxOk.ok && process.env.CI === 'true') throw new Error(`CI needs a real terminal for these tests: ${tmuxOk.why}`);
const prom = prometheusTest();
const skipWhy = !tmuxOk.ok ? ` (skipped: ${tmuxOk.why})` : prom.skipReason;

const W = 100;
const H = 30;

describe.skipIf(!tmuxOk.ok || !prom.ok)(`cockpit watch in a real terminal (tmux ${W}x${H}) against a real Prometheus${skipWhy}`, () => {
  let svc: MetricsService;
  let server: PromServer;
  let repo: ReturnType<typeof tempRepo>;
  let home: string;
  let term: Tmux | undefined;
  const problems: string[] = [];

  beforeAll(async () => {
    ({ svc: svc, prom: server } = await startWatchedService({ dbCpuPercent: 35 }));
    // The 5 s window full of scrapes: the database CPU reads its 35 % (a young Prometheus reads it higher).
    await pollUntil(
      () => promValue(server.url, '100 * (1 - avg(rate(node_cpu_seconds_total{job="db",mode="idle"}[5s])))'),
      (v) => v !== null && Math.abs(v - 35) < 2,
      {
        what: 'the database CPU to read 35 %',
        timeoutMs: 20_000,
      },
    );
    repo = tempRepo();
    // The URL here is a dead one: --prometheus replaces it.
    repo.write(
      'cockpit.config.yaml',
      [
        'watch:',
        '  prometheus:',
        '    url: http://127.0.0.1:9',
        '  window: 5s',
        '  disable: [error_rate_increase, latency_p95_increase]',
        '',
      ].join('\n'),
    );
    home = mkdtempSync(path.join(os.tmpdir(), 'cockpit-watch-home-'));
  }, 60_000);
  afterAll(async () => {
    term?.kill();
    repo?.cleanup();
    if (home) rmSync(home, { recursive: true, force: true });
    await cleanupPrometheusHarness();
  });

  /** Wait for a screen; every screen polled on the way must fit, the one waited for (once settled) must end with the status bar. */
  async function until(pred: (s: string) => boolean, what: string, timeoutMs = 15_000): Promise<string> {
    let s = await term!.waitFor(
      (x) => {
        const p = frameProblem(x, W, H, { statusBar: false });
        if (p && !problems.some((y) => y.startsWith(p))) problems.push(`${p} — while waiting for ${what}:\n${x}`);
        return pred(x);
      },
      what,
      timeoutMs,
    );
    s = await term!.settled(s);
    expect(pred(s), `${what}, once the screen settled:\n${s}`).toBe(true);
    expect(frameProblem(s, W, H), s).toBeNull();
    return s;
  }

  it(
    'the monitor panel: rules, values, countdown, connection; a breach as the DB CPU climbs; R + y → the rollback form; quit from home: exit 0, the watch resumable',
    { timeout: 60_000 },
    async () => {
      term = new Tmux(`${process.execPath} ${BIN} watch --prometheus ${server.url} --duration 30s --interval 1s`, {
        cwd: repo.dir,
        env: { NO_COLOR: '1', COCKPIT_OPERATOR: 'alice', HOME: home },
        width: W,
        height: H,
      });

      // The checklist screen opens on the watch step, the panel taking the whole width, once samples have come in.
      // (The first sample of "failed payments since the deploy" has no data: increase() over [1s]. The next one has.)
      let s = await until(
        (x) => /^✔ Any failed payment\s+0\s/m.test(x) && /Database CPU over 80%\s+\d+(\.\d+)?%/.test(x),
        'the panel with values',
      );
      expect(s).toMatch(/^\[RUNNING\] Post-deploy watch \(Prometheus\) \[watch\] duration=30s interval=1s stop_on_breach=false/m);
      expect(s).toMatch(/operator alice/);
      expect(s).toMatch(/^Watch since \d\d:\d\d:\d\dZ · \d+(\.\d)?s left of 30s \[[█░]+\] · every 1(\.0)?s · \d+ samples/m);
      expect(s).toContain(`● Prometheus up · ${server.url}`);
      expect(s).toMatch(/^\s+Rule\s+Value\s+Baseline\s+Change\s+Alert when\s+Recent\s+Now$/m);
      expect(s).toMatch(/^✔ Any failed payment\s+0\s.*> 0\s.*ok$/m);
      expect(s).toMatch(/^✔ Payment failures over 1% of transac… 0%\s.*> 1%\s.*ok$/m);
      expect(s).toMatch(/^✔ Database CPU over 80%\s+3\d(\.\d+)?%\s.*> 80%\s.*ok$/m);
      expect(s).toContain('Breaches and recoveries: none');
      expect(s).toMatch(/RUNNING\s+n note\s+R rollback\s+a abort\s+\? help\s+q quit/);

      // The database CPU climbs to 95 %: over 80 % for 3 samples in a row is a breach.
      await svc.set({ dbCpuPercent: 95 });
      s = await until((x) => x.includes('BREACHED') && x.includes('✖ ALERT'), 'the breach', 25_000);
      expect(s).toMatch(/^✖ Database CPU over 80%\s+\d+(\.\d+)?%\s.*BREACHED$/m);
      expect(s).toMatch(/^\d\d:\d\d:\d\dZ ✖ ALERT Database CPU over 80%: database CPU \d+(\.\d+)?% is over the limit 80%/m);
      expect(s).toContain('Breaches and recoveries (1 breach; newest last)');
      expect(s).toMatch(/^✔ Payment failures over 1% of transac… /m); // the others stay green
      expect(s).toMatch(/^\[RUNNING\]/m); // without --headless the watch goes on after a breach

      // R asks first; y stops the watch and opens the rollback checklist's parameter form.
      term.send('R');
      s = await until(
        (x) => x.includes('Start the rollback (rollback-code)? This watch stops; it stays resumable.'),
        'the rollback question',
      );
      expect(s).toMatch(/ASK\s+y yes\s+n no/);
      term.send('y');
      s = await until((x) => x.includes('Start Code rollback [rollback-code]'), 'the rollback form');
      // The version is optional: left empty, the rollback finds the last stable version itself.
      expect(s).toMatch(/^› version\s+█\s+a version like/m);
      expect(s).toMatch(/FORM\s+↵ start/);

      // Esc leaves the form for home, where the stopped watch is listed as resumable; q quits. Nothing runs any
      // more, so the exit is 0 (README, "Exit codes"); what was stopped is printed below.
      term.send('Escape');
      s = await until((x) => x.includes(' Sessions (1'), 'the home screen');
      expect(s).toMatch(/watch\s+stopped \(resumable\)/);
      term.send('q');
      expect(await term.waitForExit()).toBe(0);
      const after = term.screen({ joined: true });
      const m =
        /^session (\S+) \(Post-deploy watch \(Prometheus\)\) stopped \((\w+)\); continue it with: (?:npx )?cockpit .*resume (\S+)$/m.exec(
          after,
        );
      expect(m, after).not.toBeNull();
      expect(m![3]).toBe(m![1]);
      expect(problems).toEqual([]);

      const list = cockpit(['--repo', repo.dir, 'audit', 'list', '--json']);
      expect(list.code, list.stderr).toBe(0);
      const sessions = JSON.parse(list.stdout) as Array<Record<string, string>>;
      expect(sessions).toHaveLength(1);
      expect(sessions[0]).toMatchObject({ id: m![1], checklist: 'watch', operator: 'alice' });
      expect(sessions[0].status).toContain('resumable');
      const show = cockpit(['--repo', repo.dir, 'audit', 'show', m![1], '--format', 'json']);
      expect(show.code, show.stderr).toBe(0);
      const events = (JSON.parse(show.stdout) as { events: Array<{ type: string; data: Record<string, unknown> }> }).events;
      expect(events.filter((e) => e.type === 'watch.breach').map((e) => e.data.rule)).toEqual(['db_cpu_high']);
      expect(events.some((e) => e.type === 'watch.finished')).toBe(false); // stopped, not over: it continues its hour on resume
    },
  );
});

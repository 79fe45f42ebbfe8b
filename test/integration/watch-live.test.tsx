import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { render } from 'ink-testing-library';
import { SqliteAuditStore } from '../../src/audit/sqlite.js';
import { Workspace } from '../../src/cli/setup.js';
import { workspaceServices } from '../../src/cli/tui.js';
import { App } from '../../src/tui/App.js';
import { noColorTheme } from '../../src/tui/theme.js';
import { cockpit, cockpitAsync, jsonLines, tempRepo } from '../helpers/cli.js';
import { press, waitFor } from '../helpers/ink.js';
import {
  cleanupPrometheusHarness,
  pollUntil,
  prometheusTest,
  promValue,
  startMetricsService,
  startPrometheus,
  type MetricsService,
  type PromServer,
} from '../helpers/prometheus.js';

// The post-deploy watch, live: `cockpit watch --headless` (a real child process) against a real Prometheus scraping
// a real metrics service every second. The baseline rules are off (a fresh Prometheus has no hour before the
// deploy) and the rate window is 10 s, so that the rates follow a change within seconds.

const info = prometheusTest();

type Ev = Record<string, any>;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** `cockpit …` as a child process, without blocking this one; `onStdout` sees the output as it comes (to kill it mid-run). */
function run(
  args: string[],
  opts: { cwd: string; env?: Record<string, string>; onStdout?: (soFar: string, kill: () => void) => void; timeoutMs?: number },
): Promise<Run> {
  const started = Date.now();
  const child = cockpitAsync(args, { cwd: opts.cwd, env: opts.env });
  let stdout = '';
  let stderr = '';
  const kill = () => child.kill('SIGKILL');
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    opts.onStdout?.(stdout, kill);
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(kill, opts.timeoutMs ?? 45_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

const events = (stdout: string): Ev[] => jsonLines(stdout).filter((e) => typeof e.type === 'string');
const ofType = (evs: Ev[], type: string): Ev[] => evs.filter((e) => e.type === type);
const why = (r: Run) =>
  `exit ${r.code} (${r.signal ?? 'no signal'}) after ${r.ms} ms\nstderr:\n${r.stderr}\nstdout (last lines):\n${r.stdout.split('\n').slice(-8).join('\n')}`;

function config(url: string, extra: string[] = [], disable = ['error_rate_increase', 'latency_p95_increase']): string {
  return ['watch:', '  prometheus:', `    url: ${url}`, ...extra, '  window: 10s', `  disable: [${disable.join(', ')}]`, ''].join('\n');
}

function sessions(dir: string): Array<Record<string, string>> {
  const r = cockpit(['--repo', dir, 'audit', 'list', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

function show(dir: string, id: string): { text: string; events: Ev[] } {
  const r = cockpit(['--repo', dir, 'audit', 'show', id, '--format', 'json']);
  expect(r.code, r.stderr).toBe(0);
  return { text: r.stdout, events: (JSON.parse(r.stdout) as { events: Ev[] }).events };
}

/** A TCP port nothing listens on (taken from the kernel, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** A pass-through to Prometheus that notes the Authorization header of each query (Prometheus itself ignores it). */
async function recordingProxy(target: string): Promise<{ url: string; auth: string[]; close(): Promise<void> }> {
  const auth: string[] = [];
  const to = new URL(target);
  const srv = http.createServer((req, res) => {
    auth.push(String(req.headers.authorization ?? ''));
    const up = http.request(
      { host: to.hostname, port: to.port, path: req.url, method: req.method, headers: { ...req.headers, host: to.host } },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, auth, close: () => new Promise((r) => srv.close(() => r())) };
}

describe.skipIf(!info.ok)(`cockpit watch, live against a real Prometheus${info.skipReason}`, () => {
  let healthy: MetricsService;
  let failing: MetricsService;
  let prom: PromServer;
  let repo: ReturnType<typeof tempRepo>;

  beforeAll(async () => {
    // Two services, one Prometheus: jobs app/db (healthy, the defaults) and app-b/db-b (the one whose payments fail).
    [healthy, failing] = await Promise.all([
      startMetricsService({ rps: 50, paymentsPerSec: 10 }),
      startMetricsService({ rps: 50, paymentsPerSec: 10 }),
    ]);
    prom = await startPrometheus({
      scrape: [
        { job: 'app', target: healthy.target },
        { job: 'db', target: healthy.target, path: '/db-metrics' },
        { job: 'app-b', target: failing.target },
        { job: 'db-b', target: failing.target, path: '/db-metrics' },
      ],
    });
    // Enough scrapes in the 10 s window for the payment guard (≥ 20 transactions) from the first sample on.
    for (const job of ['app', 'app-b']) {
      await pollUntil(
        () => promValue(prom.url, `sum(increase(payments_total{job="${job}"}[10s]))`),
        (v) => v !== null && v >= 30,
        {
          what: `payments in the 10 s window of job ${job}`,
          timeoutMs: 20_000,
        },
      );
    }
  }, 60_000);
  afterAll(cleanupPrometheusHarness);

  beforeEach(() => {
    repo = tempRepo();
  });
  afterEach(() => repo.cleanup());

  it(
    'a healthy service: exit 0 after --duration; JSON lines with each sample (resolved query, time, raw value, verdict, reason); recorded, succeeded, intact',
    { timeout: 30_000 },
    async () => {
      // No vars: the job labels default to app and db.
      repo.write('cockpit.config.yaml', config('http://127.0.0.1:9'));
      const r = await run(['watch', '--headless', '--prometheus', prom.url, '--duration', '6s', '--interval', '1s'], { cwd: repo.dir });
      expect(r.code, why(r)).toBe(0);
      expect(r.ms).toBeGreaterThan(4_000); // it watched; it did not stop early
      expect(r.stderr).toBe('');

      const evs = events(r.stdout);
      expect(evs.length).toBe(r.stdout.trim().split('\n').length); // every line is JSON
      const [started] = ofType(evs, 'watch.started');
      expect(started.data).toMatchObject({ intervalMs: 1000, prometheus: prom.url });
      expect(started.data.until - started.data.since).toBe(6_000);
      expect(started.data.rules.map((x: Ev) => x.id)).toEqual(['failed_payments_any', 'payment_failure_ratio_high', 'db_cpu_high']);

      const samples = ofType(evs, 'watch.sample');
      expect(samples.length).toBeGreaterThanOrEqual(3 * 5);
      for (const s of samples) {
        const d = s.data;
        expect(d.query, d.query).not.toContain('$');
        expect(d.query).toMatch(d.rule === 'db_cpu_high' ? /job="db"/ : /job="app"/);
        expect(d.t).toBeGreaterThanOrEqual(started.data.since);
        expect(d.t).toBeLessThanOrEqual(started.data.until);
        expect(['pass', 'inconclusive']).toContain(d.verdict);
        expect(d.reason.length).toBeGreaterThan(10);
        if (d.raw !== null && d.value !== null) expect(Number(d.raw)).toBeCloseTo(d.value, 9);
      }
      const cpu = samples.filter((s) => s.data.rule === 'db_cpu_high');
      expect(cpu.length).toBeGreaterThanOrEqual(5);
      for (const s of cpu) {
        expect(s.data.query).toMatch(/^100 \* \(1 - .*rate\(node_cpu_seconds_total\{job="db",mode="idle"\}\[10s\]\)/);
        expect(s.data).toMatchObject({ verdict: 'pass', raw: expect.stringMatching(/^\d+(\.\d+)?$/) });
        // 35 % once the 10 s window is full of scrapes; a young Prometheus reads it higher (rate() over a part-empty window).
        expect(s.data.value).toBeGreaterThan(34);
        expect(s.data.value).toBeLessThan(80);
        expect(s.data.reason).toMatch(/^database CPU [\d.]+% is within the limit 80%/);
      }
      // The evaluation times are the watch's ticks, one interval apart.
      const ts = cpu.map((s) => s.data.t);
      for (let i = 1; i < ts.length; i++) expect(ts[i] - ts[i - 1]).toBe(1000);
      const pay = samples.filter((s) => s.data.rule === 'payment_failure_ratio_high');
      expect(pay.every((s) => s.data.verdict === 'pass' && s.data.value === 0 && s.data.traffic >= 20)).toBe(true);
      expect(ofType(evs, 'watch.breach')).toEqual([]);
      expect(ofType(evs, 'watch.connection').map((e) => e.data.state)).toEqual(['up']);
      const [finished] = ofType(evs, 'watch.finished');
      expect(finished.data).toMatchObject({ verdict: 'pass', advice: [] });
      expect(finished.data.text).toMatch(/^PASS: \d samples per rule/);
      expect(evs.at(-1)).toMatchObject({ type: 'session.finished', data: { outcome: 'succeeded' } });

      const list = sessions(repo.dir);
      expect(list).toHaveLength(1);
      expect(list[0]).toMatchObject({ id: started.sessionId, checklist: 'watch', status: 'succeeded', operator: 'tester' });
      const verify = cockpit(['--repo', repo.dir, 'audit', 'verify']);
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
      expect(verify.stdout).toContain('audit log intact');

      // Whoever replays it later sees the monitor panel as it was, from the audit log alone.
      const store = new SqliteAuditStore(`${repo.dir}/.cockpit/audit.db`);
      try {
        const events = await store.readEvents(started.sessionId);
        const app = render(
          <App
            services={workspaceServices(new Workspace({ repo: repo.dir }), () => undefined)}
            initial={{ name: 'replay', sessionId: started.sessionId, events }}
            theme={noColorTheme}
            onExit={() => undefined}
          />,
        );
        try {
          await press(app, 'G');
          const f = await waitFor(app, /Watch since .* · PASS: the 6(\.0)?s watch is over/);
          expect(f).toMatch(/Database CPU over 80%\s+\d+(\.\d+)?%\s+/);
          expect(f).toMatch(/REPLAY/);
        } finally {
          app.unmount();
        }
      } finally {
        await store.close();
      }
    },
  );

  it(
    'payment failures at 5%: exit 1 at the first breach, long before --duration 60s; the advice is a rollback, in the policy’s words',
    { timeout: 45_000 },
    async () => {
      repo.write(
        'cockpit.config.yaml',
        config(prom.url, ['  vars: { job: app-b, dbJob: db-b }'], ['error_rate_increase', 'latency_p95_increase', 'failed_payments_any']),
      );
      await failing.set({ paymentFailureRatio: 0.05 });
      try {
        const r = await run(['watch', '--headless', '--duration', '60s', '--interval', '1s'], { cwd: repo.dir });
        expect(r.code, why(r)).toBe(1);
        expect(r.ms).toBeLessThan(30_000);

        const evs = events(r.stdout);
        const breaches = ofType(evs, 'watch.breach');
        expect(breaches).toHaveLength(1);
        expect(breaches[0].data).toMatchObject({
          rule: 'payment_failure_ratio_high',
          advice: 'rollback',
          policy: 'Payment processing failures exceed 1% of transactions',
        });
        expect(breaches[0].data.reason).toMatch(
          /^Payment failures over 1% of transactions: payment failures [\d.]+%( \([\d.e-]+\))? is over the limit 1%.*\(2 failing samples in a row\)$/,
        );
        // Stopped at once: no tick after the breach's.
        const samples = ofType(evs, 'watch.sample');
        expect(Math.max(...samples.map((s) => s.data.t))).toBe(breaches[0].data.t);
        const fails = samples.filter((s) => s.data.rule === 'payment_failure_ratio_high' && s.data.verdict === 'fail');
        expect(fails.length).toBe(2);
        expect(fails.every((s) => s.data.value > 0.01 && s.data.query.includes('job="app-b"'))).toBe(true);

        const [finished] = ofType(evs, 'watch.finished');
        expect(finished.data.verdict).toBe('fail');
        expect(finished.data.text).toMatch(
          /^FAIL: 1 of 2 rules breached: Payment failures over 1% of transactions\..*\(stopped at the first breach\)$/,
        );
        expect(finished.data.advice).toHaveLength(1);
        expect(finished.data.advice[0]).toMatch(/rollback/i);
        expect(finished.data.advice[0]).toContain('"Payment processing failures exceed 1% of transactions"');
        const failed = ofType(evs, 'step.failed')[0];
        expect(failed.data.reason).toContain('cockpit run rollback-code');
      } finally {
        await failing.set({ paymentFailureRatio: 0 });
      }
    },
  );

  it(
    'killed mid-watch and run again: the same session continues the same hour, no sample measured twice, then finishes',
    { timeout: 45_000 },
    async () => {
      repo.write('cockpit.config.yaml', config(prom.url));
      const args = ['watch', '--headless', '--duration', '12s', '--interval', '1s'];
      let killedAt = 0;
      const first = await run(args, {
        cwd: repo.dir,
        onStdout: (soFar, kill) => {
          // SIGKILL once ~4 s of samples are recorded (each line is written after it is in the audit log).
          if (!killedAt && ofType(events(soFar.slice(0, soFar.lastIndexOf('\n') + 1)), 'watch.sample').length >= 3 * 4) {
            killedAt = Date.now();
            kill();
          }
        },
      });
      expect(first.signal, why(first)).toBe('SIGKILL');
      const before = events(first.stdout);
      const [start1] = ofType(before, 'watch.started');
      const since = start1.data.since;
      expect(ofType(before, 'watch.finished')).toEqual([]);
      expect(sessions(repo.dir)).toMatchObject([
        { id: start1.sessionId, checklist: 'watch', status: expect.stringContaining('resumable') },
      ]);

      const second = await run(args, { cwd: repo.dir });
      expect(second.code, why(second)).toBe(0);
      expect(second.stderr).toMatch(
        new RegExp(`^continuing the watch started .* \\(session ${start1.sessionId}, crashed \\(resumable\\)\\): its hour is not over`),
      );
      // It ends with the hour, not 12 s after it was started again.
      expect(Date.now() - killedAt).toBeLessThan(12_000);

      const list = sessions(repo.dir);
      expect(list).toHaveLength(1);
      expect(list[0]).toMatchObject({ id: start1.sessionId, checklist: 'watch', status: 'succeeded' });

      const all = show(repo.dir, start1.sessionId).events;
      const starts = ofType(all, 'watch.started');
      expect(starts.map((e) => [e.data.since, e.data.until, !!e.data.resumed])).toEqual([
        [since, since + 12_000, false],
        [since, since + 12_000, true],
      ]);
      expect(all.some((e) => e.type === 'session.resumed')).toBe(true);
      // The baselines of the hour were measured once, by the first run.
      expect(ofType(all, 'watch.baseline').every((e) => e.seq < starts[1].seq)).toBe(true);

      const samples = ofType(all, 'watch.sample');
      const resumedAt = starts[1].seq;
      for (const rule of ['failed_payments_any', 'payment_failure_ratio_high', 'db_cpu_high']) {
        const mine = samples.filter((s) => s.data.rule === rule);
        const ts = mine.map((s) => s.data.t);
        expect(new Set(ts).size, `${rule}: ${ts.join(', ')}`).toBe(ts.length);
        for (let i = 1; i < ts.length; i++) expect(ts[i]).toBeGreaterThan(ts[i - 1]);
        const beforeKill = mine.filter((s) => s.seq < resumedAt).map((s) => s.data.t);
        const afterKill = mine.filter((s) => s.seq > resumedAt).map((s) => s.data.t);
        expect(beforeKill.length).toBeGreaterThanOrEqual(4);
        expect(afterKill.length).toBeGreaterThanOrEqual(3);
        expect(Math.min(...afterKill)).toBeGreaterThanOrEqual(Math.max(...beforeKill) + 1000);
        expect(Math.max(...ts)).toBeGreaterThanOrEqual(since + 10_000);
        expect(Math.max(...ts)).toBeLessThanOrEqual(since + 12_000);
      }
      const finished = ofType(all, 'watch.finished');
      expect(finished).toHaveLength(1);
      expect(finished[0].data.verdict).toBe('pass');
      // The summary counts the whole hour, both runs.
      const perRule = Number(/^PASS: (\d+) samples per rule/.exec(finished[0].data.text)?.[1]);
      expect(perRule, finished[0].data.text).toBe(samples.length / 3);
      expect(perRule).toBeGreaterThanOrEqual(10);
      expect(all.at(-1)).toMatchObject({ type: 'session.finished', data: { outcome: 'succeeded' } });
      const verify = cockpit(['--repo', repo.dir, 'audit', 'verify']);
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    },
  );

  it(
    'a bearer token from the environment is sent, and recorded nowhere; without it the step fails naming $PROM_TOKEN',
    { timeout: 30_000 },
    async () => {
      const SECRET = 'some-long-secret-token';
      const proxy = await recordingProxy(prom.url);
      try {
        repo.write('cockpit.config.yaml', config(proxy.url, ['    auth: { bearer: { env: PROM_TOKEN } }']));
        const r = await run(['watch', '--headless', '--duration', '3s', '--interval', '1s'], {
          cwd: repo.dir,
          env: { PROM_TOKEN: SECRET },
        });
        expect(r.code, why(r)).toBe(0);
        expect(proxy.auth.length).toBeGreaterThan(3);
        expect(new Set(proxy.auth)).toEqual(new Set([`Bearer ${SECRET}`]));
        expect(r.stdout).not.toContain(SECRET);
        expect(r.stderr).not.toContain(SECRET);
        const [id] = sessions(repo.dir).map((s) => s.id);
        const json = show(repo.dir, id);
        expect(json.events.some((e) => e.type === 'watch.sample' && e.data.verdict === 'pass')).toBe(true);
        expect(json.text).not.toContain(SECRET);
        const text = cockpit(['--repo', repo.dir, 'audit', 'show', id]);
        expect(text.stdout + text.stderr).not.toContain(SECRET);
        for (const f of ['audit.db', 'audit.db-wal']) {
          const file = `${repo.dir}/.cockpit/${f}`;
          if (existsSync(file)) expect(readFileSync(file).includes(SECRET), file).toBe(false);
        }

        const asked = proxy.auth.length;
        const unset = await run(['watch', '--headless', '--duration', '3s', '--interval', '1s'], {
          cwd: repo.dir,
          env: { PROM_TOKEN: '' },
        });
        expect(unset.code, why(unset)).toBe(1);
        const failed = ofType(events(unset.stdout), 'step.failed');
        expect(failed).toHaveLength(1);
        expect(failed[0].data.reason).toBe("the watch's Prometheus credentials come from $PROM_TOKEN, which is not set");
        expect(ofType(events(unset.stdout), 'watch.sample')).toEqual([]);
        expect(proxy.auth.length).toBe(asked); // nothing was sent without the token
      } finally {
        await proxy.close();
      }
    },
  );

  it(
    'Prometheus unreachable: every sample is an error, never a pass; the connection is down; exit 1 (inconclusive), never 0',
    { timeout: 30_000 },
    async () => {
      const port = await closedPort();
      repo.write('cockpit.config.yaml', config(`http://127.0.0.1:${port}`, ['    timeout: 2s']));
      const r = await run(['watch', '--headless', '--duration', '4s', '--interval', '1s'], { cwd: repo.dir });
      expect(r.code, why(r)).toBe(1);
      const evs = events(r.stdout);
      const samples = ofType(evs, 'watch.sample');
      expect(samples.length).toBeGreaterThanOrEqual(3 * 3);
      for (const s of samples) {
        expect(s.data).toMatchObject({ verdict: 'error', value: null, raw: null });
        expect(s.data.reason).toMatch(/query failed: Prometheus unreachable: connection (refused|reset)/);
      }
      const conn = ofType(evs, 'watch.connection');
      expect(conn.map((e) => e.data.state)).toEqual(['down']);
      expect(conn[0].data.error).toContain(`127.0.0.1:${port}`);
      expect(ofType(evs, 'watch.breach')).toEqual([]);
      const [finished] = ofType(evs, 'watch.finished');
      expect(finished.data.verdict).toBe('inconclusive');
      expect(finished.data.text).toMatch(/^INCONCLUSIVE: .*query errors$/);
      expect(ofType(evs, 'step.failed')[0].data.reason).toContain('missing data is not a pass');
    },
  );
});

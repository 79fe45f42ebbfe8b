// The demo's telemetry, for real: the Property app's scenarios (dist/demo-app.js), the traffic generator
// (dist/demo-traffic.js) and its service, and a real Prometheus scraping the blue/green colours through the deploy
// driver's file_sd lists, read by the watch's built-in queries and by `cockpit watch` itself.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queriesFor, resolveWatchConfig } from '../../src/core/watch/config.js';
import { COCKPIT_CONFIG, RELEASED } from '../../src/demo/history.js';
import { PROMETHEUS_MISSING, prometheusService } from '../../src/demo/prometheus.js';
import {
  FAILED_PAYMENT_RATIO,
  LAST_GOOD_VERSION,
  SLOW_EXTRA_MS,
  faultOf,
  readScenario,
  writeScenario,
} from '../../src/demo/bluegreen/scenario.js';
import type { DemoContext, StartedService } from '../../src/demo/service.js';
import { loopbackUrl, trafficService } from '../../src/demo/traffic.js';
import { ROOT, cockpit, jsonLines } from '../helpers/cli.js';
import { pollUntil, promQuery, prometheusTest } from '../helpers/prometheus.js';

const APP = path.join(ROOT, 'dist', 'demo-app.js');
const DEPLOY = path.join(ROOT, 'dist', 'demo-deploy.js');
const TRAFFIC = path.join(ROOT, 'dist', 'demo-traffic.js');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Running and not a zombie (PID 1 in the container may never reap). */
const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};
const rssMb = (pid: number) => {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const started: ChildProcess[] = [];

/** dist/demo-app.js on a free port, once it says it listens. */
async function startApp(version: string, scenario?: string): Promise<string> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [APP, '--port', String(port), '--version', version, ...(scenario ? ['--scenario', scenario] : [])],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  started.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('listening') && resolve());
    child.on('exit', (code) => reject(new Error(`demo-app exited ${code}`)));
  });
  return `http://127.0.0.1:${port}`;
}

interface Answer {
  status: number;
  ms: number;
  body: string;
}
const agent = new http.Agent({ keepAlive: true, maxSockets: 20 });
function request(url: string, body?: unknown): Promise<Answer> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const data = body === undefined ? null : JSON.stringify(body);
    const req = http.request(
      url,
      { method: data ? 'POST' : 'GET', agent, headers: data ? { 'content-type': 'application/json' } : {} },
      (res) => {
        let b = '';
        res.on('data', (d: Buffer) => (b += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0, body: b }));
      },
    );
    req.on('error', reject);
    req.end(data ?? undefined);
  });
}
/** `n` requests, `at` at once. */
async function many(n: number, at: number, one: () => Promise<Answer>): Promise<Answer[]> {
  const out: Answer[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: at }, async () => {
      while (next++ < n) out.push(await one());
    }),
  );
  return out;
}
const metric = (text: string, re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);

afterAll(() => {
  agent.destroy();
  for (const c of started) c.kill('SIGKILL');
});

describe("the Property app's scenarios", () => {
  it('bad-payments fails 2% of valid payments (every 50th), each a 500 counted as payments_total{result="failed"}', async () => {
    const url = await startApp('1.4.0', 'bad-payments');
    const answers = await many(1000, 20, () => request(`${url}/api/payments`, { amount_cents: 12_500 }));
    const failed = answers.filter((a) => a.status === 500);
    expect(answers.filter((a) => a.status === 201).length + failed.length).toBe(1000);
    // 2%, spread evenly: 20 of 1000.
    expect(failed.length).toBe(1000 * FAILED_PAYMENT_RATIO);
    expect(JSON.parse(failed[0].body)).toMatchObject({ status: 'failed' });
    const metrics = (await request(`${url}/metrics`)).body;
    expect(metric(metrics, /^payments_total\{result="failed"[^}]*\} (\d+)$/m)).toBe(failed.length);
    expect(metric(metrics, /^payments_total\{result="ok"[^}]*\} (\d+)$/m)).toBe(1000 - failed.length);
    expect(metric(metrics, /^http_request_duration_seconds_count\{[^}]*route="\/api\/payments",status_code="500"[^}]*\} (\d+)$/m)).toBe(
      failed.length,
    );
    console.log(`bad-payments: ${failed.length} of 1000 payments failed (${FAILED_PAYMENT_RATIO * 100}% expected)`);

    // Without the scenario, the same payments all pass; the failed series is there from the start.
    const plain = await startApp('1.3.0');
    const ok = await many(200, 20, () => request(`${plain}/api/payments`, { amount_cents: 12_500 }));
    expect(ok.every((a) => a.status === 201)).toBe(true);
    expect((await request(`${plain}/metrics`)).body).toMatch(/^payments_total\{result="failed",[^}]*\} 0$/m);
  });

  it('slow adds 300 ms to listings and search; the metrics have the three flows and node-style CPU counters', async () => {
    const slow = await startApp('1.4.0', 'slow');
    const plain = await startApp('1.3.0');
    const flows = (url: string) => many(10, 10, () => request(`${url}/api/${Math.random() < 0.5 ? 'listings' : 'search?q=lisbon'}`));
    const [s, p] = await Promise.all([flows(slow), flows(plain)]);
    expect(s.every((a) => a.status === 200)).toBe(true);
    expect(Math.min(...s.map((a) => a.ms))).toBeGreaterThanOrEqual(SLOW_EXTRA_MS - 5);
    const median = p.map((a) => a.ms).sort((a, b) => a - b)[5];
    expect(median).toBeLessThan(SLOW_EXTRA_MS / 2);
    const search = JSON.parse((await request(`${plain}/api/search?q=porto`)).body) as { listings: Array<{ city: string }> };
    expect(search.listings.length).toBeGreaterThan(0);
    expect(search.listings.every((l) => l.city === 'Porto')).toBe(true);

    const metrics = (await request(`${plain}/metrics`)).body;
    expect(metrics).toMatch(/^http_request_duration_seconds_count\{[^}]*route="\/api\/search",status_code="200"[^}]*\} [1-9]/m);
    expect(metrics).toMatch(/^node_cpu_seconds_total\{cpu="0",mode="idle"[^}]*\} \d/m);
    // The proxy's health checks and the scrapes are not counted as the users' requests.
    expect(metrics).not.toMatch(/route="\/(health|metrics)"/);
  });

  it('the scenario file decides which versions have the fault: those newer than the last good release', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'scenario-'));
    try {
      expect(LAST_GOOD_VERSION).toBe(RELEASED.tag.slice(1));
      expect(readScenario(dir)).toBeNull();
      mkdirSync(path.join(dir, '.sandbox', 'demo'), { recursive: true });
      const file = path.join(dir, '.sandbox', 'demo', 'scenario');
      writeFileSync(file, 'bad-payments\n');
      const s = readScenario(dir);
      expect([faultOf(s, '1.4.0'), faultOf(s, '1.3.0'), faultOf(s, '1.2.9')]).toEqual(['bad-payments', null, null]);
      writeFileSync(file, 'slow 1.4.0\n');
      expect([faultOf(readScenario(dir), '1.4.0'), faultOf(readScenario(dir), '1.5.0')]).toEqual([null, 'slow']);
      writeFileSync(file, 'none\n');
      expect(readScenario(dir)).toBeNull();
      // What the supervisor writes: the version the demo starts with is the last good one.
      writeScenario(dir, 'bad-payments', '1.4.0');
      expect(readFileSync(file, 'utf8')).toBe('bad-payments 1.4.0\n');
      expect([faultOf(readScenario(dir), '1.4.0'), faultOf(readScenario(dir), '1.4.1')]).toEqual([null, 'bad-payments']);
      writeScenario(dir, 'none');
      expect(readScenario(dir)).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the traffic generator', () => {
  it('refuses any URL that is not a loopback address, and sends nothing there', async () => {
    // A listener on this machine's non-loopback address, if it has one: it must see no connection.
    const external = Object.values(os.networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
    let connections = 0;
    const server = net.createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(0, external ?? '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      for (const url of [
        ...(external ? [`http://${external}:${port}`] : []),
        'http://localhost:8080',
        'http://example.com/',
        'https://127.0.0.1:8443/',
        'http://10.0.0.1/',
      ]) {
        const r = spawnSync(process.execPath, [TRAFFIC, '--target', `production=${url}`], { encoding: 'utf8', timeout: 10_000 });
        expect(r.status, url).toBe(2);
        expect(r.stderr).toContain(url.startsWith('https') ? 'only http://' : 'not a loopback address');
      }
      await sleep(300);
      expect(connections).toBe(0);
      expect(typeof loopbackUrl('http://127.0.0.1:1234')).toBe('object');
      expect(typeof loopbackUrl('http://[::1]:1234')).toBe('object');
      // The service says it before starting anything.
      const ctx = {
        dir: os.tmpdir(),
        stateDir: os.tmpdir(),
        scenario: 'none',
        log: () => {},
        started: {},
        parentPid: process.pid,
      } as const;
      await expect(trafficService({ urls: { production: 'http://192.0.2.1:80' } }).start({ ...ctx })).rejects.toThrow(
        /not a loopback address/,
      );
      // No environment running (here: no deploy script at all): it says so rather than sending nowhere.
      const empty = mkdtempSync(path.join(os.tmpdir(), 'traffic-empty-'));
      try {
        await expect(trafficService().start({ ...ctx, dir: empty, stateDir: empty })).rejects.toThrow(
          /no environment to send traffic to: scripts\/deploy.sh status --env production failed/,
        );
      } finally {
        rmSync(empty, { recursive: true, force: true });
      }
    } finally {
      server.close();
    }
  });

  it('sends a bounded mix of listings, search and payments, and stops by itself when its parent is gone', async () => {
    const url = await startApp('1.3.0');
    const parent = spawn('sleep', ['60'], { stdio: 'ignore' });
    started.push(parent);
    const home = mkdtempSync(path.join(os.tmpdir(), 'traffic-'));
    try {
      const ctx: DemoContext = { dir: home, stateDir: home, scenario: 'none', log: () => {}, started: {}, parentPid: parent.pid! };
      const svc = trafficService({ urls: { production: url }, rps: 40, concurrency: 4, summaryEvery: '1s' });
      const s = await svc.start(ctx);
      const pid = s.processes[0].pid;
      expect(await svc.check(s)).toBe(true);
      await sleep(2500);
      const log = readFileSync(path.join(home, 'traffic', 'traffic.log'), 'utf8');
      expect(log).toContain(`traffic: 40 requests/s to production ${url}`);
      expect(log).toMatch(/production: \d+ requests, \d+ ok, 0 failed; payments [1-9]\d* ok, 0 failed; p95 \d+ ms/);
      const metrics = (await request(`${url}/metrics`)).body;
      for (const route of ['/api/listings', '/api/search', '/api/payments'])
        expect(metrics, route).toMatch(new RegExp(`route="${route}",status_code="20[01]"[^}]*\\} [1-9]`));
      // Bounded: at most its rate (40/s for ~3 s here, with slack for a loaded machine).
      const total = [...metrics.matchAll(/^http_request_duration_seconds_count\{[^}]*route="\/api\/[^}]*\} (\d+)$/gm)].reduce(
        (sum, m) => sum + Number(m[1]),
        0,
      );
      expect(total).toBeGreaterThan(0);
      expect(total).toBeLessThan(40 * 4);

      parent.kill('SIGKILL');
      await pollUntil(
        async () => alive(pid),
        (a) => !a,
        { timeoutMs: 6000, what: 'the traffic generator to exit after its parent' },
      );
      expect(readFileSync(path.join(home, 'traffic', 'traffic.log'), 'utf8')).toContain(
        `traffic stopped: its parent (pid ${parent.pid}) is gone`,
      );
      expect(await svc.check(s)).toMatch(/has stopped/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe('the traffic generator, bounded in time', () => {
  it('stops after its maximum time, and counts what failed', async () => {
    const dead = await freePort(); // nothing listens there: every request is refused
    const child = spawn(
      process.execPath,
      [TRAFFIC, '--target', `production=http://127.0.0.1:${dead}`, '--max-time', '1500ms', '--summary-every', '1s'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    started.push(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code).toBe(0);
    expect(out).toContain('stops after 1.5s');
    expect(out).toMatch(/production: \d+ requests, 0 ok, [1-9]\d* failed \([1-9]\d* ECONNREFUSED\)/);
    expect(out.trim().split('\n').at(-1)).toBe('traffic stopped: it ran for its maximum time (1.5s)');
  });
});

const prom = prometheusTest();
const haveHaproxy = spawnSync('haproxy', ['-v']).status === 0;
if (!haveHaproxy && process.env.CI === 'true') throw new Error('haproxy is required in CI (.ci/run installs it) but is not on the PATH');
const whyNot = prom.ok ? (haveHaproxy ? '' : ' (skipped: haproxy is not installed; apt-get install haproxy)') : prom.skipReason;

describe('the demo Prometheus', () => {
  it('without prometheus on the PATH, says how to install it and that the rest works', async () => {
    const saved = { PATH: process.env.PATH, PROMETHEUS_BIN: process.env.PROMETHEUS_BIN };
    process.env.PATH = '/nonexistent';
    delete process.env.PROMETHEUS_BIN;
    try {
      const ctx: DemoContext = {
        dir: os.tmpdir(),
        stateDir: os.tmpdir(),
        scenario: 'none',
        log: () => {},
        started: {},
        parentPid: process.pid,
      };
      await expect(prometheusService.start(ctx)).rejects.toThrow(PROMETHEUS_MISSING);
    } finally {
      process.env.PATH = saved.PATH;
      if (saved.PROMETHEUS_BIN !== undefined) process.env.PROMETHEUS_BIN = saved.PROMETHEUS_BIN;
    }
    expect(prometheusService.optional).toBe(true);
    expect(PROMETHEUS_MISSING).toContain('apt-get install prometheus');
    expect(PROMETHEUS_MISSING).toContain('Everything else in the demo works without it');
  });

  describe.skipIf(!prom.ok || !haveHaproxy)(`scraping the blue/green colours${whyNot}`, () => {
    let dir = '';
    const services: Array<{ stop: () => void; pids: number[] }> = [];
    const deploy = (...args: string[]) => {
      const r = spawnSync(process.execPath, [DEPLOY, ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
      expect(r.status, `${args.join(' ')}\n${r.stdout}${r.stderr}`).toBe(0);
      return r.stdout;
    };
    beforeAll(() => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'demo-telemetry-'));
      spawnSync('git', ['init', '-q', '-b', 'main'], { cwd: dir });
      writeFileSync(path.join(dir, 'cockpit.config.yaml'), COCKPIT_CONFIG);
      mkdirSync(path.join(dir, '.sandbox', 'demo'), { recursive: true });
      writeFileSync(path.join(dir, '.sandbox', 'demo', 'scenario'), 'bad-payments\n');
    });
    afterAll(() => {
      if (!dir) return;
      const pids: number[] = [];
      for (const env of ['production', 'staging']) {
        const st = spawnSync(process.execPath, [DEPLOY, 'status', '--env', env, '--json'], { cwd: dir, encoding: 'utf8' });
        try {
          const j = JSON.parse(st.stdout) as { proxy: { pid: number | null }; colours: Record<string, { pid: number | null }> };
          pids.push(...[j.proxy.pid, ...Object.values(j.colours).map((c) => c.pid)].filter((p): p is number => !!p));
        } catch {
          /* never deployed */
        }
        spawnSync(process.execPath, [DEPLOY, 'stop', '--env', env], { cwd: dir });
      }
      for (const s of services) {
        s.stop();
        pids.push(...s.pids);
      }
      const until = Date.now() + 10_000;
      while (pids.some(alive) && Date.now() < until) spawnSync('sleep', ['0.1']);
      for (const p of pids.filter(alive)) process.kill(p, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      for (const p of pids) expect(alive(p), `pid ${p} still runs`).toBe(false);
    });

    it("reads every colour through the deploy driver's file_sd lists; the built-in queries give numbers; the watch breaches on the bad payments", async () => {
      expect(deploy('deploy', '1.3.0', '--env', 'staging')).not.toContain('scenario');
      expect(deploy('deploy', '1.3.0', '--env', 'production')).not.toContain('scenario');
      expect(deploy('deploy', '1.4.0', '--env', 'production')).toContain("with the demo's bad-payments scenario");
      const targets = JSON.parse(readFileSync(path.join(dir, '.cockpit', 'bluegreen', 'production', 'targets.json'), 'utf8')) as unknown[];
      expect(targets).toEqual([
        { targets: [expect.stringMatching(/^127\.0\.0\.1:\d+$/)], labels: { env: 'production', colour: 'blue' } },
        { targets: [expect.stringMatching(/^127\.0\.0\.1:\d+$/)], labels: { env: 'production', colour: 'green' } },
      ]);

      const lines: string[] = [];
      const ctx: DemoContext = {
        dir,
        stateDir: path.join(dir, '.sandbox', 'demo'),
        scenario: 'bad-payments',
        log: (l) => lines.push(l),
        started: {},
        parentPid: process.pid,
      };
      const stopPids = (pids: number[]) => () => pids.forEach((p) => alive(p) && process.kill(p, 'SIGTERM'));
      const p: StartedService = await prometheusService.start(ctx);
      services.push({ stop: stopPids(p.processes.map((x) => x.pid)), pids: p.processes.map((x) => x.pid) });
      const url = p.urls!.prometheus;
      expect(p.localConfig).toEqual({ watch: { prometheus: { url } } });
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(lines.join('\n')).toContain(`Prometheus on ${url}`);
      expect(await prometheusService.check(p)).toBe(true);

      // Traffic from the service: its URLs from scripts/deploy.sh status (as the demo does), at 60 requests/s so that
      // the 2% of production's payments fail often enough for a quick test.
      mkdirSync(path.join(dir, 'scripts'), { recursive: true });
      writeFileSync(path.join(dir, 'scripts', 'deploy.sh'), `#!/bin/sh\nexec "${process.execPath}" "${DEPLOY}" "$@"\n`, { mode: 0o755 });
      const traffic = trafficService({ rps: 60 });
      const t = await traffic.start(ctx);
      services.push({ stop: stopPids(t.processes.map((x) => x.pid)), pids: t.processes.map((x) => x.pid) });

      // Both production colours and staging's, each with its env and colour labels, up.
      const up = await pollUntil(
        () => promQuery(url, 'up == 1'),
        (v) => v.length === 3,
        { timeoutMs: 20_000, what: 'three app processes scraped' },
      );
      expect(up.map((s) => `${s.metric.job} ${s.metric.env} ${s.metric.colour}`).sort()).toEqual([
        'property-production production blue',
        'property-production production green',
        'property-staging staging blue',
      ]);

      // Every built-in signal's query (the sandbox config's vars and windows) returns a number.
      const watch = (parse(COCKPIT_CONFIG) as { watch: Record<string, unknown> }).watch;
      const config = resolveWatchConfig({ ...watch, prometheus: { url } });
      expect(Object.keys(config.signals).sort()).toEqual([
        'db_cpu',
        'error_rate',
        'failed_payments',
        'latency_p95',
        'payment_failure_ratio',
      ]);
      expect([config.intervalMs, config.durationMs, config.windowMs]).toEqual([1000, 120_000, 30_000]);
      for (const signal of Object.values(config.signals)) {
        const q = queriesFor(config, signal, { phase: 'current', elapsedSec: 10 });
        const v = await pollUntil(
          () => promQuery(url, q.query),
          (r) => r.length === 1 && Number.isFinite(r[0].value),
          { timeoutMs: 20_000, what: `a number from ${signal.name}: ${q.query}` },
        );
        console.log(`${signal.name}: ${v[0].value}`);
      }

      // Memory with everything up (production's two colours, Prometheus, the traffic generator).
      const st = JSON.parse(deploy('status', '--env', 'production', '--json')) as { colours: Record<string, { pid: number }> };
      const rss = {
        prometheus: rssMb(p.processes[0].pid),
        traffic: rssMb(t.processes[0].pid),
        blue: rssMb(st.colours.blue.pid),
        green: rssMb(st.colours.green.pid),
      };
      console.log(
        `resident memory (MB): ${Object.entries(rss)
          .map(([k, v]) => `${k} ${v.toFixed(1)}`)
          .join(', ')}; total ${Object.values(rss)
          .reduce((a, b) => a + b, 0)
          .toFixed(1)}`,
      );

      // The switch to 1.4.0, then the watch as a user runs it: it breaches "Any failed payment".
      deploy('switch', 'green', '--env', 'production');
      const since = String(Date.now() / 1000);
      const r = cockpit(
        ['--repo', dir, 'watch', '--headless', '--prometheus', url, '--since', since, '--duration', '15s', '-p', 'stop_on_breach=false'],
        {
          cwd: dir,
          timeout: 90_000,
        },
      );
      expect(r.code, r.stderr).toBe(1);
      const events = jsonLines(r.stdout);
      const breaches = events.filter((e) => e.type === 'watch.breach').map((e) => e.data.rule as string);
      expect(breaches).toContain('failed_payments_any');
      const samples = events.filter((e) => e.type === 'watch.sample');
      for (const rule of ['error_rate_increase', 'latency_p95_increase', 'db_cpu_high'])
        expect(
          samples.some((e) => e.data.rule === rule && typeof e.data.value === 'number'),
          rule,
        ).toBe(true);
      const finished = events.find((e) => e.type === 'watch.finished')!;
      expect(finished.data.text).toContain('Any failed payment');
      console.log(`watch: ${finished.data.text}`);

      // The slow scenario on the next version: production's p95 (the built-in query) goes from milliseconds to over
      // 300 ms once it is live, what the latency rule compares with its baseline.
      writeFileSync(path.join(dir, '.sandbox', 'demo', 'scenario'), 'slow\n');
      expect(deploy('deploy', '1.5.0', '--env', 'production')).toContain("with the demo's slow scenario");
      const p95 = queriesFor(config, config.signals.latency_p95, { phase: 'current' }).query;
      const before = await promQuery(url, p95);
      expect(before[0].value).toBeLessThan(0.1);
      deploy('switch', 'blue', '--env', 'production');
      const after = await pollUntil(
        () => promQuery(url, p95),
        (v) => v.length === 1 && v[0].value >= SLOW_EXTRA_MS / 1000,
        { timeoutMs: 20_000, what: 'p95 over 300 ms after the switch to the slow version' },
      );
      console.log(`slow: p95 ${before[0].value} s before the switch, ${after[0].value} s after`);

      // A stopped environment leaves an empty target list.
      deploy('stop', '--env', 'staging');
      expect(JSON.parse(readFileSync(path.join(dir, '.cockpit', 'bluegreen', 'staging', 'targets.json'), 'utf8'))).toEqual([]);
    }, 150_000);
  });
});

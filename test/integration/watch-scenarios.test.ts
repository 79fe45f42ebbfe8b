/**
 * The post-deploy watch against a real Prometheus serving deterministic, backfilled one-hour scenarios
 * (test/helpers/metrics-scenarios.ts): which rule breaches, at which minute after the deploy, and with which numbers.
 *
 * One Prometheus serves every scenario. The built-in queries select by job, so each scenario's series are relabelled
 * to its own jobs (app-<name>, db-<name>) and the CLI runs in a temp repo whose cockpit.config.yaml sets those vars.
 * Backtests run at a 1-minute interval: a tick at every whole minute T+0 … T+60.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cockpit, jsonLines, tempRepo } from '../helpers/cli.js';
import {
  BASELINE,
  counterReset,
  dbCpuHigh,
  DEFAULT_BUCKETS,
  errorSpikeAt,
  failedPaymentAt,
  gapsBetween,
  latencyCreep,
  latencySegments,
  lowTraffic,
  noTrafficBetween,
  paymentFailures,
  SCENARIO_DEPLOY,
  steady,
  type ScenarioOptions,
} from '../helpers/metrics-scenarios.js';
import { buildBlocks, cleanupPrometheusHarness, prometheusTest, startPrometheus, type PromServer } from '../helpers/prometheus.js';
import { prometheusClient } from '../../src/adapters/prometheus.js';
import { Workspace } from '../../src/cli/setup.js';
import { runWatch, simulatedClock } from '../../src/core/watch/run.js';

const info = prometheusTest();

const MIN = 60_000;
const DEPLOY = SCENARIO_DEPLOY.getTime();
const iso = (minute: number) => new Date(DEPLOY + minute * MIN).toISOString();
const minuteOf = (t: number) => (t - DEPLOY) / MIN;

const ALL_RULES = ['error_rate_increase', 'latency_p95_increase', 'failed_payments_any', 'payment_failure_ratio_high', 'db_cpu_high'];
/** Rules whose signal is a rate over the 5m window. */
const WINDOW_RULES = ['error_rate_increase', 'latency_p95_increase', 'payment_failure_ratio_high', 'db_cpu_high'];
/** Rules with a traffic guard. */
const GUARDED_RULES = ['error_rate_increase', 'latency_p95_increase', 'payment_failure_ratio_high'];

const SCENARIOS: Record<string, (o: ScenarioOptions) => string> = {
  steady: (o) => steady(o),
  spike: (o) => errorSpikeAt(20, o),
  creep: (o) => latencyCreep(o),
  gap: (o) => gapsBetween(30, 45, o),
  reset: (o) => counterReset(25, o),
  low: (o) => lowTraffic(o),
  failed: (o) => failedPaymentAt(30, o),
  payfail: (o) => paymentFailures(0.05, 20, o),
  cpu: (o) => dbCpuHigh(30, o),
  notraffic: (o) => noTrafficBetween(30, 45, o),
};

/** The scenario's series under jobs app-<name> / db-<name> (the generator writes job="app" / job="db"). */
function scenarioText(name: string): string {
  const text = SCENARIOS[name]({ instance: `app-${name}`, dbInstance: `db-${name}` })
    .replaceAll('job="app"', `job="app-${name}"`)
    .replaceAll('job="db"', `job="db-${name}"`);
  if (!text.includes(`job="app-${name}"`) || !text.includes(`job="db-${name}"`))
    throw new Error(`relabelling scenario ${name} failed: the generator's job labels changed`);
  return text;
}

// ───────────────────────────── expected minutes, from the scenarios' definitions ─────────────────────────────

/** Share of the 5m window [m−5, m] that lies after a change at minute `from` (the 15 s steps after it). */
const after = (m: number, from: number) => Math.min(1, Math.max(0, (m - from) / 5));

/** The first whole minute at which `consecutive` samples in a row have model(m) > limit, and the first failing one. */
function expectedBreach(model: (m: number) => number, limit: number, consecutive: number): { firstFail: number; breach: number } {
  let run = 0;
  let firstFail = -1;
  for (let m = 0; m <= 60; m++) {
    if (model(m) > limit + 1e-9) {
      if (run++ === 0 && firstFail < 0) firstFail = m;
      if (run >= consecutive) return { firstFail, breach: m };
    } else run = 0;
  }
  throw new Error('the model never breaches');
}

/**
 * p95 as histogram_quantile computes it over [m−5m, m] of latencyCreep(): the 20 steps' bucket shares (equal traffic),
 * summed, then linear interpolation inside the bucket holding the 95th percentile.
 */
function creepP95(m: number): number {
  const B = DEFAULT_BUCKETS;
  const w = new Array<number>(B.length + 1).fill(0);
  const latencyAt = (x: number) => BASELINE.latencyMs * (1 + (0.5 * Math.min(Math.max(x, 0), 60)) / 60);
  for (let k = 1; k <= 20; k++) {
    const stepMiddle = m - 5 + k * 0.25 - 0.125;
    for (const s of latencySegments(latencyAt(stepMiddle))) w[s.hi > B[B.length - 1] ? B.length : B.indexOf(s.hi)] += s.p;
  }
  const total = w.reduce((a, b) => a + b, 0);
  let cum = 0;
  for (let i = 0; i < w.length; i++) {
    if (cum + w[i] >= 0.95 * total) {
      const lo = i ? B[i - 1] : 0;
      return lo + ((B[i] - lo) * (0.95 * total - cum)) / w[i];
    }
    cum += w[i];
  }
  return Infinity;
}

// ───────────────────────────── running the CLI ─────────────────────────────

type Ev = Record<string, any>;

interface Backtest {
  code: number | null;
  stderr: string;
  events: Ev[];
  started: Ev;
  finished: Ev;
  breaches: Ev[];
  /** The rule's samples by whole minute after the deploy. */
  at(rule: string): Map<number, Ev>;
  /** One character per sample (. pass, F fail, ? inconclusive, E error): for assertion messages. */
  timeline(rule: string): string;
}

function backtestRun(code: number | null, stdout: string, stderr: string): Backtest {
  const events = jsonLines(stdout);
  const samples = events.filter((e) => e.type === 'watch.sample');
  const at = (rule: string) => new Map(samples.filter((s) => s.rule === rule).map((s) => [minuteOf(s.t), s]));
  const ch: Record<string, string> = { pass: '.', fail: 'F', inconclusive: '?', error: 'E' };
  return {
    code,
    stderr,
    events,
    started: events.find((e) => e.type === 'watch.started')!,
    finished: events.find((e) => e.type === 'watch.finished')!,
    breaches: events.filter((e) => e.type === 'watch.breach'),
    at,
    timeline: (rule) => `${rule}: ${[...at(rule).values()].map((s) => ch[s.verdict] ?? '!').join('')}`,
  };
}

describe.skipIf(!info.ok)(`watch scenarios against a real Prometheus${info.skipReason}`, () => {
  let prom: PromServer;
  const repos: Array<ReturnType<typeof tempRepo>> = [];

  beforeAll(async () => {
    const dataDir = await buildBlocks(Object.keys(SCENARIOS).map(scenarioText));
    prom = await startPrometheus({ dataDir });
  });
  afterAll(async () => {
    for (const r of repos) r.cleanup();
    await cleanupPrometheusHarness();
  });

  /** A repo whose cockpit.config.yaml points the built-in queries at the scenario's jobs. */
  function repoFor(name: string, dbJob = `db-${name}`): string {
    const repo = tempRepo();
    repos.push(repo);
    // watch.prometheus.url names a dead port: --prometheus must replace it.
    repo.write(
      'cockpit.config.yaml',
      `watch:\n  prometheus: { url: "http://127.0.0.1:9" }\n  vars: { job: app-${name}, dbJob: ${dbJob} }\n`,
    );
    return repo.dir;
  }

  /** `cockpit watch --backtest T..T+60m --interval 1m --json` over scenario `name`, as a user runs it. */
  function backtest(name: string, o: { interval?: string; toMinute?: number; dbJob?: string } = {}): Backtest {
    const r = cockpit([
      '--repo',
      repoFor(name, o.dbJob),
      'watch',
      '--prometheus',
      prom.url,
      '--backtest',
      `${iso(0)}..${iso(o.toMinute ?? 60)}`,
      '--interval',
      o.interval ?? '1m',
      '--json',
    ]);
    const run = backtestRun(r.code, r.stdout, r.stderr);
    expect(run.started?.prometheus, `the watch asks the --prometheus server; stderr: ${r.stderr}`).toBe(prom.url);
    expect(run.finished, `the watch ran to the end; stderr: ${r.stderr}`).toBeDefined();
    return run;
  }

  /** Every sample of `rule` at minutes `from`…`to` has `verdict`. */
  function expectVerdicts(run: Backtest, rule: string, from: number, to: number, verdict: string, why: string): void {
    const at = run.at(rule);
    for (let m = from; m <= to; m++) expect(at.get(m)?.verdict, `${why} (minute ${m}; ${run.timeline(rule)})`).toBe(verdict);
  }

  it('steady: nothing breaches, every rule passes, the watch passes (exit 0)', () => {
    const run = backtest('steady');
    expect(
      run.events.filter((e) => e.type === 'watch.preflight'),
      'the pre-flight finds nothing wrong',
    ).toEqual([]);
    expect(run.breaches, 'no alert on a healthy service').toEqual([]);
    expect(run.events.filter((e) => e.type === 'watch.recovery')).toEqual([]);
    for (const rule of ALL_RULES) {
      expect(run.at(rule).size, `one sample per minute, T+0 … T+60: ${rule}`).toBe(61);
      // failed_payments_any at T+0: increase() over the 1 s since the deploy has no data: inconclusive.
      expectVerdicts(run, rule, rule === 'failed_payments_any' ? 1 : 0, 60, 'pass', 'a healthy service passes every sample');
    }
    const baselines = Object.fromEntries(run.events.filter((e) => e.type === 'watch.baseline').map((e) => [e.rule, e.value]));
    expect(baselines.error_rate_increase, 'baseline error rate: the scenario’s 0.2 %').toBeCloseTo(0.002, 6);
    expect(baselines.latency_p95_increase, 'baseline p95: 200 ms').toBeCloseTo(0.2, 6);
    expect(baselines.db_cpu_high, 'baseline DB CPU: 35 %').toBeCloseTo(35, 6);
    expect(run.finished.verdict, run.finished.text).toBe('pass');
    expect(run.finished.text).toMatch(/^PASS: 61 samples per rule/);
    expect(run.code, run.stderr).toBe(0);
  });

  it('a job label with no series is said at the start (pre-flight), and its rules say no data, never pass', () => {
    const run = backtest('steady', { dbJob: 'db-typo' });
    const pre = run.events.find((e) => e.type === 'watch.preflight');
    expect(pre?.warnings).toEqual([
      expect.stringMatching(
        /^no series with job="db-typo" in this Prometheus: the rules using \$dbJob will have no data \(set watch\.vars\.dbJob\)$/,
      ),
    ]);
    expectVerdicts(run, 'db_cpu_high', 0, 60, 'inconclusive', 'a wrong label is never a pass');
    expect(run.finished.verdict).toBe('inconclusive');
    expect(run.code).toBe(1);
  });

  it('errorSpikeAt(20): error_rate_increase breaches once the 5m rate is over baseline + 1 point twice in a row; nothing else breaches', () => {
    // 0.2 % before, 5 % from T+20; the 5m window mixes them: ratio(m) = 5 %·f + 0.2 %·(1−f), f = share after T+20.
    const { firstFail, breach } = expectedBreach((m) => 0.05 * after(m, 20) + 0.002 * (1 - after(m, 20)), 0.002 + 0.01, 2);
    expect([firstFail, breach]).toEqual([22, 23]);
    const run = backtest('spike');
    const rule = 'error_rate_increase';
    expect(
      run.breaches.map((b) => [b.rule, minuteOf(b.t)]),
      'one alert: the error rate, at the expected minute',
    ).toEqual([[rule, breach]]);
    expectVerdicts(run, rule, 0, firstFail - 1, 'pass', 'no alarm before the window holds enough of the spike');
    expectVerdicts(run, rule, firstFail, 60, 'fail', 'the spike fails every sample from then on');
    expect(run.at(rule).get(21)?.value, 'T+21: 1 of 5 minutes spiked, just under the 1.2 % limit').toBeCloseTo(0.0116, 3);
    const b = run.breaches[0];
    expect(b.reason, 'the alert names the value, the baseline 0.2 % and the limit').toMatch(
      /^Error rate up more than 1 point: error rate 3\.\d+% is 2\.\d+ points over the baseline 0\.2% \(limit \+1 point: 1\.2%\) \(2 failing samples in a row\)$/,
    );
    expect([b.advice, b.policy]).toEqual(['alert', '>1% increase in error rate']);
    expect(run.at(rule).get(25)?.value, 'a full window of the spike reads 5 %').toBeCloseTo(0.05, 4);
    expect(run.finished.verdict).toBe('fail');
    expect(run.finished.text).toMatch(/^FAIL: 1 of 5 rules breached: Error rate up more than 1 point\./);
    expect(run.finished.advice, 'an alert, not a rollback: no rollback advice').toEqual([]);
    expect(run.code).toBe(1);
  });

  it('latencyCreep: latency_p95_increase breaches once p95 > 1.2 × the 200 ms baseline (240 ms) twice in a row, not before', () => {
    // p95 climbs 200 → 300 ms over the hour; instantly past 240 ms at T+24, the 5m window lags: creepP95() is the
    // histogram_quantile of the window's mixed buckets.
    const { firstFail, breach } = expectedBreach(creepP95, 0.24, 2);
    expect([firstFail, breach]).toEqual([27, 28]);
    const run = backtest('creep');
    const rule = 'latency_p95_increase';
    for (const m of [10, 20, 26, 27, 28, 40]) {
      // Within 1 ms: the scenario rounds every step to whole requests per bucket.
      expect(Math.abs(run.at(rule).get(m)?.value - creepP95(m)) * 1000, `p95 at T+${m} as the scenario defines it`).toBeLessThan(1);
    }
    expect(
      run.breaches.map((b) => [b.rule, minuteOf(b.t)]),
      'one alert: p95, at the expected minute',
    ).toEqual([[rule, breach]]);
    expectVerdicts(run, rule, 0, firstFail - 1, 'pass', 'no alarm while p95 ≤ 240 ms');
    expectVerdicts(run, rule, firstFail, 60, 'fail', 'p95 stays over 240 ms from then on');
    expect(run.breaches[0].reason).toMatch(
      /^p95 response time up more than 20%: p95 response time 24\dms is 2\d\.\d% \(\+4\dms\) over the baseline 200ms \(limit \+20%, at least \+25ms: 240ms\) \(2 failing samples in a row\)$/,
    );
    expect(run.code).toBe(1);
  });

  it('gapsBetween(30, 45): once the 5m lookback has no two samples left, the window rules are inconclusive (never pass); the gap breaches nothing', () => {
    // Samples every 15 s; the last before the gap is at 29:45, the first after it at 45:00. rate() needs two samples in
    // [m−5m, m]: none from T+35 (29:30 and 29:45 leave the window) through T+45 (only 45:00 in it).
    const run = backtest('gap');
    for (const rule of WINDOW_RULES) {
      expectVerdicts(run, rule, 35, 45, 'inconclusive', 'no data in the window is never a pass');
      for (const m of [35, 40, 45])
        expect(run.at(rule).get(m)?.reason, `the reason says why (${rule}, T+${m})`).toMatch(/no data|no traffic data/);
      expect(run.at(rule).get(46)?.verdict, `judged again once two samples are back (${rule}, T+46): ${run.timeline(rule)}`).not.toBe(
        'inconclusive',
      );
    }
    expect(run.breaches, 'a scrape gap raises no alert (at a 1-minute interval)').toEqual([]);
    expect(run.finished.verdict, `11 of 61 samples per rule inconclusive is not enough to withhold a pass: ${run.finished.text}`).toBe(
      'pass',
    );
    expect(run.code).toBe(0);
  });

  let gap15s: Backtest | undefined;
  it('gapsBetween(30, 45) at the default 15 s interval: inconclusive from 34:45 through 45:00; no ratio or latency alert', () => {
    gap15s = backtest('gap', { interval: '15s', toMinute: 50 });
    for (const rule of WINDOW_RULES) {
      const at = gap15s.at(rule);
      for (let m = 34.75; m <= 45; m += 0.25)
        expect(at.get(m)?.verdict, `no data in the window is never a pass (${rule} at T+${m}; ${gap15s.timeline(rule)})`).toBe(
          'inconclusive',
        );
    }
    expect(
      gap15s.breaches.filter((b) => b.rule !== 'db_cpu_high'),
      'a scrape gap raises no alert',
    ).toEqual([]);
  });

  // db_cpu is idle time over all CPU time: a window only partly covered by samples (at a gap's edges) reads the
  // same 35 % (1 − rate(idle) alone read 82…95 % there and breached at T+34).
  it('gapsBetween(30, 45) at the default 15 s interval: no database CPU alarm either', () => {
    expect(
      gap15s!.breaches.map((b) => `${b.rule} at T+${minuteOf(b.t)}: ${b.reason}`),
      'a scrape gap raises no alert',
    ).toEqual([]);
  });

  it('counterReset(25): the restart of every counter raises nothing and reads no negative or absurd value', () => {
    const run = backtest('reset');
    expect(run.breaches, 'a process restart is not an incident').toEqual([]);
    for (const rule of ALL_RULES) expectVerdicts(run, rule, 1, 60, 'pass', 'the reset is absorbed by rate()/increase()');
    const bounds: Record<string, [number, number]> = {
      error_rate_increase: [0, 0.005], // 0.2 % ± a request
      latency_p95_increase: [0.19, 0.21], // 200 ms
      failed_payments_any: [0, 0], // no failure: a counter going back to 0 is not counted as one
      payment_failure_ratio_high: [0, 0],
      db_cpu_high: [30, 40], // 35 %
    };
    for (const [rule, [lo, hi]] of Object.entries(bounds)) {
      for (let m = 20; m <= 35; m++) {
        const v = run.at(rule).get(m)?.value;
        expect(v, `${rule} at T+${m}, around the reset`).toBeGreaterThanOrEqual(lo);
        expect(v, `${rule} at T+${m}, around the reset`).toBeLessThanOrEqual(hi);
      }
    }
    expect(run.code).toBe(0);
  });

  it('lowTraffic: the guarded rules are inconclusive for too little traffic, so the watch is inconclusive (exit 1), not a pass', () => {
    const run = backtest('low');
    for (const rule of GUARDED_RULES) {
      expectVerdicts(run, rule, 0, 60, 'inconclusive', 'one request every 20 s is too little to judge a ratio');
      expect(run.at(rule).get(30)?.reason, `the reason names the traffic and the guard (${rule})`).toMatch(/too little traffic to judge: /);
    }
    expect(run.at('error_rate_increase').get(30)?.reason).toBe(
      'error rate: too little traffic to judge: 0.05 rps (guard: at least 0.5 rps)',
    );
    expect(run.at('payment_failure_ratio_high').get(30)?.reason).toBe(
      'payment failures: too little traffic to judge: 3 (guard: at least 20)',
    );
    expectVerdicts(run, 'db_cpu_high', 0, 60, 'pass', 'the unguarded DB CPU is still judged');
    expect(run.breaches).toEqual([]);
    expect(run.finished.verdict, 'missing evidence is never a pass').toBe('inconclusive');
    expect(run.finished.text).toMatch(
      /^INCONCLUSIVE: too little evidence for Error rate up more than 1 point \(no conclusive sample\); p95 response time up more than 20% \(no conclusive sample\); Payment failures over 1% of transactions \(no conclusive sample\)\./,
    );
    expect(run.code).toBe(1);
  });

  it('failedPaymentAt(30): failed_payments_any (critical) breaches at T+30, the sample holding the failure, and not before', () => {
    const run = backtest('failed');
    const rule = 'failed_payments_any';
    expect(run.started.rules.find((r: Ev) => r.id === rule)).toMatchObject({ severity: 'critical', policy: 'Any failed payments' });
    expect(
      run.breaches.map((b) => [b.rule, minuteOf(b.t)]),
      'one alert, at the first sample that sees the failure',
    ).toEqual([[rule, 30]]);
    expectVerdicts(run, rule, 1, 29, 'pass', 'no failed payment yet');
    expect(run.breaches[0].reason).toBe('Any failed payment: failed payments since the deploy 1 is over the limit 0');
    expect(run.at('payment_failure_ratio_high').get(30)?.verdict, 'one failure in 600 payments is under 1 %').toBe('pass');
    expect(run.code).toBe(1);
  });

  it('paymentFailures(0.05, 20): payment_failure_ratio_high breaches with rollback advice in the policy’s words', () => {
    // T+21 is exactly 1 % (6 of 600): "exceed 1 %" is strict, so the first fail is T+22.
    const { firstFail, breach } = expectedBreach((m) => 0.05 * after(m, 20), 0.01, 2);
    expect([firstFail, breach]).toEqual([22, 23]);
    const run = backtest('payfail');
    const rule = 'payment_failure_ratio_high';
    expect(run.at(rule).get(21)?.value, 'T+21: exactly at the limit').toBeCloseTo(0.01, 9);
    expect(run.at(rule).get(21)?.verdict, 'at the limit is not over it').toBe('pass');
    const ratio = run.breaches.find((b) => b.rule === rule);
    expect(minuteOf(ratio?.t), `the ratio alert minute: ${run.timeline(rule)}`).toBe(breach);
    expect(ratio).toMatchObject({ advice: 'rollback', policy: 'Payment processing failures exceed 1% of transactions' });
    expect(ratio?.reason).toMatch(
      /^Payment failures over 1% of transactions: payment failures 3% is over the limit 1% \(baseline 0%\) \(2 failing samples in a row\)$/,
    );
    // Any failed payment also alerts, at the first sample after failures begin.
    expect(run.breaches.map((b) => [b.rule, minuteOf(b.t)])).toEqual([
      ['failed_payments_any', 21],
      [rule, breach],
    ]);
    expect(run.finished.advice, 'the end of the watch advises the rollback, in the policy’s words').toEqual([
      expect.stringMatching(
        /^Consider a rollback: Payment failures over 1% of transactions \(policy: "Payment processing failures exceed 1% of transactions"\): payment failures 3% /,
      ),
    ]);
    expect(run.finished.verdict).toBe('fail');
    expect(run.code).toBe(1);
  });

  it('dbCpuHigh(30): db_cpu_high breaches only after 3 consecutive samples above 80 %', () => {
    // 35 % → 92 % from T+30; over the 5m window: 35 + 57·f, over 80 from T+34 (80.6 %).
    const { firstFail, breach } = expectedBreach((m) => 35 + 57 * after(m, 30), 80, 3);
    expect([firstFail, breach]).toEqual([34, 36]);
    const run = backtest('cpu');
    const rule = 'db_cpu_high';
    expectVerdicts(run, rule, 0, firstFail - 1, 'pass', 'under 80 %');
    expectVerdicts(run, rule, firstFail, 60, 'fail', 'over 80 %');
    expect(run.at(rule).get(firstFail)?.value, 'the first sample over 80 %').toBeCloseTo(80.6, 6);
    expect(
      run.breaches.map((b) => [b.rule, minuteOf(b.t)]),
      'two fails are not yet an alert; the third is',
    ).toEqual([[rule, breach]]);
    expect(run.breaches[0].reason).toBe(
      'Database CPU over 80%: database CPU 92% is over the limit 80% (baseline 35%) (3 failing samples in a row)',
    );
    expect(run.code).toBe(1);
  });

  it('noTrafficBetween(30, 45): 0/0 ratios inside are inconclusive, never pass; nothing breaches', () => {
    // The window holds no request at all from T+35 (window [30, 35]) through T+45.
    const run = backtest('notraffic');
    for (const rule of GUARDED_RULES) {
      expectVerdicts(run, rule, 35, 45, 'inconclusive', 'nothing to measure is never a pass');
      expect(run.at(rule).get(40)?.reason, `the reason says why (${rule})`).toMatch(/too little traffic to judge: 0( rps)? /);
    }
    for (const rule of ['error_rate_increase', 'payment_failure_ratio_high']) {
      expect(
        [run.at(rule).get(40)?.raw, run.at(rule).get(40)?.value],
        `Prometheus answers NaN (0/0); no number is shown (${rule})`,
      ).toEqual(['NaN', null]);
    }
    expectVerdicts(run, 'db_cpu_high', 0, 60, 'pass', 'the DB is unaffected');
    expect(run.breaches).toEqual([]);
    expect(run.finished.verdict, run.finished.text).toBe('pass');
    expect(run.code).toBe(0);
  });

  it('--backtest refuses a window ending in the future, and a FROM that is not a time (exit 2)', () => {
    const dir = tempRepo();
    repos.push(dir);
    const future = cockpit([
      '--repo',
      dir.dir,
      'watch',
      '--prometheus',
      prom.url,
      '--backtest',
      `${iso(0)}..${new Date(Date.now() + 3_600_000).toISOString()}`,
    ]);
    expect(future.code).toBe(2);
    expect(future.stderr).toMatch(/TO is in the future; a backtest replays a past window/);
    const bad = cockpit(['--repo', dir.dir, 'watch', '--prometheus', prom.url, '--backtest', `yesterday..${iso(60)}`]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--backtest FROM yesterday: expected a time/);
  });

  // Last: it stops and restarts the shared server.
  it('Prometheus down from T+20 to T+22 (15 s interval): those samples are errors, one connection down and one up event, no breach, still a pass', async () => {
    const config = new Workspace({ repo: repoFor('steady') }).watchConfig(prom.url)!;
    const client = prometheusClient({ url: config.prometheus.url, timeoutMs: config.prometheus.timeoutMs });
    const intervalMs = 15_000;
    const stopAt = DEPLOY + 20 * MIN;
    const startAt = DEPLOY + 22 * MIN;
    let phase = 'up' as 'up' | 'stopped' | 'restarted';
    const events: Ev[] = [];
    try {
      const result = await runWatch({
        config,
        client,
        clock: simulatedClock(DEPLOY),
        since: DEPLOY,
        durationMs: 60 * MIN,
        intervalMs,
        signal: new AbortController().signal,
        record: async (batch) => {
          events.push(...batch.map((e) => ({ type: e.type, ...e.data })));
          const t = (batch.find((e) => e.type === 'watch.sample')?.data as { t?: number } | undefined)?.t;
          if (t === undefined) return;
          // The next tick is at t + 15 s: down for the ticks in [T+20, T+22).
          if (phase === 'up' && t + intervalMs >= stopAt) {
            await prom.stop();
            phase = 'stopped';
          } else if (phase === 'stopped' && t + intervalMs >= startAt) {
            await prom.start({ waitForTargets: false });
            phase = 'restarted';
          }
        },
      });
      expect(phase).toBe('restarted');

      const samples = events.filter((e) => e.type === 'watch.sample');
      expect(samples.length, '241 ticks × 5 rules').toBe(241 * 5);
      const down = samples.filter((s) => s.t >= stopAt && s.t < startAt);
      expect(down.length, '8 ticks (20:00 … 21:45) × 5 rules').toBe(40);
      for (const s of down) {
        expect(s.verdict, `an unanswered query is an error, never a pass (${s.rule} at T+${minuteOf(s.t)})`).toBe('error');
        expect(s.reason).toMatch(/query failed: Prometheus unreachable: connection (refused|reset)/);
      }
      expect(
        samples.filter((s) => s.verdict === 'error' && (s.t < stopAt || s.t >= startAt)),
        'no error outside the outage',
      ).toEqual([]);

      const connection = events.filter((e) => e.type === 'watch.connection').map((e) => [e.state, minuteOf(e.t)]);
      expect(connection, 'connected at the start, one down at T+20, one up at T+22').toEqual([
        ['up', 0],
        ['down', 20],
        ['up', 22],
      ]);
      expect(events.find((e) => e.type === 'watch.connection' && e.state === 'down')?.error).toMatch(/connection (refused|reset)/);
      expect(
        events.filter((e) => e.type === 'watch.breach'),
        'an outage of the monitoring is not an incident of the service',
      ).toEqual([]);

      // 8 errors of 241 samples per rule: not more than half unjudged, so the hour still passes (with the errors counted).
      expect(result.verdict, result.text).toBe('pass');
      expect(result.text).toBe('PASS: 241 samples per rule, 1 inconclusive, 40 query errors');
    } finally {
      client.close();
      if (phase === 'stopped') await prom.start({ waitForTargets: false });
    }
  });
});

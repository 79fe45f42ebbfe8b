import { describe, expect, it } from 'vitest';
import { parseWatchConfig, type WatchConfig, type WatchRule } from '../../src/core/watch/config.js';
import {
  advice,
  evaluateTick,
  initialRuleState,
  judge,
  parseSampleValue,
  sampleFromResult,
  signalReading,
  stepRule,
  summarize,
  type RuleState,
  type Verdict,
} from '../../src/core/watch/evaluate.js';

function watch(extra: Record<string, unknown> = {}): WatchConfig {
  const r = parseWatchConfig({ prometheus: { url: 'http://127.0.0.1:9090' }, vars: { job: 'app', dbJob: 'db' }, ...extra });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.config;
}
const config = watch();
const rule = (id: string, c: WatchConfig = config): WatchRule => c.rules.find((r) => r.id === id)!;
const errorRate = rule('error_rate_increase');
const p95 = rule('latency_p95_increase');
const failedPayments = rule('failed_payments_any');
const paymentRatio = rule('payment_failure_ratio_high');
const dbCpu = rule('db_cpu_high');

/** Runs the verdicts through the tracker; returns the transitions, one string per sample ('' when none). */
function track(r: WatchRule, verdicts: Verdict[]): { marks: string[]; state: RuleState } {
  let state = initialRuleState();
  const marks: string[] = [];
  for (const v of verdicts) {
    const step = stepRule(r, state, v);
    state = step.state;
    marks.push(step.transitions.map((t) => t.kind).join('+'));
  }
  return { marks, state };
}

describe('sample values from Prometheus', () => {
  it('are strings, including NaN and ±Inf; an empty result is no data', () => {
    expect(['0.25', 'NaN', '+Inf', '-Inf', '1e-3'].map((s) => parseSampleValue(s))).toEqual([0.25, NaN, Infinity, -Infinity, 0.001]);
    expect(parseSampleValue(undefined)).toBeNull();
    expect(parseSampleValue('')).toBeNaN();
  });

  it('an instant vector gives its one sample; none is no data; several series are an error', () => {
    expect(sampleFromResult({ resultType: 'vector', result: [{ metric: {}, value: [1700000000, '0.012'] }] })).toEqual({
      value: 0.012,
      raw: '0.012',
    });
    expect(sampleFromResult({ resultType: 'vector', result: [] })).toEqual({ value: null });
    expect(sampleFromResult({ resultType: 'scalar', result: [1700000000, 'NaN'] }).value).toBeNaN();
    const two = { metric: {}, value: [1, '1'] };
    expect(sampleFromResult({ resultType: 'vector', result: [two, two] }).error).toMatch(/returned 2 series; aggregate it to one/);
  });
});

describe('judge: never a pass without evidence', () => {
  it('no data, NaN and ±Inf are inconclusive', () => {
    expect(judge(dbCpu, { value: null, baseline: 40, traffic: null })).toMatchObject({
      verdict: 'inconclusive',
      reason: 'database CPU: no data (the query returned no series)',
    });
    expect(judge(dbCpu, { value: NaN, raw: 'NaN', baseline: 40, traffic: null })).toMatchObject({ verdict: 'inconclusive', raw: 'NaN' });
    expect(judge(dbCpu, { value: Infinity, raw: '+Inf', baseline: 40, traffic: null })).toMatchObject({
      verdict: 'inconclusive',
      reason: 'database CPU: +Inf is not a finite number',
    });
    expect(judge(p95, { value: -Infinity, baseline: 0.2, traffic: 10 }).verdict).toBe('inconclusive');
  });

  it('onNoData: fail counts no data as a failure', () => {
    const strict = rule('failed_payments_any', watch({ rules: [{ id: 'failed_payments_any', onNoData: 'fail' }] }));
    expect(judge(strict, { value: null, baseline: null, traffic: null })).toMatchObject({
      verdict: 'fail',
      reason: expect.stringMatching(
        /^failed payments since the deploy: no data \(the query returned no series; .*\), which this rule counts as a failure$/,
      ),
    });
  });

  it('no failed-payments series says what to fix in the app', () => {
    expect(judge(failedPayments, { value: null, baseline: null, traffic: null })).toMatchObject({
      verdict: 'inconclusive',
      reason:
        'failed payments since the deploy: no data (the query returned no series; no payments_total{result="failed"} series: initialise the counter at start-up (prom-client: counter.inc({ result: \'failed\' }, 0)))',
    });
  });

  it('too little traffic, or none known, is inconclusive whatever the value', () => {
    expect(judge(errorRate, { value: 1, baseline: 0, traffic: 0.2 })).toMatchObject({
      verdict: 'inconclusive',
      reason: 'error rate: too little traffic to judge: 0.2 rps (guard: at least 0.5 rps)',
    });
    expect(judge(errorRate, { value: 0.5, baseline: 0, traffic: null }).verdict).toBe('inconclusive');
    expect(judge(paymentRatio, { value: 0.5, baseline: 0, traffic: 12 })).toMatchObject({
      verdict: 'inconclusive',
      reason: 'payment failures: too little traffic to judge: 12 (guard: at least 20)',
    });
  });

  it('a failed query is an error, not a verdict on the service', () => {
    expect(judge(errorRate, { value: null, baseline: 0.001, traffic: 10, error: 'HTTP 503: timeout' })).toMatchObject({
      verdict: 'error',
      reason: 'error rate: query failed: HTTP 503: timeout',
    });
  });

  it('a rule against the baseline without one is inconclusive', () => {
    expect(judge(errorRate, { value: 0.02, baseline: null, traffic: 10 })).toMatchObject({
      verdict: 'inconclusive',
      reason: 'error rate 2%: no baseline to compare with',
    });
    expect(judge(p95, { value: 0.3, baseline: NaN, traffic: 10 }).verdict).toBe('inconclusive');
  });
});

describe('judge: the error rate (absolute points by default, relative when configured)', () => {
  it('more than 1 point over the baseline fails, with both deltas', () => {
    const j = judge(errorRate, { value: 0.023, baseline: 0.002, traffic: 12 });
    expect(j).toMatchObject({ verdict: 'fail', reason: 'error rate 2.3% is 2.1 points over the baseline 0.2% (limit +1 point: 1.2%)' });
    expect(j.limit).toBeCloseTo(0.012);
    expect(j.absDelta).toBeCloseTo(0.021);
    expect(j.relDelta).toBeCloseTo(10.5);
  });

  it('exactly 1 point is not "more than"; under the baseline passes', () => {
    expect(judge(errorRate, { value: 0.012, baseline: 0.002, traffic: 12 }).verdict).toBe('pass');
    expect(judge(errorRate, { value: 0.001, baseline: 0.002, traffic: 12 })).toMatchObject({
      verdict: 'pass',
      reason: 'error rate 0.1% is 0.1 points under the baseline 0.2% (limit +1 point: 1.2%)',
    });
  });

  it('from a baseline of 0: absolute mode still needs a 1-point rise', () => {
    expect(judge(errorRate, { value: 0.004, baseline: 0, traffic: 12 })).toMatchObject({ verdict: 'pass', relDelta: null });
    expect(judge(errorRate, { value: 0.015, baseline: 0, traffic: 12 }).verdict).toBe('fail');
  });

  it('relative mode: +1% of the baseline, with a floor, and any rise beyond the floor from a baseline of 0', () => {
    const rel = rule(
      'error_rate_increase',
      watch({ rules: [{ id: 'error_rate_increase', check: { increase: '1%', mode: 'relative', floor: '0.1%' } }] }),
    );
    expect(judge(rel, { value: 0.0105, baseline: 0.01, traffic: 12 })).toMatchObject({
      verdict: 'pass', // +5% relative, but only +0.05 points: under the floor
      reason: 'error rate 1.05% is 5% (+0.05 points) over the baseline 1% (limit +1%, at least +0.1 points: 1.1%)',
    });
    expect(judge(rel, { value: 0.0115, baseline: 0.01, traffic: 12 }).verdict).toBe('fail');
    expect(judge(rel, { value: 0.002, baseline: 0, traffic: 12 })).toMatchObject({
      verdict: 'fail',
      reason: 'error rate 0.2% is 0.2 points over the baseline 0% (limit +1%, at least +0.1 points: 0.1%)',
    });
    expect(judge(rel, { value: 0, baseline: 0, traffic: 12 }).verdict).toBe('pass');
  });
});

describe('judge: response time, payments, database CPU', () => {
  it('p95 more than 20% over the baseline fails', () => {
    expect(judge(p95, { value: 0.26, baseline: 0.18, traffic: 30 })).toMatchObject({
      verdict: 'fail',
      reason: 'p95 response time 260ms is 44.4% (+80ms) over the baseline 180ms (limit +20%, at least +25ms: 216ms)',
    });
  });

  it('rises under the 25 ms floor do not count, however large relatively', () => {
    expect(judge(p95, { value: 0.03, baseline: 0.02, traffic: 30 })).toMatchObject({ verdict: 'pass', limit: 0.045 });
    expect(judge(p95, { value: 0.046, baseline: 0.02, traffic: 30 }).verdict).toBe('fail');
  });

  it('any failed payment since the deploy fails', () => {
    expect(judge(failedPayments, { value: 0, baseline: null, traffic: null }).verdict).toBe('pass');
    expect(judge(failedPayments, { value: 1.0034, baseline: null, traffic: null })).toMatchObject({
      verdict: 'fail',
      reason: 'failed payments since the deploy 1 is over the limit 0',
    });
    expect(failedPayments).toMatchObject({ severity: 'critical', consecutive: 1, advice: 'alert' });
  });

  it('payment failures over 1% of transactions fail (the rollback criterion)', () => {
    expect(judge(paymentRatio, { value: 0.018, baseline: 0.001, traffic: 240 })).toMatchObject({
      verdict: 'fail',
      reason: 'payment failures 1.8% is over the limit 1% (baseline 0.1%)',
    });
    expect(judge(paymentRatio, { value: 0.01, baseline: 0.001, traffic: 240 }).verdict).toBe('pass');
  });

  it('database CPU over 80% fails; a value that only rounds to the limit says so', () => {
    expect(judge(dbCpu, { value: 45, baseline: 40, traffic: null }).reason).toBe('database CPU 45% is within the limit 80% (baseline 40%)');
    expect(judge(dbCpu, { value: 80.04, baseline: null, traffic: null })).toMatchObject({
      verdict: 'fail',
      reason: 'database CPU 80% (80.04) is over the limit 80%',
    });
  });
});

describe('the rule tracker', () => {
  it('database CPU breaches on the third fail in a row, not on scattered ones', () => {
    expect(track(dbCpu, ['fail', 'fail', 'pass', 'fail', 'fail', 'fail']).marks).toEqual(['', '', '', '', '', 'breach']);
  });

  it('one failed payment breaches at once', () => {
    expect(track(failedPayments, ['pass', 'fail']).marks).toEqual(['', 'breach']);
  });

  it('a breach recovers after as many passes in a row, and can breach again', () => {
    const { marks, state } = track(dbCpu, ['fail', 'fail', 'fail', 'pass', 'pass', 'fail', 'pass', 'pass', 'pass', 'fail', 'fail', 'fail']);
    expect(marks).toEqual(['', '', 'breach', '', '', '', '', '', 'recovery', '', '', 'breach']);
    expect(state).toMatchObject({ breaches: 2, breached: true, fails: 7, passes: 5 });
  });

  it('inconclusive samples neither breach nor recover, nor break a run', () => {
    const { marks, state } = track(dbCpu, ['fail', 'inconclusive', 'fail', 'inconclusive', 'fail']);
    expect(marks).toEqual(['', '', '', '', 'breach']);
    expect(state).toMatchObject({ samples: 5, inconclusive: 2 });
    expect(track(dbCpu, ['inconclusive', 'inconclusive', 'inconclusive', 'inconclusive']).state.breaches).toBe(0);
  });

  it('failureLimit: a breach once the fails exceed it, in a row or not', () => {
    const limited = rule('x', watch({ rules: [{ id: 'x', signal: 'db_cpu', check: { above: 90 }, failureLimit: 2 }] }));
    expect(track(limited, ['fail', 'pass', 'fail', 'pass', 'pass', 'fail']).marks).toEqual(['', '', '', '', '', 'breach']);
    const both = rule('y', watch({ rules: [{ id: 'y', signal: 'db_cpu', check: { above: 90 }, failureLimit: 3, consecutive: 2 }] }));
    expect(track(both, ['fail', 'fail']).marks).toEqual(['', 'breach']);
    expect(track(both, ['fail', 'pass', 'fail', 'pass', 'fail', 'pass', 'fail']).marks.at(-1)).toBe('breach');
  });

  it('the breach says why, with the reason of the sample', () => {
    let s = initialRuleState();
    let last = stepRule(dbCpu, s, { verdict: 'fail', reason: 'database CPU 91% is over the limit 80%' });
    for (let i = 0; i < 2; i++) {
      s = last.state;
      last = stepRule(dbCpu, s, { verdict: 'fail', reason: 'database CPU 93% is over the limit 80%' });
    }
    expect(last.transitions).toEqual([{ kind: 'breach', reason: 'database CPU 93% is over the limit 80% (3 failing samples in a row)' }]);
    expect(last.state.breachReason).toBe('database CPU 93% is over the limit 80%');
  });

  it('four query errors in a row: Prometheus is not answering; the next answer clears it', () => {
    const { marks, state } = track(errorRate, ['error', 'error', 'error', 'error', 'error', 'inconclusive']);
    expect(marks).toEqual(['', '', '', 'unreachable', '', 'reachable']);
    expect(state).toMatchObject({ errors: 5, unreachable: false, breaches: 0 });
    expect(track(errorRate, ['error', 'error', 'error', 'pass', 'error']).marks).not.toContain('unreachable');
  });
});

describe('one tick over every rule', () => {
  it('judges each rule on its signal and folds the verdicts', () => {
    const tick = evaluateTick(
      config.rules,
      {},
      {
        error_rate: { value: 0.03, traffic: 10 },
        latency_p95: { value: 0.2, traffic: 10 },
        failed_payments: { value: 0 },
        payment_failure_ratio: { value: 0, traffic: 50 },
        db_cpu: { value: null, error: 'connect ECONNREFUSED 127.0.0.1:9090' },
      },
      { error_rate: 0.002, latency_p95: 0.19, payment_failure_ratio: 0, db_cpu: 30 },
    );
    expect(tick.results.map((r) => [r.rule, r.judgement.verdict])).toEqual([
      ['error_rate_increase', 'fail'],
      ['latency_p95_increase', 'pass'],
      ['failed_payments_any', 'pass'],
      ['payment_failure_ratio_high', 'pass'],
      ['db_cpu_high', 'error'],
    ]);
    expect(tick.states.error_rate_increase).toMatchObject({ fails: 1, breached: false }); // consecutive: 2
  });

  it('reads a signal from its value and traffic samples', () => {
    const v = sampleFromResult({ resultType: 'vector', result: [{ metric: {}, value: [1, '0.03'] }] });
    expect(signalReading(v, { value: null, error: 'HTTP 503' })).toEqual({
      value: 0.03,
      raw: '0.03',
      traffic: null,
      trafficError: 'HTTP 503',
    });
  });

  it('a failed traffic query is an error only for the guarded rules', () => {
    const tick = evaluateTick(
      [errorRate, dbCpu],
      {},
      { error_rate: { value: 0.001, trafficError: 'HTTP 422' }, db_cpu: { value: 20, trafficError: 'x' } },
      { error_rate: 0.001 },
    );
    expect(tick.results.map((r) => r.judgement.reason)).toEqual([
      'error rate: query failed: traffic query: HTTP 422',
      'database CPU 20% is within the limit 80%',
    ]);
  });
});

describe('the end of the hour', () => {
  const rules = [errorRate, dbCpu];
  const states = (a: Verdict[], b: Verdict[]) => ({ [errorRate.id]: track(errorRate, a).state, [dbCpu.id]: track(dbCpu, b).state });
  const many = (v: Verdict, n: number): Verdict[] => Array(n).fill(v);

  it('PASS, with the counts', () => {
    const s = summarize(rules, states([...many('pass', 228), ...many('inconclusive', 12)], many('pass', 240)));
    expect(s).toMatchObject({ verdict: 'pass', text: 'PASS: 240 samples per rule, 12 inconclusive' });
  });

  it('FAIL when a rule breached during the hour, even if it recovered', () => {
    const s = summarize(rules, states([...many('fail', 2), ...many('pass', 238)], many('pass', 240)));
    expect(s.verdict).toBe('fail');
    expect(s.text).toBe('FAIL: 1 of 2 rules breached: Error rate up more than 1 point (recovered). 240 samples per rule, 0 inconclusive');
  });

  it('INCONCLUSIVE when a rule never had a conclusive sample, or mostly had none', () => {
    const never = summarize(rules, states(many('inconclusive', 240), many('pass', 240)));
    expect(never.verdict).toBe('inconclusive');
    expect(never.text).toBe(
      'INCONCLUSIVE: too little evidence for Error rate up more than 1 point (no conclusive sample). 240 samples per rule, 240 inconclusive',
    );
    const mostly = summarize(rules, states([...many('pass', 100), ...many('inconclusive', 100), ...many('error', 40)], many('pass', 240)));
    expect(mostly.text).toBe(
      'INCONCLUSIVE: too little evidence for Error rate up more than 1 point (140 of 240 samples inconclusive). 240 samples per rule, 100 inconclusive, 40 query errors',
    );
    expect(summarize(rules, {}).verdict).toBe('inconclusive');
  });

  it("advises a rollback for breached rules whose advice is rollback, in the policy's words", () => {
    let s = initialRuleState();
    for (let i = 0; i < 2; i++)
      s = stepRule(paymentRatio, s, { verdict: 'fail', reason: 'payment failures 1.8% is over the limit 1%' }).state;
    const cpu = track(dbCpu, many('fail', 3)).state;
    const a = advice([paymentRatio, dbCpu], { [paymentRatio.id]: s, [dbCpu.id]: cpu });
    expect(a).toHaveLength(1);
    expect(a[0]).toMatchObject({
      rule: 'payment_failure_ratio_high',
      policy: 'Payment processing failures exceed 1% of transactions',
      active: true,
    });
    expect(a[0].text).toBe(
      'Consider a rollback: Payment failures over 1% of transactions (policy: "Payment processing failures exceed 1% of transactions"): payment failures 1.8% is over the limit 1%',
    );
  });
});

/** The built-in signals and rules: the policy's alert thresholds, and the defaults of the watch. */
import type { RuleInput, SignalInput } from './schema.js';
import type { Unit } from './types.js';

// The built-ins use prom-client's names (http_request_duration_seconds{job,status_code}, payments_total{job,result})
// and node_exporter's node_cpu_seconds_total under $dbJob.

const REQ = 'http_request_duration_seconds';
const REQUEST_RATE = `sum(rate(${REQ}_count{job="$job"}[$window]))`;

export const BUILTIN_SIGNALS: Record<string, SignalInput & { query: string; unit: Unit }> = {
  error_rate: {
    title: 'error rate',
    // The numerator falls back to 0 when no 5xx series exists yet (a healthy service): the denominator still makes
    // "no traffic" an empty result, never a 0% (`or vector(0)` on the whole expression would hide a dead service).
    query: `(sum(rate(${REQ}_count{job="$job",status_code=~"5.."}[$window])) or vector(0)) / ${REQUEST_RATE}`,
    unit: 'ratio',
    traffic: REQUEST_RATE,
    trafficUnit: 'rps',
  },
  latency_p95: {
    title: 'p95 response time',
    query: `histogram_quantile(0.95, sum by (le) (rate(${REQ}_bucket{job="$job"}[$window])))`,
    unit: 'seconds',
    traffic: REQUEST_RATE,
    trafficUnit: 'rps',
  },
  failed_payments: {
    title: 'failed payments since the deploy',
    // No fallback to 0: without a result="failed" series, increase() would also miss the first failure that creates
    // it (prometheus#1673), so "no data" (inconclusive, with the hint) is the honest answer.
    query: 'sum(increase(payments_total{job="$job",result="failed"}[$elapsed]))',
    unit: 'count',
    noDataHint: `no payments_total{result="failed"} series: initialise the counter at start-up (prom-client: counter.inc({ result: 'failed' }, 0))`,
  },
  payment_failure_ratio: {
    title: 'payment failures',
    query: '(sum(rate(payments_total{job="$job",result="failed"}[$window])) or vector(0)) / sum(rate(payments_total{job="$job"}[$window]))',
    unit: 'ratio',
    traffic: 'sum(increase(payments_total{job="$job"}[$window]))',
    trafficUnit: 'count',
  },
  db_cpu: {
    title: 'database CPU',
    // Idle time over all CPU time (not 1 - avg(rate(idle)), which reads high while the window is only partly
    // covered by samples: after a gap, a restart or a fresh start).
    query:
      '100 * (1 - sum(rate(node_cpu_seconds_total{job="$dbJob",mode="idle"}[$window])) / sum(rate(node_cpu_seconds_total{job="$dbJob"}[$window])))',
    unit: 'percent',
  },
};

export type FullRuleInput = RuleInput & { signal: string; check: NonNullable<RuleInput['check']> };

export const BUILTIN_RULES: FullRuleInput[] = [
  {
    id: 'error_rate_increase',
    signal: 'error_rate',
    title: 'Error rate up more than 1 point',
    policy: '>1% increase in error rate',
    check: { increase: '1%', mode: 'absolute' },
    minTraffic: 0.5,
    consecutive: 2,
    severity: 'warning',
    advice: 'alert',
  },
  {
    id: 'latency_p95_increase',
    signal: 'latency_p95',
    title: 'p95 response time up more than 20%',
    policy: '>20% increase in response time',
    check: { increase: '20%', mode: 'relative', floor: '25ms' },
    minTraffic: 0.5,
    consecutive: 2,
    severity: 'warning',
    advice: 'alert',
  },
  {
    id: 'failed_payments_any',
    signal: 'failed_payments',
    title: 'Any failed payment',
    policy: 'Any failed payments',
    check: { above: 0 },
    consecutive: 1,
    severity: 'critical',
    advice: 'alert',
  },
  {
    id: 'payment_failure_ratio_high',
    signal: 'payment_failure_ratio',
    title: 'Payment failures over 1% of transactions',
    policy: 'Payment processing failures exceed 1% of transactions',
    check: { above: '1%' },
    minTraffic: 20,
    consecutive: 2,
    severity: 'critical',
    advice: 'rollback',
  },
  {
    id: 'db_cpu_high',
    signal: 'db_cpu',
    title: 'Database CPU over 80%',
    policy: 'Database CPU >80%',
    check: { above: '80%' },
    consecutive: 3,
    severity: 'warning',
    advice: 'alert',
  },
];

/** Copies of the built-in signals and rules, as they would be written in the config. */
export function builtinSignals(): Record<string, SignalInput> {
  return structuredClone(BUILTIN_SIGNALS);
}
export function builtinRules(): RuleInput[] {
  return structuredClone(BUILTIN_RULES);
}

export const VAR_HINTS: Record<string, string> = {
  job: "the Prometheus job label of the application's metrics",
  dbJob: "the Prometheus job label of the database host's node_exporter",
};

export const WATCH_DEFAULTS = { timeout: '10s', interval: '15s', duration: '1h', baseline: '1h', window: '5m', errorLimit: 4 } as const;

/**
 * Deterministic OpenMetrics text for one-hour post-deploy scenarios, to backfill a real Prometheus with
 * `buildBlocks()` (test/helpers/prometheus.ts → `promtool tsdb create-blocks-from openmetrics`).
 *
 *   const dir = await buildBlocks(errorSpikeAt(20));
 *   const prom = await startPrometheus({ dataDir: dir });
 *   // query with time = scenarioTime(30)  (unix seconds of T+30 min)
 *
 * Timeline: the deploy is at T = SCENARIO_DEPLOY (2026-01-05T12:00:00Z). Samples every 15 s from T−90 min to T+70 min
 * (both included), for every series, except inside `gaps`.
 *
 * Series (the same names and labels as test/fixtures/metrics-service.mjs; Prometheus adds job/instance there,
 * here they are written into each sample):
 *   http_request_duration_seconds_{bucket,count,sum}{job="app",instance="app-1",method,route,status_code[,le]}
 *       method/route: GET /api/orders (80 % of requests) and POST /api/checkout (20 %); status_code "200" | "500";
 *       buckets: prom-client's defaults 0.005 … 10 and +Inf.
 *   payments_total{job="app",instance="app-1",result="succeeded"|"failed"}
 *   node_cpu_seconds_total{job="db",instance="db-1",cpu="0",mode="idle"|"user"}
 *
 * Counts are integers and consistent: each 15 s step adds round(rps·15) requests (exactly, over time: the running
 * total is the floor of the integral), split into the four (route, status) series and then into latency buckets by
 * largest-remainder apportionment that carries the rounding over to later steps. Hence buckets are monotone in `le`,
 * `+Inf` equals `_count`, and over any window the share of 5xx is errorRatio up to one request. `_sum` adds, for each
 * observation, the middle of the latency segment it was drawn from (see latencySegments()).
 *
 * Latency model (shared with the service): p95 = latencyMs exactly as `histogram_quantile(0.95, …)` computes it
 * from these buckets (it interpolates linearly inside a bucket, and the model is uniform inside each bucket).
 */
import { BASELINE_SETTINGS, BUCKETS, latencySegments, type LatencySegment } from '../fixtures/latency-model.mjs';

/** What the simulated app does at one instant. The service's POST /control takes the same fields. */
export interface Settings {
  /** HTTP requests per second (all routes). 0 → every ratio over the window is 0/0 = NaN. */
  rps: number;
  /** Share of requests answered with status_code "500", 0…1. */
  errorRatio: number;
  /** Target p95 latency in ms, as histogram_quantile(0.95) computes it. Clamped to 5…10000. */
  latencyMs: number;
  /** Payments per second (payments_total, both results). */
  paymentsPerSec: number;
  /** Share of payments with result="failed", 0…1. */
  paymentFailureRatio: number;
  /** DB CPU in percent: 100 * (1 - rate(node_cpu_seconds_total{mode="idle"}[1m])). */
  dbCpuPercent: number;
}

/** Normal pre-deploy behaviour; every scenario starts from it (and the service's default settings are the same). */
export const BASELINE: Readonly<Settings> = BASELINE_SETTINGS;

/** The deploy instant T of every scenario (a fixed past instant). Do not mutate. */
export const SCENARIO_DEPLOY = new Date('2026-01-05T12:00:00.000Z');
/** First and last sample, in minutes since T. */
export const SCENARIO_START_MIN = -90;
export const SCENARIO_END_MIN = 70;
/** Seconds between samples. */
export const SCENARIO_STEP_S = 15;

/** Unix seconds of T + `minutes` (for the Prometheus API's `time=`, `start=`, `end=`). */
export function scenarioTime(minutes: number): number {
  return SCENARIO_DEPLOY.getTime() / 1000 + minutes * 60;
}

/** prom-client's default histogram buckets (seconds). */
export const DEFAULT_BUCKETS: readonly number[] = BUCKETS;

/** The routes of the simulated app and their share of the traffic. */
export const ROUTES: ReadonlyArray<{ method: string; route: string; share: number }> = Object.freeze([
  { method: 'GET', route: '/api/orders', share: 0.8 },
  { method: 'POST', route: '/api/checkout', share: 0.2 },
]);

// ───────────────────────────── latency model ─────────────────────────────

export type { LatencySegment };

export { latencySegments };

// ───────────────────────────── scenario spec ─────────────────────────────

/** Settings as a function of the minute since deploy (fractional, negative before T); merged over BASELINE. */
export type SettingsFn = (minute: number) => Partial<Settings>;
/** From minute `from` (inclusive) on, these settings apply; fields not given keep the previous phase's (BASELINE first). */
export type Phase = { from: number } & Partial<Settings>;

export interface ScenarioOptions {
  /** Minute ranges [from, to) with no sample at all, for every series (a scrape outage; counters keep counting). */
  gaps?: Array<[number, number]>;
  /** At this minute every counter (app and db) restarts from 0, as after a process restart: the sample at (or first after) it is 0 + what came since. */
  counterResetAt?: number;
  /** One extra failed payment at each of these minutes (on top of paymentFailureRatio). */
  failedPaymentsAt?: number[];
  /** The app series' instance label (default "app-1"). Use distinct instances to put several scenarios into one TSDB. */
  instance?: string;
  /** The db series' instance label (default "db-1"). */
  dbInstance?: string;
}

const SETTING_KEYS: ReadonlyArray<keyof Settings> = [
  'rps',
  'errorRatio',
  'latencyMs',
  'paymentsPerSec',
  'paymentFailureRatio',
  'dbCpuPercent',
];

function settingsResolver(spec: SettingsFn | Phase[]): (minute: number) => Settings {
  if (typeof spec === 'function') return (minute) => checkSettings({ ...BASELINE, ...spec(minute) }, `at minute ${minute}`);
  const phases = [...spec].sort((a, b) => a.from - b.from);
  // Pre-merge so that each phase is complete.
  const merged: Array<{ from: number; s: Settings }> = [];
  let cur: Settings = { ...BASELINE };
  for (const ph of phases) {
    const { from, ...rest } = ph;
    cur = checkSettings({ ...cur, ...stripUndefined(rest) }, `in the phase from minute ${from}`);
    merged.push({ from, s: cur });
  }
  return (minute) => {
    let s: Settings = BASELINE;
    for (const m of merged) if (minute >= m.from) s = m.s;
    return s;
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function checkSettings(s: Settings, where: string): Settings {
  for (const k of SETTING_KEYS) {
    const v = s[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      throw new Error(`scenario: ${k} must be a finite number ≥ 0 ${where}, got ${String(v)}`);
  }
  for (const k of ['errorRatio', 'paymentFailureRatio'] as const) {
    if (s[k] > 1) throw new Error(`scenario: ${k} must be ≤ 1 ${where}, got ${s[k]}`);
  }
  if (s.dbCpuPercent > 100) throw new Error(`scenario: dbCpuPercent must be ≤ 100 ${where}, got ${s.dbCpuPercent}`);
  return s;
}

/**
 * Splits integer counts into categories so that, cumulatively, each category gets its expected share up to less than
 * one unit (largest remainder, with the rounding carried over to later calls). Deterministic.
 */
class Apportioner {
  private expected: number[];
  readonly actual: number[];
  constructor(n: number) {
    this.expected = new Array<number>(n).fill(0);
    this.actual = new Array<number>(n).fill(0);
  }
  add(count: number, fractions: readonly number[]): number[] {
    const n = this.actual.length;
    const alloc = new Array<number>(n).fill(0);
    if (count <= 0) return alloc;
    let W = 0;
    const w = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      this.expected[i] += count * fractions[i];
      w[i] = Math.max(0, this.expected[i] - this.actual[i]);
      W += w[i];
    }
    if (W <= 0) for (let i = 0; i < n; i++) W += w[i] = fractions[i];
    let given = 0;
    const rem: Array<[number, number]> = [];
    for (let i = 0; i < n; i++) {
      const q = (count * w[i]) / W;
      alloc[i] = Math.floor(q + 1e-9);
      given += alloc[i];
      rem.push([q - alloc[i], i]);
    }
    rem.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    for (let j = 0; given < count; j = (j + 1) % n) {
      alloc[rem[j][1]]++;
      given++;
    }
    for (let i = 0; i < n; i++) this.actual[i] += alloc[i];
    return alloc;
  }
}

/** Turns a fractional amount per step into whole events: the running total is floor(∫ rate). */
class Counter {
  private exp = 0;
  private n = 0;
  add(amount: number): number {
    this.exp += amount;
    const total = Math.floor(this.exp + 1e-9);
    const d = total - this.n;
    this.n = total;
    return d;
  }
}

function fmt(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toFixed(6)));
}

function labelStr(labels: Record<string, string>): string {
  return `{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
    .join(',')}}`;
}

// ───────────────────────────── generator ─────────────────────────────

/**
 * OpenMetrics text (ends with `# EOF`) for the scenario. Metric families are not interleaved, and each series' samples
 * are in time order (the backfill appends series by series and rejects out-of-order samples).
 */
export function scenario(spec: SettingsFn | Phase[], options: ScenarioOptions = {}): string {
  const at = settingsResolver(spec);
  const app = { job: 'app', instance: options.instance ?? 'app-1' };
  const db = { job: 'db', instance: options.dbInstance ?? 'db-1' };
  const gaps = options.gaps ?? [];
  for (const [a, b] of gaps) if (!(a < b)) throw new Error(`scenario: gap [${a}, ${b}) is empty`);
  const failedEvents = [...(options.failedPaymentsAt ?? [])];
  const stepMin = SCENARIO_STEP_S / 60;
  const B = DEFAULT_BUCKETS;
  const nb = B.length + 1; // + the +Inf bucket

  // Request series: (route, status) pairs.
  const series = ROUTES.flatMap((r) => (['200', '500'] as const).map((status) => ({ ...r, status })));
  const reqTotal = new Counter();
  const reqSplit = new Apportioner(series.length);
  const latency = series.map(() => new Apportioner(nb));
  const bucketCounts = series.map(() => new Array<number>(nb).fill(0)); // non-cumulative, integer
  const sums = series.map(() => 0);
  const payTotal = new Counter();
  const paySplit = new Apportioner(2); // succeeded, failed
  const pay = [0, 0];
  const cpu = { idle: 0, user: 0 };

  interface Snapshot {
    t: number; // unix seconds
    minute: number;
    buckets: number[][];
    sums: number[];
    pay: number[];
    cpu: { idle: number; user: number };
  }
  const snaps: Snapshot[] = [];
  const resetAt = options.counterResetAt;
  let offset: Snapshot | null = null; // values at the reset

  const first = Math.round((SCENARIO_START_MIN * 60) / SCENARIO_STEP_S);
  const last = Math.round((SCENARIO_END_MIN * 60) / SCENARIO_STEP_S);
  for (let k = first; k <= last; k++) {
    const minute = (k * SCENARIO_STEP_S) / 60;
    if (k > first) {
      // The step (minute − 15 s, minute] behaves as its middle.
      const s = at(minute - stepMin / 2);
      const n = reqTotal.add(s.rps * SCENARIO_STEP_S);
      const split = reqSplit.add(
        n,
        series.map((x) => x.share * (x.status === '500' ? s.errorRatio : 1 - s.errorRatio)),
      );
      const segs = latencySegments(s.latencyMs);
      const frac = new Array<number>(nb).fill(0);
      const mid = new Array<number>(nb).fill(0);
      for (const seg of segs) {
        const idx = seg.hi > B[B.length - 1] ? B.length : B.indexOf(seg.hi);
        frac[idx] += seg.p;
        mid[idx] = (seg.lo + seg.hi) / 2;
      }
      series.forEach((_, i) => {
        const a = latency[i].add(split[i], frac);
        for (let b = 0; b < nb; b++) {
          bucketCounts[i][b] += a[b];
          sums[i] += a[b] * mid[b];
        }
      });
      const np = payTotal.add(s.paymentsPerSec * SCENARIO_STEP_S);
      const ps = paySplit.add(np, [1 - s.paymentFailureRatio, s.paymentFailureRatio]);
      pay[0] += ps[0];
      pay[1] += ps[1];
      for (let e = failedEvents.length - 1; e >= 0; e--) {
        if (failedEvents[e] > minute - stepMin && failedEvents[e] <= minute) {
          pay[1] += 1;
          failedEvents.splice(e, 1);
        }
      }
      cpu.user += (s.dbCpuPercent / 100) * SCENARIO_STEP_S;
      cpu.idle += (1 - s.dbCpuPercent / 100) * SCENARIO_STEP_S;
    }
    const snap: Snapshot = {
      t: scenarioTime(minute),
      minute,
      buckets: bucketCounts.map((b) => [...b]),
      sums: [...sums],
      pay: [...pay],
      cpu: { ...cpu },
    };
    if (resetAt !== undefined && offset === null && minute >= resetAt) {
      // The process restarted at resetAt: what was counted up to the last step before it is gone.
      offset = snaps.length ? snaps[snaps.length - 1] : null;
      if (minute === resetAt || offset === null) offset = snap;
    }
    snaps.push(offset ? subtract(snap, offset) : snap);
  }
  if (failedEvents.length)
    throw new Error(`scenario: failedPaymentsAt ${failedEvents.join(', ')} outside (${SCENARIO_START_MIN}, ${SCENARIO_END_MIN}] minutes`);

  const kept = snaps.filter((s) => !gaps.some(([a, b]) => s.minute >= a && s.minute < b));
  const out: string[] = [];

  out.push('# TYPE http_request_duration_seconds histogram');
  out.push('# HELP http_request_duration_seconds Duration of HTTP requests in seconds');
  series.forEach((x, i) => {
    const base = { ...app, method: x.method, route: x.route, status_code: x.status };
    const bl = [...B.map((b) => labelStr({ ...base, le: String(b) })), labelStr({ ...base, le: '+Inf' })];
    const cl = labelStr(base);
    for (const s of kept) {
      let cum = 0;
      for (let b = 0; b < nb; b++) {
        cum += s.buckets[i][b];
        out.push(`http_request_duration_seconds_bucket${bl[b]} ${cum} ${s.t}`);
      }
      out.push(`http_request_duration_seconds_count${cl} ${cum} ${s.t}`);
      out.push(`http_request_duration_seconds_sum${cl} ${fmt(s.sums[i])} ${s.t}`);
    }
  });

  out.push('# TYPE payments counter');
  out.push('# HELP payments Payments processed, by result');
  (['succeeded', 'failed'] as const).forEach((result, i) => {
    const l = labelStr({ ...app, result });
    for (const s of kept) out.push(`payments_total${l} ${s.pay[i]} ${s.t}`);
  });

  out.push('# TYPE node_cpu_seconds counter');
  out.push('# HELP node_cpu_seconds Seconds the CPUs spent in each mode');
  (['idle', 'user'] as const).forEach((mode) => {
    const l = labelStr({ ...db, cpu: '0', mode });
    for (const s of kept) out.push(`node_cpu_seconds_total${l} ${fmt(s.cpu[mode])} ${s.t}`);
  });

  out.push('# EOF');
  return out.join('\n') + '\n';

  function subtract(s: Snapshot, o: Snapshot): Snapshot {
    return {
      t: s.t,
      minute: s.minute,
      buckets: s.buckets.map((b, i) => b.map((v, j) => v - o.buckets[i][j])),
      sums: s.sums.map((v, i) => Math.max(0, v - o.sums[i])),
      pay: s.pay.map((v, i) => v - o.pay[i]),
      cpu: { idle: Math.max(0, s.cpu.idle - o.cpu.idle), user: Math.max(0, s.cpu.user - o.cpu.user) },
    };
  }
}

// ───────────────────────────── named scenarios ─────────────────────────────
// Each returns OpenMetrics text; `opts` adds options (e.g. other instance labels, to combine several in one TSDB).

/** BASELINE throughout. */
export function steady(opts: ScenarioOptions = {}): string {
  return scenario([], opts);
}

/** Error ratio 0.2 % (BASELINE) until `minute`, then 5 %. */
export function errorSpikeAt(minute: number, opts: ScenarioOptions = {}): string {
  return scenario([{ from: minute, errorRatio: 0.05 }], opts);
}

/** p95 at BASELINE (200 ms) until T, then rising linearly to +50 % (300 ms) at T+60 min, then flat. */
export function latencyCreep(opts: ScenarioOptions = {}): string {
  return scenario((m) => ({ latencyMs: BASELINE.latencyMs * (1 + (0.5 * Math.min(Math.max(m, 0), 60)) / 60) }), opts);
}

/** BASELINE with no samples at all in [a, b) minutes. */
export function gapsBetween(a: number, b: number, opts: ScenarioOptions = {}): string {
  return scenario([], { ...opts, gaps: [...(opts.gaps ?? []), [a, b]] });
}

/** BASELINE; every counter restarts from 0 at `minute`. */
export function counterReset(minute: number, opts: ScenarioOptions = {}): string {
  return scenario([], { ...opts, counterResetAt: minute });
}

/** 0.05 requests/s (one every 20 s) and 0.01 payments/s throughout: too little traffic to judge a ratio. */
export function lowTraffic(opts: ScenarioOptions = {}): string {
  return scenario([{ from: SCENARIO_START_MIN, rps: 0.05, paymentsPerSec: 0.01 }], opts);
}

/** BASELINE (no failed payment) plus exactly one failed payment, at `minute`. */
export function failedPaymentAt(minute: number, opts: ScenarioOptions = {}): string {
  return scenario([], { ...opts, failedPaymentsAt: [...(opts.failedPaymentsAt ?? []), minute] });
}

/** Payment failure ratio 0 until `fromMinute`, then `ratio`. */
export function paymentFailures(ratio: number, fromMinute: number, opts: ScenarioOptions = {}): string {
  return scenario([{ from: fromMinute, paymentFailureRatio: ratio }], opts);
}

/** DB CPU 35 % (BASELINE) until `fromMinute`, then 92 %. */
export function dbCpuHigh(fromMinute: number, opts: ScenarioOptions = {}): string {
  return scenario([{ from: fromMinute, dbCpuPercent: 92 }], opts);
}

/** No requests and no payments in [a, b) minutes (ratios are 0/0 = NaN there; the series stay, with flat counters). */
export function noTrafficBetween(a: number, b: number, opts: ScenarioOptions = {}): string {
  return scenario(
    [
      { from: a, rps: 0, paymentsPerSec: 0 },
      { from: b, rps: BASELINE.rps, paymentsPerSec: BASELINE.paymentsPerSec },
    ],
    opts,
  );
}

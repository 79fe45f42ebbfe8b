/**
 * Judging the watch's samples: one verdict per rule and sample, a per-rule tracker (a pure reducer) that turns the
 * verdicts into breaches and recoveries, and the end-of-watch summary and rollback advice.
 *
 * Verdicts (as in Argo Rollouts): `pass`, `fail`, `inconclusive` (no data, NaN, ±Inf, too little traffic, no
 * baseline: never a pass), `error` (the query failed). The live loop and the backtest share {@link evaluateTick}.
 *
 * Tracker rules:
 *  - a breach after `consecutive` fails in a row, or once the fails since the start (or the last recovery) exceed
 *    `failureLimit`; while breached, `recoverAfter` passes in a row are a recovery;
 *  - inconclusive and error samples are counted but neither breach nor recover, and do not break a run of fails or
 *    passes (F ? F counts as two fails in a row);
 *  - `errorLimit` errors in a row report `unreachable` (once), the next sample that is not an error `reachable`.
 */
import type { Check, WatchRule } from './config.js';
import { formatDelta, formatValue, magnitude } from './format.js';

export type Verdict = 'pass' | 'fail' | 'inconclusive' | 'error';

// ---------------------------------------------------------------------------------------------------------------
// Sample values

/**
 * A Prometheus sample value (always a string in the API: `"0.25"`, `"NaN"`, `"+Inf"`, `"-Inf"`). undefined (an
 * empty result: no series) is null, "no data"; an unreadable string is NaN.
 */
export function parseSampleValue(raw: string | null | undefined): number | null {
  if (raw === undefined || raw === null) return null;
  const t = raw.trim().toLowerCase();
  if (t === '' || t === 'nan') return NaN;
  if (t === '+inf' || t === 'inf') return Infinity;
  if (t === '-inf') return -Infinity;
  return Number(t);
}

/** One instant-query sample: the value (null: no data), the raw string, or why there is none. */
export interface InstantSample {
  value: number | null;
  raw?: string;
  error?: string;
}

/**
 * The sample in an instant query's `data` (`{resultType, result}`): a vector of at most one series, or a scalar.
 * More than one series is an error (a watched query must aggregate to one value: sum, avg, max).
 */
export function sampleFromResult(data: unknown): InstantSample {
  const d = data as { resultType?: unknown; result?: unknown } | null;
  if (!d || typeof d !== 'object') return { value: null, error: 'no data in the response' };
  if (d.resultType === 'scalar' && Array.isArray(d.result)) {
    const raw = String(d.result[1]);
    return { value: parseSampleValue(raw), raw };
  }
  if (d.resultType !== 'vector' || !Array.isArray(d.result))
    return { value: null, error: `unsupported result type ${String(d.resultType)} (expected a vector)` };
  if (d.result.length === 0) return { value: null };
  if (d.result.length > 1)
    return { value: null, error: `the query returned ${d.result.length} series; aggregate it to one (sum, avg, max)` };
  const s = d.result[0] as { value?: unknown };
  if (!Array.isArray(s.value) || s.value.length < 2) return { value: null, error: 'a series without a value' };
  const raw = String(s.value[1]);
  return { value: parseSampleValue(raw), raw };
}

// ---------------------------------------------------------------------------------------------------------------
// Judging one sample

export interface JudgeInput {
  /** null: no data (the query returned no series). NaN and ±Inf as parsed. */
  value: number | null;
  /** The value as Prometheus sent it (kept in the judgement for the audit log). */
  raw?: string;
  /** The signal's value over the baseline window (null: none; a non-finite baseline counts as none). */
  baseline: number | null;
  /** The traffic (requests/s, transactions) for the guard; null: unknown. */
  traffic: number | null;
  /** The query (or, for a guarded rule, its traffic query) failed. */
  error?: string;
}

export interface Judgement {
  verdict: Verdict;
  /** A sentence for a person: "error rate 2.3% is 2.1 points over the baseline 0.2% (limit +1 point: 1.2%)". */
  reason: string;
  value: number | null;
  raw: string | null;
  baseline: number | null;
  traffic: number | null;
  /** value − baseline (both finite), else null. */
  absDelta: number | null;
  /** (value − baseline) / |baseline|; null when either is missing or the baseline is 0. */
  relDelta: number | null;
  /** The effective threshold the value was compared with, in the signal's unit; null when not compared. */
  limit: number | null;
}

export type JudgeRule = Pick<WatchRule, 'check' | 'minTraffic' | 'onNoData' | 'subject' | 'unit' | 'trafficUnit'> &
  Partial<Pick<WatchRule, 'noDataHint'>>;

const finite = (x: number | null | undefined): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);
/** Strictly over, with a tolerance for float noise (0.002 + 0.01 vs 0.012). */
const over = (x: number, limit: number) => x > limit + 1e-9 * Math.max(1, Math.abs(limit));
const under = (x: number, limit: number) => x < limit - 1e-9 * Math.max(1, Math.abs(limit));

export function judge(rule: JudgeRule, input: JudgeInput): Judgement {
  const { value } = input;
  const baseline = finite(input.baseline);
  const traffic = finite(input.traffic);
  const v = finite(value);
  const absDelta = v !== null && baseline !== null ? v - baseline : null;
  const relDelta = absDelta !== null && baseline !== 0 ? absDelta / Math.abs(baseline!) : null;
  const out = (verdict: Verdict, reason: string, limit: number | null = null): Judgement => ({
    verdict,
    reason,
    value,
    raw: input.raw ?? null,
    baseline,
    traffic,
    absDelta,
    relDelta,
    limit,
  });
  const S = rule.subject;
  const fmt = (x: number) => formatValue(x, rule.unit);

  if (input.error !== undefined) return out('error', `${S}: query failed: ${input.error}`);
  if (rule.minTraffic !== null) {
    const guard = formatValue(rule.minTraffic, rule.trafficUnit);
    if (traffic === null) return out('inconclusive', `${S}: no traffic data, cannot judge (guard ${guard})`);
    if (traffic < rule.minTraffic) {
      return out('inconclusive', `${S}: too little traffic to judge: ${formatValue(traffic, rule.trafficUnit)} (guard: at least ${guard})`);
    }
  }
  if (value === null || Number.isNaN(value)) {
    const what =
      value === null
        ? `no data (the query returned no series${rule.noDataHint ? `; ${rule.noDataHint}` : ''})`
        : 'NaN (nothing to measure in the window, e.g. 0/0)';
    if (rule.onNoData === 'fail') return out('fail', `${S}: ${what}, which this rule counts as a failure`);
    return out('inconclusive', `${S}: ${what}`);
  }
  if (v === null) return out('inconclusive', `${S}: ${fmt(value)} is not a finite number`);
  return compare(rule.check, v, baseline, absDelta, relDelta, S, rule.unit, out);
}

function compare(
  check: Check,
  value: number,
  baseline: number | null,
  absDelta: number | null,
  relDelta: number | null,
  S: string,
  unit: WatchRule['unit'],
  out: (verdict: Verdict, reason: string, limit?: number | null) => Judgement,
): Judgement {
  const fmt = (x: number) => formatValue(x, unit);
  const [vText, limitText] = distinct(value, check.kind === 'increase' ? null : check.threshold, fmt);
  const base = baseline === null ? '' : ` (baseline ${fmt(baseline)})`;
  switch (check.kind) {
    case 'above': {
      const fail = over(value, check.threshold);
      return out(fail ? 'fail' : 'pass', `${S} ${vText} is ${fail ? 'over' : 'within'} the limit ${limitText}${base}`, check.threshold);
    }
    case 'below': {
      const fail = under(value, check.threshold);
      return out(
        fail ? 'fail' : 'pass',
        `${S} ${vText} is ${fail ? 'under' : 'at or above'} the minimum ${limitText}${base}`,
        check.threshold,
      );
    }
    case 'increase': {
      if (baseline === null || absDelta === null) return out('inconclusive', `${S} ${fmt(value)}: no baseline to compare with`);
      if (check.mode === 'absolute') {
        const limit = baseline + check.by;
        const fail = over(value, limit);
        const moved = absDelta === 0 ? 'level with' : `${magnitude(Math.abs(absDelta), unit)} ${absDelta > 0 ? 'over' : 'under'}`;
        return out(
          fail ? 'fail' : 'pass',
          `${S} ${distinct(value, limit, fmt)[0]} is ${moved} the baseline ${fmt(baseline)} (limit +${magnitude(check.by, unit)}: ${fmt(limit)})`,
          limit,
        );
      }
      const limit = Math.max(baseline * (1 + check.by), baseline + check.floor);
      const fail = over(value, limit);
      const change =
        absDelta === 0
          ? 'level with'
          : relDelta === null
            ? `${magnitude(Math.abs(absDelta), unit)} ${absDelta > 0 ? 'over' : 'under'}`
            : `${magnitude(Math.abs(relDelta), 'relative')} (${formatDelta(absDelta, unit)}) ${absDelta > 0 ? 'over' : 'under'}`;
      const floor = check.floor > 0 ? `, at least +${magnitude(check.floor, unit)}` : '';
      return out(
        fail ? 'fail' : 'pass',
        `${S} ${distinct(value, limit, fmt)[0]} is ${change} the baseline ${fmt(baseline)} (limit +${magnitude(check.by, 'relative')}${floor}: ${fmt(limit)})`,
        limit,
      );
    }
  }
}

/** The value and the limit as text; when they read the same but differ, the value gets its digits. */
function distinct(value: number, limit: number | null, fmt: (x: number) => string): [string, string] {
  const a = fmt(value);
  if (limit === null) return [a, ''];
  const b = fmt(limit);
  return a === b && value !== limit ? [`${a} (${Number(value.toPrecision(6))})`, b] : [a, b];
}

// ---------------------------------------------------------------------------------------------------------------
// The per-rule tracker

export type Transition = 'breach' | 'recovery' | 'unreachable' | 'reachable';

export interface RuleTransition {
  kind: Transition;
  /** For a person: the sample's reason and why it changed the rule's state. */
  reason: string;
}

export interface RuleState {
  samples: number;
  passes: number;
  fails: number;
  inconclusive: number;
  errors: number;
  consecutiveFails: number;
  consecutivePasses: number;
  consecutiveErrors: number;
  /** Fails since the start or the last recovery (what `failureLimit` counts). */
  failsSinceRecovery: number;
  breached: boolean;
  /** How many times the rule breached (0: never). */
  breaches: number;
  /** The reason of the sample that caused the last breach. */
  breachReason: string | null;
  unreachable: boolean;
  last: Verdict | null;
}

export function initialRuleState(): RuleState {
  return {
    samples: 0,
    passes: 0,
    fails: 0,
    inconclusive: 0,
    errors: 0,
    consecutiveFails: 0,
    consecutivePasses: 0,
    consecutiveErrors: 0,
    failsSinceRecovery: 0,
    breached: false,
    breaches: 0,
    breachReason: null,
    unreachable: false,
    last: null,
  };
}

export type TrackedRule = Pick<WatchRule, 'consecutive' | 'failureLimit' | 'recoverAfter' | 'errorLimit'>;

const plural = (n: number, word: string, words = `${word}s`) => `${n} ${n === 1 ? word : words}`;

/** Folds one sample (its verdict, or its judgement for the reasons) into a rule's state. */
export function stepRule(
  rule: TrackedRule,
  state: RuleState,
  sample: Verdict | { verdict: Verdict; reason?: string },
): { state: RuleState; transitions: RuleTransition[] } {
  const verdict = typeof sample === 'string' ? sample : sample.verdict;
  const reason = typeof sample === 'string' ? verdict : (sample.reason ?? verdict);
  const s: RuleState = { ...state, samples: state.samples + 1, last: verdict };
  const transitions: RuleTransition[] = [];
  switch (verdict) {
    case 'pass':
      s.passes++;
      s.consecutivePasses++;
      s.consecutiveFails = 0;
      break;
    case 'fail':
      s.fails++;
      s.failsSinceRecovery++;
      s.consecutiveFails++;
      s.consecutivePasses = 0;
      break;
    case 'inconclusive':
      s.inconclusive++;
      break;
    case 'error':
      s.errors++;
      break;
  }
  if (verdict === 'error') {
    s.consecutiveErrors++;
    if (!s.unreachable && s.consecutiveErrors >= rule.errorLimit) {
      s.unreachable = true;
      transitions.push({
        kind: 'unreachable',
        reason: `${plural(s.consecutiveErrors, 'failed query', 'failed queries')} in a row: ${reason}`,
      });
    }
  } else {
    s.consecutiveErrors = 0;
    if (s.unreachable) {
      s.unreachable = false;
      transitions.push({ kind: 'reachable', reason: `queries answer again: ${reason}` });
    }
  }
  if (!s.breached && verdict === 'fail') {
    const inARow = rule.consecutive !== null && s.consecutiveFails >= rule.consecutive;
    const tooMany = rule.failureLimit !== null && s.failsSinceRecovery > rule.failureLimit;
    if (inARow || tooMany) {
      s.breached = true;
      s.breaches++;
      s.breachReason = reason;
      const why = inARow
        ? s.consecutiveFails > 1
          ? ` (${s.consecutiveFails} failing samples in a row)`
          : ''
        : ` (${plural(s.failsSinceRecovery, 'failing sample')}, more than the ${rule.failureLimit} allowed)`;
      transitions.push({ kind: 'breach', reason: `${reason}${why}` });
    }
  } else if (s.breached && verdict === 'pass' && s.consecutivePasses >= rule.recoverAfter) {
    s.breached = false;
    s.failsSinceRecovery = 0;
    transitions.push({ kind: 'recovery', reason: `${reason} (${plural(s.consecutivePasses, 'passing sample')} in a row)` });
  }
  return { state: s, transitions };
}

// ---------------------------------------------------------------------------------------------------------------
// One tick: every rule, one sample each (the live loop and the backtest)

export interface SignalReading {
  /** null: no data. */
  value: number | null;
  raw?: string;
  /** The value query failed. */
  error?: string;
  traffic?: number | null;
  /** The traffic query failed: an error for the rules with a guard, ignored by the others. */
  trafficError?: string;
}

/** A signal's reading from its instant samples (the value query's and, if it has one, the traffic query's). */
export function signalReading(value: InstantSample, traffic?: InstantSample): SignalReading {
  return {
    value: value.value,
    ...(value.raw !== undefined && { raw: value.raw }),
    ...(value.error !== undefined && { error: value.error }),
    ...(traffic && { traffic: traffic.value }),
    ...(traffic?.error !== undefined && { trafficError: traffic.error }),
  };
}

export interface TickResult {
  rule: string;
  judgement: Judgement;
  transitions: RuleTransition[];
}

export type EvaluatedRule = JudgeRule & TrackedRule & Pick<WatchRule, 'id' | 'signal'>;

/**
 * Judges every rule on its signal's reading and folds the verdicts into the states (a missing state is a new one;
 * a signal without a reading is an error: it was not measured). Returns new states; the input is not changed.
 */
export function evaluateTick(
  rules: readonly EvaluatedRule[],
  states: Readonly<Record<string, RuleState>>,
  readings: Readonly<Record<string, SignalReading | undefined>>,
  baselines: Readonly<Record<string, number | null | undefined>>,
): { states: Record<string, RuleState>; results: TickResult[] } {
  const next: Record<string, RuleState> = { ...states };
  const results: TickResult[] = [];
  for (const rule of rules) {
    const reading = readings[rule.signal];
    const error = reading
      ? (reading.error ??
        (rule.minTraffic !== null && reading.trafficError !== undefined ? `traffic query: ${reading.trafficError}` : undefined))
      : `signal ${rule.signal} was not measured`;
    const judgement = judge(rule, {
      value: reading?.value ?? null,
      raw: reading?.raw,
      baseline: baselines[rule.signal] ?? null,
      traffic: reading?.traffic ?? null,
      error,
    });
    const stepped = stepRule(rule, next[rule.id] ?? initialRuleState(), judgement);
    next[rule.id] = stepped.state;
    results.push({ rule: rule.id, judgement, transitions: stepped.transitions });
  }
  return { states: next, results };
}

// ---------------------------------------------------------------------------------------------------------------
// The end of the watch

export type SummaryVerdict = 'pass' | 'fail' | 'inconclusive';

export interface RuleSummary {
  id: string;
  title: string;
  verdict: SummaryVerdict;
  samples: number;
  passes: number;
  fails: number;
  inconclusive: number;
  errors: number;
  breaches: number;
  /** Still breached at the end. */
  breached: boolean;
}

export interface WatchSummary {
  verdict: SummaryVerdict;
  /** "PASS: 240 samples per rule, 12 inconclusive". */
  text: string;
  rules: RuleSummary[];
}

type SummarizedRule = Pick<WatchRule, 'id' | 'title'>;

function ruleSummary(rule: SummarizedRule, s: RuleState): RuleSummary {
  const unjudged = s.inconclusive + s.errors;
  const verdict: SummaryVerdict = s.breaches > 0 ? 'fail' : s.passes + s.fails === 0 || unjudged * 2 > s.samples ? 'inconclusive' : 'pass';
  return {
    id: rule.id,
    title: rule.title,
    verdict,
    samples: s.samples,
    passes: s.passes,
    fails: s.fails,
    inconclusive: s.inconclusive,
    errors: s.errors,
    breaches: s.breaches,
    breached: s.breached,
  };
}

/**
 * The verdict of a whole watch: FAIL if any rule breached during it; INCONCLUSIVE if a rule never had a conclusive
 * sample, or more than half of its samples were inconclusive or errors; else PASS — always with the counts.
 */
export function summarize(rules: readonly SummarizedRule[], states: Readonly<Record<string, RuleState | undefined>>): WatchSummary {
  const per = rules.map((r) => ruleSummary(r, states[r.id] ?? initialRuleState()));
  if (per.length === 0) return { verdict: 'inconclusive', text: 'INCONCLUSIVE: no rules to judge', rules: per };
  const counts = per.map((r) => r.samples);
  const lo = Math.min(...counts);
  const hi = Math.max(...counts);
  const inconclusive = per.reduce((n, r) => n + r.inconclusive, 0);
  const errors = per.reduce((n, r) => n + r.errors, 0);
  const tail = `${lo === hi ? lo : `${lo}–${hi}`} sample${hi === 1 ? '' : 's'} per rule, ${inconclusive} inconclusive${errors ? `, ${plural(errors, 'query error')}` : ''}`;
  const failed = per.filter((r) => r.verdict === 'fail');
  if (failed.length) {
    const list = failed.map((r) => `${r.title}${r.breached ? '' : ' (recovered)'}`).join('; ');
    return { verdict: 'fail', text: `FAIL: ${failed.length} of ${plural(per.length, 'rule')} breached: ${list}. ${tail}`, rules: per };
  }
  const weak = per.filter((r) => r.verdict === 'inconclusive');
  if (weak.length) {
    const list = weak
      .map(
        (r) =>
          `${r.title} (${r.samples === 0 ? 'no sample' : r.passes + r.fails === 0 ? 'no conclusive sample' : `${r.inconclusive + r.errors} of ${r.samples} samples inconclusive`})`,
      )
      .join('; ');
    return { verdict: 'inconclusive', text: `INCONCLUSIVE: too little evidence for ${list}. ${tail}`, rules: per };
  }
  return { verdict: 'pass', text: `PASS: ${tail}`, rules: per };
}

export interface RollbackAdvice {
  rule: string;
  title: string;
  /** The policy's words. */
  policy: string;
  severity: WatchRule['severity'];
  /** The reason of the sample that caused the (last) breach. */
  reason: string | null;
  /** Still breached (false: it recovered since). */
  active: boolean;
  /** "Consider a rollback: Payment failures over 1% of transactions (policy: "…"): <reason>". */
  text: string;
}

/** The rules that breached during the watch and whose advice is rollback, with the policy's words. */
export function advice(
  rules: readonly Pick<WatchRule, 'id' | 'title' | 'policy' | 'severity' | 'advice'>[],
  states: Readonly<Record<string, RuleState | undefined>>,
): RollbackAdvice[] {
  return rules.flatMap((r) => {
    const s = states[r.id];
    if (r.advice !== 'rollback' || !s || s.breaches === 0) return [];
    const policy = r.policy ? ` (policy: "${r.policy}")` : '';
    const text = `Consider a rollback: ${r.title}${policy}${s.breachReason ? `: ${s.breachReason}` : ''}${s.breached ? '' : ' (recovered since)'}`;
    return [{ rule: r.id, title: r.title, policy: r.policy, severity: r.severity, reason: s.breachReason, active: s.breached, text }];
  });
}

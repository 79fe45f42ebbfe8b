/**
 * The post-deploy watch loop: every interval, every signal's query (and its traffic query) goes to Prometheus at
 * once; each rule's sample is judged (core/watch/evaluate.ts) and recorded as an event with the resolved query, the
 * evaluation time, the raw value, the baseline, the verdict and the reason. Breaches, recoveries and the connection
 * going down or up are events too; the end of the hour records the summary.
 *
 * Pure apart from its ports: Prometheus and the clock are injected. Live the clock sleeps (adapters/clock.ts); a backtest or a benchmark runs the same loop on a simulated clock, at full
 * speed, over a past window. A watch given the events of an earlier run of the same hour (a resume) continues it:
 * the baselines are reused and the rules' states rebuilt from the recorded verdicts.
 */
import type { AuditEvent, EventBody, EventDataMap, WatchEventType, WatchRuleInfo } from '../events.js';
import { describeCheck, queriesFor, resolveQuery, type WatchConfig, type WatchRule, type WatchSignal } from './config.js';
import {
  advice,
  evaluateTick,
  initialRuleState,
  parseSampleValue,
  stepRule,
  summarize,
  type RuleState,
  type SignalReading,
} from './evaluate.js';

/** What an instant query gave (src/adapters/prometheus.ts implements the port). */
export type QueryOutcome =
  | { ok: true; raw: string | undefined; series: number; warnings: string[]; latencyMs: number }
  | { ok: false; kind: 'query' | 'unreachable'; error: string; status?: number; errorType?: string; latencyMs: number };

/** Prometheus as the watch uses it. */
export interface PrometheusPort {
  readonly url: string;
  /** Evaluate `query` at `timeSec` (unix seconds). */
  query(query: string, timeSec: number, signal?: AbortSignal): Promise<QueryOutcome>;
}

export interface WatchClock {
  now(): number;
  /** Resolves after `ms` (or at once when aborted). */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

/** A clock that jumps: for backtests and benchmarks (the whole hour in the time the queries take). */
export function simulatedClock(start: number): WatchClock & { set(t: number): void } {
  let t = start;
  return {
    now: () => t,
    sleep: async (ms) => void (t += Math.max(0, ms)),
    set: (v) => void (t = v),
  };
}

type WatchEvent<T extends WatchEventType = WatchEventType> = EventBody<T> & { time?: number };

export interface WatchRun {
  config: WatchConfig;
  client: PrometheusPort;
  clock: WatchClock;
  /** The deploy time (epoch ms): the baseline is the window before it; the watch lasts `durationMs` from it. */
  since: number;
  durationMs: number;
  intervalMs: number;
  signal: AbortSignal;
  /** Where the events go (the session's audit log; a backtest keeps them). Awaited: write before show. */
  record(events: WatchEvent[]): Promise<void>;
  /** Events of an earlier run of this watch (same `since`): it continues from them. */
  prior?: AuditEvent[];
  /** End at the first breach (headless: exit 1 at once for a pager or CI). */
  stopOnBreach?: boolean;
}

export interface WatchResult {
  /** 'stopped': aborted before the end (resumable); otherwise the hour's verdict. */
  verdict: 'pass' | 'fail' | 'inconclusive' | 'stopped';
  text: string;
  advice: string[];
  breaches: Array<{ rule: string; t: number; reason: string }>;
  samples: number;
}

export function ruleInfo(rule: WatchRule): WatchRuleInfo {
  return {
    id: rule.id,
    title: rule.title,
    unit: rule.unit,
    policy: rule.policy,
    threshold: describeCheck(rule.check, rule.unit),
    severity: rule.severity,
    advice: rule.advice,
  };
}

function describeFailure(o: Extract<QueryOutcome, { ok: false }>): string {
  return o.kind === 'unreachable' ? `Prometheus unreachable: ${o.error}` : `query failed: ${o.error}`;
}

function readingOf(o: QueryOutcome): { value: number | null; raw?: string; error?: string; warnings?: string[] } {
  if (!o.ok) return { value: null, error: describeFailure(o) };
  if (o.series > 1) return { value: null, error: `the query returned ${o.series} series; aggregate it to one (sum, avg, max)` };
  return {
    value: parseSampleValue(o.raw),
    ...(o.raw !== undefined ? { raw: o.raw } : {}),
    ...(o.warnings.length ? { warnings: o.warnings } : {}),
  };
}

/**
 * Checks worth making before the first sample (the watch's users' most common trouble is a query that matches
 * nothing): every `vars` value used as a job label has series in Prometheus, and a signal
 * counted since the deploy has its series already (a counter that appears with its first failure hides that failure
 * from increase()). Unanswered checks are left to the samples, which report the connection.
 */
export async function preflight(config: WatchConfig, rules: WatchRule[], query: (q: string) => Promise<QueryOutcome>): Promise<string[]> {
  const used = new Set(rules.map((r) => r.signal));
  const templates = [...used].flatMap((name) => [config.signals[name]?.query ?? '', config.signals[name]?.traffic ?? '']);
  const jobVars = Object.entries(config.vars).filter(([name]) =>
    templates.some((t) => new RegExp(`job\\s*=~?\\s*"\\$\\{?${name}\\b`).test(t)),
  );
  const checks: Array<Promise<string | null>> = jobVars.map(async ([name, value]) => {
    // Any series with that job (not only `up`: backfilled or remote-written data has no scrape of its own).
    const r = await query(`count({job=${JSON.stringify(value)}})`);
    return r.ok && r.series === 0
      ? `no series with job="${value}" in this Prometheus: the rules using $${name} will have no data (set watch.vars.${name})`
      : null;
  });
  for (const name of used) {
    const s = config.signals[name];
    if (!s?.usesElapsed) continue;
    // The series the count is over: the query with its range function's window taken off, e.g. payments_total{…}.
    const m = /\b(?:increase|rate)\(\s*([a-zA-Z_:][\w:]*\{[^}]*\})\s*\[/.exec(s.query);
    if (!m) continue;
    const resolved = resolveQuery(m[1], config.vars);
    if (!resolved.ok) continue;
    checks.push(
      query(`count(${resolved.query})`).then((r) =>
        r.ok && r.series === 0
          ? `${s.title}: no ${resolved.query} series yet, so the first one would not be counted (initialise the counter at 0 in the application)`
          : null,
      ),
    );
  }
  return (await Promise.all(checks)).filter((w): w is string => w !== null);
}

export async function runWatch(w: WatchRun): Promise<WatchResult> {
  const { config, client, clock } = w;
  const until = w.since + w.durationMs;
  const rules = config.rules;
  const signals = [...new Set(rules.map((r) => r.signal))].map((name) => config.signals[name]).filter((s): s is WatchSignal => !!s);
  const ev = <T extends WatchEventType>(type: T, data: EventDataMap[T], time?: number): WatchEvent<T> => ({
    type,
    data,
    ...(time !== undefined ? { time } : {}),
  });

  // ── resume: the same hour's baselines and the rules' states from the recorded verdicts ──
  const baselines: Record<string, number | null> = {};
  let states: Record<string, RuleState> = Object.fromEntries(rules.map((r) => [r.id, initialRuleState()]));
  const breaches: WatchResult['breaches'] = [];
  let lastT = -Infinity;
  let samples = 0;
  const resumed = !!w.prior?.some((e) => e.type === 'watch.started');
  for (const e of w.prior ?? []) {
    if (e.type === 'watch.baseline') {
      const d = e.data;
      const rule = rules.find((r) => r.id === d.rule);
      if (rule && d.value !== null) baselines[rule.signal] = d.value;
    } else if (e.type === 'watch.sample') {
      const d = e.data;
      const rule = rules.find((r) => r.id === d.rule);
      if (!rule) continue;
      states[rule.id] = stepRule(rule, states[rule.id], { verdict: d.verdict, reason: d.reason }).state;
      lastT = Math.max(lastT, d.t);
      samples++;
    } else if (e.type === 'watch.breach') {
      const d = e.data;
      breaches.push({ rule: d.rule, t: d.t, reason: d.reason });
    }
  }

  await w.record([
    ev('watch.started', {
      since: w.since,
      until,
      intervalMs: w.intervalMs,
      prometheus: client.url,
      rules: rules.map(ruleInfo),
      ...(resumed ? { resumed: true } : {}),
    }),
  ]);

  let connection: 'unknown' | 'up' | 'down' = 'unknown';
  const q = (query: string, t: number) => client.query(query, t / 1000, w.signal);

  // Pre-flight, once per watch: what would make whole rules say "no data" for the hour, said at the start instead.
  if (!resumed) {
    const warnings = await preflight(config, rules, (query) => q(query, clock.now()));
    if (warnings.length) await w.record([ev('watch.preflight', { warnings })]);
  }

  /**
   * Baselines not known yet: measured at the deploy time over the baseline window. Asked again next tick only when
   * the query failed (Prometheus down, a timeout): "no data" before the deploy stays so, and is recorded once.
   */
  const settled = new Set<string>(Object.keys(baselines));
  async function measureBaselines(t: number): Promise<WatchEvent[]> {
    const missing = signals.filter((s) => s.baseline && !s.usesElapsed && !settled.has(s.name));
    const out = await Promise.all(
      missing.map(async (s) => {
        const { query } = queriesFor(config, s, { phase: 'baseline' });
        const r = readingOf(await q(query, w.since));
        if (!r.error && r.value !== null && Number.isFinite(r.value)) baselines[s.name] = r.value;
        if (!r.error) settled.add(s.name);
        return rules
          .filter((rule) => rule.signal === s.name)
          .map((rule) =>
            ev(
              'watch.baseline',
              {
                rule: rule.id,
                query,
                evalTime: w.since,
                raw: r.raw ?? null,
                value: r.value !== null && Number.isFinite(r.value) ? r.value : null,
                ...(r.error ? { error: r.error } : {}),
              },
              t,
            ),
          );
      }),
    );
    return out.flat();
  }

  async function tick(t: number): Promise<{ events: WatchEvent[]; breached: boolean }> {
    const elapsedSec = Math.max(1, (t - w.since) / 1000);
    const events: WatchEvent[] = [];
    const resolved: Record<string, { query: string; warnings?: string[] }> = {};
    const outcomes: QueryOutcome[] = [];
    const [baselineEvents, readings] = await Promise.all([
      measureBaselines(t),
      Promise.all(
        signals.map(async (s): Promise<[string, SignalReading]> => {
          const { query, traffic } = queriesFor(config, s, { phase: 'current', elapsedSec });
          const [vo, to] = await Promise.all([q(query, t), traffic ? q(traffic, t) : Promise.resolve(null)]);
          outcomes.push(vo);
          if (to) outcomes.push(to);
          const v = readingOf(vo);
          resolved[s.name] = { query, ...(v.warnings ? { warnings: v.warnings } : {}) };
          const reading: SignalReading = {
            value: v.value,
            ...(v.raw !== undefined ? { raw: v.raw } : {}),
            ...(v.error ? { error: v.error } : {}),
          };
          if (to) {
            const tr = readingOf(to);
            if (tr.error) reading.trafficError = tr.error;
            else reading.traffic = tr.value;
          }
          return [s.name, reading];
        }),
      ),
    ]);
    events.push(...baselineEvents);

    // The connection: down when nothing got an answer, up again at the first answer.
    const answered = outcomes.some((o) => o.ok || o.kind === 'query');
    const now = answered ? 'up' : 'down';
    if (now !== connection) {
      const firstFailure = outcomes.find((o): o is Extract<QueryOutcome, { ok: false }> => !o.ok);
      events.push(ev('watch.connection', { t, state: now, ...(now === 'down' && firstFailure ? { error: firstFailure.error } : {}) }, t));
      connection = now;
    }

    const tickResult = evaluateTick(rules, states, Object.fromEntries(readings), baselines);
    states = tickResult.states;
    let breached = false;
    for (const r of tickResult.results) {
      const rule = rules.find((x) => x.id === r.rule)!;
      let j = r.judgement;
      // Just after the deploy a count "since the deploy" has no data yet (increase() needs two samples in its window):
      // say so, rather than the signal's hint about a counter that may not exist.
      if (j.verdict === 'inconclusive' && j.value === null && config.signals[rule.signal]?.usesElapsed && elapsedSec < 120) {
        j = {
          ...j,
          reason: `no data yet, ${Math.round(elapsedSec)} s after the deploy (a count since the deploy needs two scrapes after it)`,
        };
      }
      events.push(
        ev(
          'watch.sample',
          {
            rule: rule.id,
            t,
            query: resolved[rule.signal]?.query ?? '',
            raw: j.raw,
            value: j.value !== null && Number.isFinite(j.value) ? j.value : null,
            baseline: j.baseline,
            ...(j.traffic !== null ? { traffic: j.traffic } : {}),
            verdict: j.verdict,
            reason: j.reason,
            ...(resolved[rule.signal]?.warnings ? { warnings: resolved[rule.signal].warnings } : {}),
          },
          t,
        ),
      );
      samples++;
      for (const tr of r.transitions) {
        if (tr.kind === 'breach') {
          breached = true;
          breaches.push({ rule: rule.id, t, reason: tr.reason });
          events.push(
            ev('watch.breach', { rule: rule.id, t, reason: `${rule.title}: ${tr.reason}`, advice: rule.advice, policy: rule.policy }, t),
          );
        } else if (tr.kind === 'recovery') {
          events.push(ev('watch.recovery', { rule: rule.id, t, reason: `${rule.title}: ${tr.reason}` }, t));
        }
      }
    }
    return { events, breached };
  }

  // ── the loop: a fixed cadence from the first tick; ticks missed while a poll ran long are not made up ──
  let next = Math.max(clock.now(), lastT + w.intervalMs, w.since);
  for (;;) {
    if (w.signal.aborted) return { verdict: 'stopped', text: 'stopped before the end of the watch', advice: [], breaches, samples };
    if (next > until) break;
    const wait = next - clock.now();
    if (wait > 0) {
      await clock.sleep(wait, w.signal);
      if (w.signal.aborted) continue;
    }
    const t = next;
    const { events, breached } = await tick(t);
    if (w.signal.aborted) continue; // a poll cut short by a stop is not recorded: the resumed watch measures it again
    await w.record(events);
    if (breached && w.stopOnBreach) break;
    next = t + w.intervalMs;
    const now = clock.now();
    if (now > next) next += Math.ceil((now - next) / w.intervalMs) * w.intervalMs;
  }

  const summary = summarize(rules, states);
  const adv = advice(rules, states).map((a) => a.text);
  const stoppedEarly = w.stopOnBreach && breaches.length > 0 && clock.now() < until;
  const text = stoppedEarly ? `${summary.text} (stopped at the first breach)` : summary.text;
  await w.record([ev('watch.finished', { verdict: summary.verdict, text, advice: adv })]);
  return { verdict: summary.verdict, text, advice: adv, breaches, samples };
}

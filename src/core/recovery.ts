/**
 * Recovery clocks (policy: Rollback Procedures > Recovery Time Objectives). A checklist names its objective
 * (`objective: {recovery: 15m}`, or one per parameter value with `when:`); a session of it records, in its
 * `session.started`, the objective and the moment the clock counts from, with why that moment: the session's own
 * start, or the watch breach that advised the rollback. The clock stops at `session.finished`: succeeded is
 * recovered, aborted or failed is not. Everything here is computed from recorded times, so a restarted cockpit, a
 * report and a replay read the same clock; only the live "now" comes from outside (a monotonic source anchored at a
 * wall time, adapters/clock.ts), and the finishing process records the duration it measured that way.
 */
import type { Condition, ParamValue } from './checklist/types.js';
import type { AuditEvent } from './events.js';
import { parseDuration } from './duration.js';
import { evaluateConditions } from './params.js';

/** One objective as a checklist writes it. */
export interface ObjectiveDef {
  /** A duration: `15m`, `30m`, `2h`. */
  recovery: string | number;
  /** What is recovered: "code rollback", "full database restore". */
  name?: string;
  /** The policy's words. */
  policy?: string;
  /** Applies when the parameters match (`{strategy: restore}`); the first that matches is the session's. */
  when?: Condition;
}

/** The breach a rollback was started from (the watch of another session), as read from the audit log. */
export interface RecoveryBreach {
  session: string;
  rule: string;
  /** When the watch saw it (epoch ms): its sample's evaluation time. */
  t: number;
  reason: string;
}

/** What `session.started` records about the clock: the objective, and the start used and why. */
export interface RecoveryStart {
  objectiveMs: number;
  /** The objective as written in the checklist (`15m`). */
  objective: string;
  name?: string;
  policy?: string;
  /** Epoch ms the clock counts from. */
  since: number;
  from: 'session' | 'breach';
  /** Why that start, in words (the audit log says it). */
  reason: string;
  breach?: RecoveryBreach;
}

/** The objective of a session of this checklist with these parameters, or null when it has none. */
export function objectiveFor(
  objective: ObjectiveDef | ObjectiveDef[] | undefined,
  params: Record<string, ParamValue>,
): (ObjectiveDef & { objectiveMs: number }) | null {
  if (!objective) return null;
  for (const o of Array.isArray(objective) ? objective : [objective]) {
    if (!evaluateConditions(o.when, undefined, params).pass) continue;
    const ms = parseDuration(o.recovery);
    if (ms !== null && ms > 0) return { ...o, objectiveMs: ms };
  }
  return null;
}

/**
 * The breach in a watch session's events that advised the rollback: of the rules still in breach (no recovery since)
 * whose advice is rollback, the earliest breach of the episode; when every such breach has recovered, the latest one.
 * Null when the watch advised no rollback.
 */
export function adviceBreach(sessionId: string, events: Iterable<AuditEvent>): RecoveryBreach | null {
  const open = new Map<string, RecoveryBreach>();
  let latest: RecoveryBreach | null = null;
  for (const e of events) {
    if (e.type === 'watch.recovery') open.delete(e.data.rule);
    if (e.type !== 'watch.breach' || e.data.advice !== 'rollback') continue;
    const b = { session: sessionId, rule: e.data.rule, t: e.data.t, reason: e.data.reason };
    if (!open.has(b.rule)) open.set(b.rule, b);
    latest = b;
  }
  const still = [...open.values()].sort((a, b) => a.t - b.t);
  return still[0] ?? latest;
}

/**
 * Where the clock starts: at the breach when there is one (and it is not after the session's start, which only a
 * skewed clock between machines can make), else at the session's start. `watchSession` names the watch the
 * rollback came from when it had no breach to count from.
 */
export function recoveryStart(
  objective: ObjectiveDef & { objectiveMs: number },
  sessionStart: number,
  breach: RecoveryBreach | null,
  watchSession?: string,
): RecoveryStart {
  const base = {
    objectiveMs: objective.objectiveMs,
    objective: String(objective.recovery).trim(),
    ...(objective.name ? { name: objective.name } : {}),
    ...(objective.policy ? { policy: objective.policy } : {}),
  };
  if (breach && breach.t <= sessionStart)
    return {
      ...base,
      since: breach.t,
      from: 'breach',
      reason: `counted from the breach of '${breach.rule}' in the watch of session ${breach.session} at ${utc(breach.t)} (${breach.reason}), which advised this rollback`,
      breach,
    };
  const why = breach
    ? `the breach in session ${breach.session} is recorded after this session's start (${utc(breach.t)}: clocks apart?), so counted from the rollback's start`
    : watchSession
      ? `the watch of session ${watchSession} recorded no breach that advised a rollback, so counted from the rollback's start`
      : `counted from the rollback's start (the session's start)`;
  return { ...base, since: sessionStart, from: 'session', reason: why };
}

export type RecoveryLevel = 'ok' | 'amber' | 'red';

/** The clock read at a moment. */
export interface RecoveryReading {
  start: RecoveryStart;
  elapsedMs: number;
  /** Objective minus elapsed (negative once over). */
  leftMs: number;
  /** ok below 75% of the objective, amber from 75%, red from 100% (the policy says "< 15 minutes"). */
  level: RecoveryLevel;
  state: 'running' | 'recovered' | 'not-recovered';
  /** Recovered within the objective; null while it runs. */
  met: boolean | null;
  /** How the session ended when not recovered. */
  outcome?: string;
  /** When traffic was back on a healthy version (readMitigation), once it was. */
  mitigated?: Mitigation;
}

/** What the clock needs of a session: its recorded start and how it ended. */
export interface RecoveryFacts extends MitigationFacts {
  recovery?: RecoveryStart;
  outcome?: string;
  endedAt?: number;
  /** The duration the finishing process measured on its monotonic clock (session.finished). */
  recoveredMs?: number;
}

/** What the mitigation needs of a session (a SessionState has it): its plan's kinds, and its steps' ends. */
export interface MitigationFacts {
  plan?: ReadonlyArray<{ path: string; kind: string; id?: string }>;
  steps?: ReadonlyArray<{ path: string; status: string; endedAt?: number }>;
}

/**
 * When traffic was back on a healthy version, before the whole recovery was done (the team told, the checklist
 * closed): "mitigated after 2m10s" beside "recovered in 6m12s".
 */
export interface Mitigation {
  /** Epoch ms. */
  at: number;
  /** From the clock's start. */
  afterMs: number;
  /** The step whose pass says so (a smoke check after the rollback). */
  step: string;
  /** The rollback (or switch back) it confirms. */
  after: string;
}

/** Kinds whose pass puts traffic back on the previous version (the deploy kinds' rollback and switch). */
const MITIGATING_KINDS = new Set(['rollback', 'switch']);
/** Steps that do it, by id, whatever their kind (rollback-code's `trigger-rollback`, a confirmation today). */
const MITIGATING_IDS = new Set(['rollback', 'trigger-rollback', 'switch-back']);

/**
 * The moment a recovery session mitigated, from its recorded steps: the first `smoke` step that passed after a
 * `rollback` (or `switch`) step passed, or a step with the id `rollback`, `trigger-rollback` or `switch-back`; null
 * when none has. This is the one place to point at a recorded "traffic is
 * back on <version>" event (the switch back of the rollback step) once the deploy kinds record one.
 */
export function readMitigation(facts: MitigationFacts, since: number): Mitigation | null {
  if (!facts.plan || !facts.steps) return null;
  const nodes = new Map(facts.plan.map((n) => [n.path, n]));
  const passed = facts.steps
    .filter((s) => s.status === 'passed' && s.endedAt !== undefined)
    .map((s) => ({ path: s.path, node: nodes.get(s.path), kind: nodes.get(s.path)?.kind, at: s.endedAt! }))
    .sort((a, b) => a.at - b.at);
  const back = passed.find((s) => s.node && (MITIGATING_KINDS.has(s.node.kind) || MITIGATING_IDS.has(s.node.id ?? '')));
  if (!back) return null;
  const smoke = passed.find((s) => s.kind === 'smoke' && s.at >= back.at);
  if (!smoke) return null;
  return { at: smoke.at, afterMs: Math.max(0, smoke.at - since), step: smoke.path, after: back.path };
}

/** The level at `elapsed` of `objective`, by integer arithmetic: 74.9% is ok, 75% amber, 100% red. */
export function recoveryLevel(elapsedMs: number, objectiveMs: number): RecoveryLevel {
  if (elapsedMs >= objectiveMs) return 'red';
  if (elapsedMs * 4 >= objectiveMs * 3) return 'amber';
  return 'ok';
}

/** The clock of a session at `now` (stopped at its end when it has ended), or null when it has none. */
export function readRecovery(facts: RecoveryFacts, now: number): RecoveryReading | null {
  const start = facts.recovery;
  if (!start) return null;
  const ended = facts.outcome !== undefined && facts.endedAt !== undefined;
  const raw = ended
    ? facts.outcome === 'succeeded' && facts.recoveredMs !== undefined
      ? facts.recoveredMs
      : facts.endedAt! - start.since
    : now - start.since;
  const elapsedMs = Math.max(0, raw);
  const level = recoveryLevel(elapsedMs, start.objectiveMs);
  const recovered = ended && facts.outcome === 'succeeded';
  const mitigated = readMitigation(facts, start.since);
  return {
    ...(mitigated ? { mitigated } : {}),
    start,
    elapsedMs,
    leftMs: start.objectiveMs - elapsedMs,
    level,
    state: !ended ? 'running' : recovered ? 'recovered' : 'not-recovered',
    met: recovered ? elapsedMs < start.objectiveMs : ended ? false : null,
    ...(ended && !recovered ? { outcome: facts.outcome } : {}),
  };
}

/**
 * A clock's duration: whole seconds, never rounded up (14m59.6s is "14m59s": it has not reached 15m), as
 * `1h2m3s`, `6m12s`, `15m`, `0s`.
 */
export function clockText(ms: number): string {
  const total = Math.floor(Math.max(0, ms) / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (!h && !m) return `${s}s`;
  return `${h ? `${h}h` : ''}${m || (h && s) ? `${m}m` : ''}${s ? `${s}s` : ''}`;
}

/**
 * The clock in one line: "recovery 6m12s / 15m (8m48s left)", "recovered in 6m12s (objective 15m: met)"; once
 * traffic was back on a healthy version, ", mitigated after 2m10s" after it.
 */
export function recoveryText(r: RecoveryReading): string {
  return clockWords(r) + (r.mitigated ? `, mitigated after ${clockText(r.mitigated.afterMs)}` : '');
}

function clockWords(r: RecoveryReading): string {
  const objective = clockText(r.start.objectiveMs);
  const elapsed = clockText(r.elapsedMs);
  switch (r.state) {
    case 'recovered':
      return `recovered in ${elapsed} (objective ${objective}: ${r.met ? 'met' : 'missed'})`;
    case 'not-recovered':
      return `not recovered: ${r.outcome ?? 'ended'} after ${elapsed} (objective ${objective}: missed)`;
    case 'running':
      return r.level === 'red'
        ? `recovery ${elapsed} / ${objective} (over by ${clockText(-r.leftMs)})`
        : `recovery ${elapsed} / ${objective} (${r.level === 'amber' ? 'only ' : ''}${clockText(Math.max(0, r.leftMs))} left)`;
  }
}

/** The clock's JSON for reports: the definition with the reading. */
export function recoveryJson(r: RecoveryReading) {
  return {
    objective: r.start.objective,
    objectiveMs: r.start.objectiveMs,
    ...(r.start.name ? { name: r.start.name } : {}),
    since: r.start.since,
    from: r.start.from,
    reason: r.start.reason,
    ...(r.start.breach ? { breach: r.start.breach } : {}),
    elapsedMs: r.elapsedMs,
    state: r.state,
    met: r.met,
    level: r.level,
    ...(r.mitigated ? { mitigated: r.mitigated } : {}),
    text: recoveryText(r),
  };
}

function utc(t: number): string {
  return new Date(t).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
}

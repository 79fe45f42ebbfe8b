/**
 * What the monitor panel shows, folded from a session's `watch.*` events: the live screen, a resumed watch and a
 * replay all draw the same state. Bounded: a one-hour watch at a 1 s interval must not grow without limit, so only
 * the recent values (for the sparkline) and the recent breach log are kept; counts cover the whole hour.
 */
import type { AuditEvent, WatchRuleInfo, WatchVerdict } from '../events.js';
import { exhaustive } from '../exhaustive.js';

/** Values kept per rule for the sparkline. */
export const PANEL_HISTORY = 120;
/** Breach/recovery/connection lines kept for the log. */
export const PANEL_LOG = 50;

export interface PanelRule extends WatchRuleInfo {
  value: number | null;
  raw: string | null;
  baseline: number | null;
  verdict: WatchVerdict | null;
  reason: string;
  /** Recent values, oldest first (null: no number in that sample). */
  history: Array<number | null>;
  counts: Record<WatchVerdict, number>;
  breached: boolean;
  lastT: number | null;
}

export interface PanelLogLine {
  t: number;
  kind: 'breach' | 'recovery' | 'down' | 'up' | 'warning';
  rule?: string;
  text: string;
  advice?: 'alert' | 'rollback';
}

export interface WatchPanel {
  step: string | null;
  since: number;
  until: number;
  intervalMs: number;
  prometheus: string;
  rules: PanelRule[];
  log: PanelLogLine[];
  connection: { state: 'up' | 'down' | 'unknown'; since: number | null; error?: string };
  /** Evaluation time of the latest sample (the simulated clock in a backtest, the wall clock live). */
  lastT: number | null;
  samples: number;
  breaches: number;
  finished?: { verdict: 'pass' | 'fail' | 'inconclusive'; text: string; advice: string[] };
}

const zero = (): Record<WatchVerdict, number> => ({ pass: 0, fail: 0, inconclusive: 0, error: 0 });

function pushBounded<T>(list: T[], item: T, max: number): T[] {
  const next = list.length >= max ? list.slice(list.length - max + 1) : list.slice();
  next.push(item);
  return next;
}

function withRule(panel: WatchPanel, id: string, fn: (r: PanelRule) => PanelRule): WatchPanel {
  const i = panel.rules.findIndex((r) => r.id === id);
  if (i < 0) return panel;
  const rules = panel.rules.slice();
  rules[i] = fn(rules[i]);
  return { ...panel, rules };
}

/** Fold one `watch.*` event (others return the panel unchanged). */
export function foldWatch(panel: WatchPanel | undefined, event: AuditEvent): WatchPanel | undefined {
  switch (event.type) {
    case 'watch.started': {
      const d = event.data;
      // A resumed watch keeps what the panel knew of the same hour.
      const old = d.resumed && panel && panel.since === d.since ? panel : undefined;
      return {
        step: event.stepId,
        since: d.since,
        until: d.until,
        intervalMs: d.intervalMs,
        prometheus: d.prometheus,
        rules: d.rules.map((r) => {
          const before = old?.rules.find((o) => o.id === r.id);
          return before
            ? { ...before, ...r }
            : {
                ...r,
                value: null,
                raw: null,
                baseline: null,
                verdict: null,
                reason: '',
                history: [],
                counts: zero(),
                breached: false,
                lastT: null,
              };
        }),
        log: old?.log ?? [],
        connection: { state: 'unknown', since: null },
        lastT: old?.lastT ?? null,
        samples: old?.samples ?? 0,
        breaches: old?.breaches ?? 0,
      };
    }
    case 'watch.preflight': {
      if (!panel) return panel;
      const d = event.data;
      let log = panel.log;
      for (const w of d.warnings) log = pushBounded(log, { t: event.time, kind: 'warning', text: w }, PANEL_LOG);
      return { ...panel, log };
    }
    case 'watch.baseline': {
      if (!panel) return panel;
      const d = event.data;
      return withRule(panel, d.rule, (r) => ({ ...r, baseline: d.value }));
    }
    case 'watch.sample': {
      if (!panel) return panel;
      const d = event.data;
      const next = withRule(panel, d.rule, (r) => ({
        ...r,
        value: d.value,
        raw: d.raw,
        baseline: d.baseline ?? r.baseline,
        verdict: d.verdict,
        reason: d.reason,
        history: pushBounded(r.history, d.value !== null && Number.isFinite(d.value) ? d.value : null, PANEL_HISTORY),
        counts: { ...r.counts, [d.verdict]: r.counts[d.verdict] + 1 },
        lastT: d.t,
      }));
      return { ...next, lastT: Math.max(next.lastT ?? 0, d.t), samples: next.samples + 1 };
    }
    case 'watch.breach': {
      if (!panel) return panel;
      const d = event.data;
      const next = withRule(panel, d.rule, (r) => ({ ...r, breached: true }));
      return {
        ...next,
        breaches: next.breaches + 1,
        log: pushBounded(next.log, { t: d.t, kind: 'breach', rule: d.rule, text: d.reason, advice: d.advice }, PANEL_LOG),
      };
    }
    case 'watch.recovery': {
      if (!panel) return panel;
      const d = event.data;
      const next = withRule(panel, d.rule, (r) => ({ ...r, breached: false }));
      return { ...next, log: pushBounded(next.log, { t: d.t, kind: 'recovery', rule: d.rule, text: d.reason }, PANEL_LOG) };
    }
    case 'watch.connection': {
      if (!panel) return panel;
      const d = event.data;
      // The first answer of a watch is no news: only an answer after a failure is logged (also across a resume).
      const lastConn = panel.log.findLast((l) => l.kind === 'down' || l.kind === 'up');
      if (d.state === 'up' && panel.connection.state !== 'down' && lastConn?.kind !== 'down')
        return { ...panel, connection: { state: 'up', since: d.t } };
      const text = d.state === 'down' ? `Prometheus not answering: ${d.error ?? 'unknown error'}` : 'Prometheus answering again';
      return {
        ...panel,
        connection: { state: d.state, since: d.t, ...(d.error ? { error: d.error } : {}) },
        log: pushBounded(panel.log, { t: d.t, kind: d.state, text }, PANEL_LOG),
      };
    }
    case 'watch.finished': {
      if (!panel) return panel;
      const d = event.data;
      return { ...panel, finished: d };
    }
    // The session's and the steps' events are not the panel's.
    case 'session.started':
    case 'session.resumed':
    case 'session.paused':
    case 'session.finished':
    case 'step.started':
    case 'step.spawned':
    case 'step.output':
    case 'step.confirmed':
    case 'step.passed':
    case 'step.failed':
    case 'step.skipped':
    case 'step.interrupted':
    case 'step.probed':
    case 'note.added':
    case 'smoke.check':
    case 'deploy.built':
    case 'deploy.deployed':
    case 'deploy.switched':
    case 'deploy.rollback':
    case 'notify.sending':
    case 'notify.retrying':
    case 'notify.delivered':
    case 'notify.failed':
    case 'release.published':
    case 'approval.requested':
    case 'approval.granted':
    case 'approval.rejected':
    case 'approval.resolved':
    case 'approval.ignored':
      return panel;
    default:
      exhaustive(event);
      return panel;
  }
}

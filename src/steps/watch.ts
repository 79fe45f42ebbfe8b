import { z } from 'zod';
import type { ParamValue } from '../core/checklist/types.js';
import { parseDuration, timerDurationProblem } from '../core/duration.js';
import type { AuditEvent } from '../core/events.js';
import { interpolate } from '../core/params.js';
import { runWatch } from '../core/watch/run.js';
import { checkTemplates, fail } from './git-common.js';
import { defineStepKind, type SpecOf } from './define.js';

const fields = {
  /** The deploy time: ISO-8601 or unix seconds (a template); default: when this step first started. */
  since: z.string().optional(),
  duration: z.string().min(1).optional(),
  interval: z.string().min(1).optional(),
  /** End the step at the first breach (headless: a pager or CI learns at once). A boolean or a template. */
  stopOnBreach: z.union([z.boolean(), z.string()]).optional(),
};

type WatchSpec = SpecOf<typeof fields>;

/** `2026-01-05T12:00:00Z`, `2026-01-05 12:00`, or unix seconds; null when it is none of these. */
export function parseTime(text: string): number | null {
  const t = text.trim();
  if (!t) return null;
  if (/^\d{9,11}(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(t)) return null;
  const iso = t.replace(' ', 'T');
  // A time without a zone is UTC: the audit log and the panel show UTC.
  const ms = Date.parse(/(Z|[+-]\d{2}:?\d{2})$/.test(iso) || !iso.includes('T') ? iso : `${iso}Z`);
  return Number.isFinite(ms) ? ms : null;
}

function settings(spec: WatchSpec, params: Record<string, ParamValue>, fallback: { durationMs: number; intervalMs: number }) {
  const text = (v: unknown) => (typeof v === 'string' ? interpolate(v, params).trim() : v === undefined ? '' : String(v));
  const durationText = text(spec.duration);
  const intervalText = text(spec.interval);
  const durationMs = durationText ? parseDuration(durationText) : fallback.durationMs;
  const intervalMs = intervalText ? parseDuration(intervalText) : fallback.intervalMs;
  const stop = text(spec.stopOnBreach);
  return {
    sinceText: text(spec.since),
    durationText,
    intervalText,
    durationMs,
    intervalMs,
    stopOnBreach: stop === 'true' || stop === 'yes' || stop === '1',
  };
}

/**
 * The post-deploy watch as a checklist step (core/watch/run.ts): Prometheus polled every interval for the hour
 * after the deploy, every sample judged against the policy's thresholds and recorded in the session's audit log;
 * the checklist screen shows the monitor panel while it runs. Passes after a clean hour; fails on a breach (at once
 * with `stopOnBreach`, else at the end of the hour) or when the hour was inconclusive (too little data: never
 * shown as OK). A watch stopped or killed mid-hour continues the same hour when the session is resumed.
 */
export const watchStep = defineStepKind({
  kind: 'watch',
  rerunSafe: true,
  fields,
  needs: ['watch', 'history', 'record', 'prometheus', 'sleep', 'log', 'clock', 'commands'],
  validate: (step, params) => {
    const problems = checkTemplates(step, params, ['since', 'duration', 'interval', 'stopOnBreach']);
    for (const key of ['duration', 'interval'] as const) {
      const v = step[key];
      if (typeof v === 'string' && !v.includes('${') && parseDuration(v) === null)
        problems.push({ path: [key], message: `'${v}' is not a duration (e.g. 15s, 1h)` });
      else if (typeof v === 'string' && !v.includes('${')) {
        const tooLong = timerDurationProblem(v);
        if (tooLong) problems.push({ path: [key], message: tooLong });
      }
    }
    if (typeof step.since === 'string' && step.since && !step.since.includes('${') && parseTime(step.since) === null) {
      problems.push({ path: ['since'], message: `'${step.since}' is not a time (ISO-8601 such as 2026-01-05T12:00:00Z, or unix seconds)` });
    }
    return problems;
  },
  describe({ spec, params }) {
    const s = settings(spec, params, { durationMs: 0, intervalMs: 0 });
    return (
      `watch Prometheus (watch: in cockpit.config.yaml) for ${s.durationText || 'the configured duration (default 1h)'} ` +
      `from ${s.sinceText || 'when this step starts'}, every ${s.intervalText || 'configured interval (default 15s)'}: ` +
      `each sample judged against the alert thresholds and recorded; ${s.stopOnBreach ? 'stops at the first breach' : 'a breach rings the bell and shows the policy’s advice'}`
    );
  },
  async execute(ctx) {
    const config = ctx.watch;
    if (!config)
      return fail(
        'no watch configured: add watch.prometheus.url to cockpit.config.yaml (the rules default to the policy’s alert thresholds)',
      );
    const spec = ctx.spec;
    const s = settings(spec, ctx.params, { durationMs: config.durationMs, intervalMs: config.intervalMs });
    if (s.durationMs === null || s.durationMs <= 0) return fail(`duration '${s.durationText}' is not a duration (e.g. 1h)`);
    if (s.intervalMs === null || s.intervalMs < 100)
      return fail(`interval '${s.intervalText}' is not a duration of at least 100ms (e.g. 15s)`);
    const tooLong = timerDurationProblem(s.durationText, s.durationMs) ?? timerDurationProblem(s.intervalText, s.intervalMs);
    if (tooLong) return fail(tooLong);

    // The same hour on a resume: the first run's start and its samples.
    const history: AuditEvent[] = await ctx.history();
    const firstStart = history.find((e) => e.type === 'watch.started');
    let since: number;
    if (s.sinceText) {
      const t = parseTime(s.sinceText);
      if (t === null) return fail(`since '${s.sinceText}' is not a time (ISO-8601 such as 2026-01-05T12:00:00Z, or unix seconds)`);
      since = t;
    } else since = firstStart?.data.since ?? ctx.clock.now();
    const prior =
      firstStart && firstStart.data.since === since ? history.filter((e) => e.type.startsWith('watch.') && e.seq >= firstStart.seq) : [];

    const opened = await ctx.prometheus(config);
    if ('error' in opened) return fail(opened.error);
    try {
      const r = await runWatch({
        config,
        client: opened.client,
        clock: { now: () => ctx.clock.now(), sleep: (ms, signal) => ctx.sleep(ms, signal) },
        since,
        durationMs: s.durationMs,
        intervalMs: s.intervalMs,
        signal: ctx.signal,
        record: (events) => ctx.record(events),
        prior,
        stopOnBreach: s.stopOnBreach,
      });
      if (r.verdict === 'stopped')
        return { status: 'aborted', reason: 'stopped by the operator (the watch continues its hour when the session is resumed)' };
      ctx.log(r.text);
      for (const a of r.advice) ctx.log(a);
      if (r.verdict === 'pass') return { status: 'passed' };
      if (r.verdict === 'inconclusive') {
        return {
          status: 'failed',
          exitCode: null,
          reason: `${r.text} — missing data is not a pass: check the queries and the traffic, then retry, or skip with a reason`,
        };
      }
      const advice = r.advice.length ? ` ${r.advice.join(' ')}` : '';
      // The rollback names this session: its recovery clock then counts from this breach (core/recovery.ts).
      const rollback = ctx.commands.line(['run', 'rollback-code', '--recovery-since', ctx.commands.session]);
      return {
        status: 'failed',
        exitCode: null,
        reason: `${r.text}.${advice} Decide: roll back (${rollback}), or skip this step with the reason the breach is acceptable`,
      };
    } finally {
      opened.client.close();
    }
  },
  // No probe: a resumed watch continues its hour from the recorded samples.
});

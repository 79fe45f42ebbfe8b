import { renderToString } from 'ink';
import stringWidth from 'string-width';
import { stripVTControlCharacters } from 'node:util';
import type { ReactElement } from 'react';
import { describe, expect, it } from 'vitest';
import type { AuditEvent, EventType } from '../../src/core/events.js';
import { resolveWatchConfig, type WatchConfig } from '../../src/core/watch/config.js';
import { PANEL_LOG, foldWatch, type WatchPanel as Panel } from '../../src/core/watch/panel.js';
import { runWatch, simulatedClock, type PrometheusPort, type QueryOutcome } from '../../src/core/watch/run.js';
import { WatchPanel } from '../../src/tui/components/WatchPanel.js';
import { colorTheme, noColorTheme, ThemeContext, type Theme } from '../../src/tui/theme.js';

// The monitor panel as a flow: real events, made by the watch loop itself (core/watch/run.ts on a simulated clock,
// against a scripted Prometheus), folded by foldWatch as the live screen, a resume and a replay do, then drawn.

const SINCE = Date.UTC(2026, 10, 27, 9, 0, 0);
const INTERVAL = 15_000;

const config: WatchConfig = resolveWatchConfig({
  prometheus: { url: 'http://prometheus.internal:9090' },
  vars: { job: 'app', dbJob: 'db' },
  interval: '15s',
  duration: '1h',
});

type Signal = 'error_rate' | 'latency_p95' | 'failed_payments' | 'payment_failure_ratio' | 'db_cpu' | 'requests' | 'payments';

/** Which built-in query this is (config.ts's BUILTIN_SIGNALS, variables resolved). */
function signalOf(query: string): Signal {
  if (query.includes('node_cpu_seconds_total')) return 'db_cpu';
  if (query.includes('histogram_quantile')) return 'latency_p95';
  if (query.includes('status_code=~"5.."')) return 'error_rate';
  if (query.startsWith('sum(increase(payments_total{job="app",result="failed"}')) return 'failed_payments';
  if (query.startsWith('sum(increase(payments_total{job="app"}')) return 'payments';
  if (query.includes('payments_total')) return 'payment_failure_ratio';
  if (query.startsWith('sum(rate(http_request_duration_seconds_count{job="app"}')) return 'requests';
  throw new Error(`unexpected query ${query}`);
}

/** What Prometheus answers at tick `i` (the baselines at the deploy time are asked with the [3600s] window). */
type Script = (signal: Signal, tick: number) => string | null | 'down';

const healthy: Record<Signal, string> = {
  error_rate: '0.002',
  latency_p95: '0.2',
  failed_payments: '0',
  payment_failure_ratio: '0',
  db_cpu: '35',
  requests: '20',
  payments: '120',
};

function scriptedPrometheus(script: Script): PrometheusPort {
  return {
    url: config.prometheus.url,
    async query(query, timeSec): Promise<QueryOutcome> {
      // The pre-flight's checks (job labels, counters): everything exists.
      if (query.startsWith('count(')) return { ok: true, raw: '1', series: 1, warnings: [], latencyMs: 1 };
      const signal = signalOf(query);
      const baseline = query.includes('[3600s]');
      const answer = baseline ? healthy[signal] : script(signal, Math.round((timeSec * 1000 - SINCE) / INTERVAL));
      if (answer === 'down')
        return { ok: false, kind: 'unreachable', error: 'connection refused (http://prometheus.internal:9090)', latencyMs: 1 };
      return { ok: true, raw: answer ?? undefined, series: answer === null ? 0 : 1, warnings: [], latencyMs: 1 };
    },
  };
}

/** The watch's events for `ticks` ticks (then stopped, as a live watch is mid-hour), as the audit log holds them. */
async function watchEvents(script: Script, ticks: number): Promise<AuditEvent[]> {
  const clock = simulatedClock(SINCE);
  const abort = new AbortController();
  const out: AuditEvent[] = [];
  let seq = 0;
  let samples = 0;
  await runWatch({
    config,
    client: scriptedPrometheus(script),
    clock,
    since: SINCE,
    durationMs: 3_600_000,
    intervalMs: INTERVAL,
    signal: abort.signal,
    record: async (events) => {
      for (const e of events) {
        out.push({
          sessionId: 's1',
          seq: ++seq,
          time: e.time ?? clock.now(),
          type: e.type as EventType,
          stepId: 'watch',
          actor: 'cockpit',
          data: e.data,
        } as AuditEvent);
        if (e.type === 'watch.sample' && ++samples === ticks * config.rules.length) abort.abort();
      }
    },
  });
  return out;
}

function fold(events: AuditEvent[]): Panel {
  let panel: Panel | undefined;
  for (const e of events) panel = foldWatch(panel, e);
  return panel!;
}

function draw(
  panel: Panel,
  width: number,
  height: number,
  o: { theme?: Theme; now?: number; live?: boolean } = {},
): { raw: string; text: string; lines: string[] } {
  const el: ReactElement = (
    <ThemeContext.Provider value={o.theme ?? noColorTheme}>
      <WatchPanel panel={panel} width={width} height={height} now={o.now ?? (panel.lastT ?? SINCE) + 5_000} live={o.live ?? true} />
    </ThemeContext.Provider>
  );
  const raw = renderToString(el, { columns: width });
  const text = stripVTControlCharacters(raw);
  return { raw, text, lines: text.split('\n') };
}

/** Every line within the width (in terminal columns), no more lines than the height. */
function expectFits(d: { lines: string[]; text: string }, width: number, height: number): void {
  expect(d.lines.length, d.text).toBeLessThanOrEqual(height);
  for (const l of d.lines) expect(stringWidth(l), `${JSON.stringify(l)} in ${width} columns`).toBeLessThanOrEqual(width);
}

/** The events up to the end of tick `tick` (those without a time — started, baselines — all come first). */
const upTo = (events: AuditEvent[], tick: number) =>
  events.filter((e) => ((e.data as { t?: number }).t ?? SINCE) <= SINCE + tick * INTERVAL);

const row = (lines: string[], title: string) => lines.find((l) => l.slice(2).startsWith(title)) ?? '';

/**
 * Ticks 0–1 the p95 has no data (inconclusive); ticks 2–4 the DB CPU is at 95 % (breach at the 3rd), 5 back to 40
 * (recovery); from tick 4 payment failures at 5 % (breach at the 2nd, never recovered: the rollback advice); ticks
 * 8–9 Prometheus does not answer (errors, connection down), tick 10 it answers again.
 */
const story: Script = (signal, tick) => {
  if (tick === 8 || tick === 9) return 'down';
  if (signal === 'latency_p95' && tick < 2) return null;
  if (signal === 'db_cpu' && tick >= 2 && tick <= 4) return '95';
  if (signal === 'db_cpu' && tick >= 5) return '40';
  if (signal === 'payment_failure_ratio' && tick >= 4) return '0.05';
  return healthy[signal];
};

describe('the monitor panel, from the watch loop’s own events', () => {
  it('the story: every verdict, a breach and its recovery, a breach with rollback advice, the connection down and up — at 100, 80 and 60 columns', async () => {
    const events = await watchEvents(story, 12);
    const types = events.map((e) => e.type);
    expect(types.filter((t) => t === 'watch.baseline')).toHaveLength(config.rules.length - 1); // failed payments ($elapsed) has none
    expect(events.filter((e) => e.type === 'watch.breach').map((e) => (e.data as { rule: string }).rule)).toEqual([
      'db_cpu_high',
      'payment_failure_ratio_high',
    ]);
    expect(events.filter((e) => e.type === 'watch.recovery').map((e) => (e.data as { rule: string }).rule)).toEqual(['db_cpu_high']);
    expect(events.filter((e) => e.type === 'watch.connection').map((e) => (e.data as { state: string }).state)).toEqual([
      'up',
      'down',
      'up',
    ]);
    expect(new Set(events.filter((e) => e.type === 'watch.sample').map((e) => (e.data as { verdict: string }).verdict))).toEqual(
      new Set(['pass', 'fail', 'inconclusive', 'error']),
    );

    // After tick 1: the p95 has no data yet; everything else passes; nothing in the log.
    const early = fold(upTo(events, 1));
    let d = draw(early, 100, 20);
    expectFits(d, 100, 20);
    expect(d.lines[0]).toMatch(/^Watch since 09:00:00Z · 59m40s left of 1h \[░+\] · every 15s · 10 samples$/);
    expect(d.lines[1]).toBe('● Prometheus up · http://prometheus.internal:9090');
    expect(row(d.lines, 'p95 response time up')).toMatch(/^\? p95 response time up more than 20%\s+—\s+200ms\s+—\s+.*no data$/);
    expect(row(d.lines, 'Error rate up more than')).toMatch(/^✔ .* 0\.2%\s+0\.2%\s+0 points .*ok$/);
    expect(d.text).toContain('Breaches and recoveries: none');

    // Tick 9: Prometheus down; every rule's sample is an error.
    const down = fold(upTo(events, 9));
    d = draw(down, 100, 20);
    expectFits(d, 100, 20);
    expect(d.lines[1]).toMatch(/^✖ Prometheus DOWN: connection refused \(http:\/\/prometheus\.internal:9090\)$/);
    expect(row(d.lines, 'Any failed payment')).toMatch(/^⚠ Any failed payment .* error$/);
    expect(row(d.lines, 'Payment failures over')).toMatch(/^✖ .*BREACHED$/); // an error does not end a breach
    expect(d.text).toMatch(/09:02:00Z ⚠ Prometheus not answering: connection refused/);

    // The end of tick 11: all of it.
    const panel = fold(events);
    expect(panel.samples).toBe(12 * config.rules.length);
    expect(panel.connection.state).toBe('up');
    d = draw(panel, 100, 20);
    expectFits(d, 100, 20);
    expect(d.lines[1]).toMatch(/^● Prometheus up/);
    expect(row(d.lines, 'Payment failures over')).toMatch(
      /^✖ Payment failures over 1% of transac… 5%\s+0%\s+\+5 points\s+> 1%\s+(\S+\s+)?BREACHED$/,
    );
    expect(row(d.lines, 'Database CPU over 80%')).toMatch(/^✔ Database CPU over 80%\s+40%\s+35%\s+\+5 points\s+> 80%\s+(\S+\s+)?ok$/);
    // (At 100 columns the line is cut before its "— R starts the rollback checklist"; the status bar has R.)
    expect(d.text).toMatch(/^Consider a rollback \(R starts it\): Payment failures over 1% of transactions \(policy: "Payment proce/m);
    expect(d.text).toContain('Breaches and recoveries (2 breaches; newest last)');
    const log = d.lines.slice(d.lines.findIndex((l) => l.startsWith('Breaches and recoveries')) + 1).filter((l) => l.trim());
    expect(log).toEqual([
      // (Cut to the width: the breach's "(3 failing samples in a row)" and "— consider a rollback" are in the audit log.)
      expect.stringMatching(/^09:01:00Z ✖ ALERT Database CPU over 80%: database CPU 95% is over the limit 80% \(baseline 35%\)/),
      expect.stringMatching(/^09:01:15Z ✖ ALERT Payment failures over 1% of transactions: payment failures 5% is over the limit 1/),
      // The DB CPU rule recovers after as many passes in a row as it needs fails to breach (3).
      expect.stringMatching(/^09:01:45Z ✔ recovered Database CPU over 80%: database CPU 40% is within the limit 80%/),
      expect.stringMatching(/^09:02:00Z ⚠ Prometheus not answering: connection refused \(http:\/\/prometheus\.internal:9090\)$/),
      expect.stringMatching(/^09:02:30Z ● Prometheus answering again$/),
    ]);
    // The first answer of the watch is not news: no "answering again" before anything went down.
    expect(d.text.match(/answering again/g)).toHaveLength(1);

    // 80 columns: the recent samples' sparkline is shown; the baseline (which the change measures against) gives way.
    d = draw(panel, 80, 20);
    expectFits(d, 80, 20);
    expect(d.lines.find((l) => /^\s+Rule\s/.test(l))).toMatch(/^\s+Rule\s+Value\s+Change\s+Alert when\s+Recent\s+Now$/);
    expect(row(d.lines, 'Payment failu')).toMatch(/^✖ Payment failures over 1% of… 5%\s+\+5 points\s+> 1%\s+[▁▂▃▄▅▆▇█·]{7}\s+BREACHED$/);
    expect(row(d.lines, 'Database CPU')).toMatch(/^✔ Database CPU over 80%\s+40%\s+\+5 points\s+> 80%\s+[▁▂▃▄▅▆▇█·]{7}\s+ok$/);

    // 60 columns (the smallest terminal): the same rows; the columns that matter least (the baseline, the recent
    // samples, the change) are left out whole rather than cut, and the name, value, threshold and verdict stay.
    d = draw(panel, 60, 20);
    expectFits(d, 60, 20);
    expect(d.lines[0]).toMatch(/^Watch since 09:00:00Z · .*…$/);
    expect(row(d.lines, 'Payment failu')).toMatch(/^✖ Payment failures ove… 5%\s+> 1%\s+BREACHED$/);
    expect(row(d.lines, 'Database CPU')).toMatch(/^✔ Database CPU over 80%\s+40%\s+> 80%\s+ok$/);
    expect(d.text).toMatch(/^Consider a rollback \(R starts it\): Payment failures over 1%…$/m);
    expect(d.text).toContain('✖ ALERT Database CPU');
    expect(d.text).toContain('✔ recovered Database CPU');
  });

  it('a long log is cut to the height (newest kept), after the rows and the advice', async () => {
    // The DB CPU flaps: 3 samples at 95 % (a breach), 3 at 40 % (a recovery), over and over; payments keep failing.
    const flapping: Script = (signal, tick) => {
      if (signal === 'db_cpu') return tick % 6 < 3 ? '95' : '40';
      if (signal === 'payment_failure_ratio') return '0.05';
      return healthy[signal];
    };
    const events = await watchEvents(flapping, 180);
    const panel = fold(events);
    expect(panel.breaches).toBe(31);
    expect(panel.log.length).toBe(PANEL_LOG); // bounded: the fold keeps the newest lines
    for (const [width, height] of [
      [100, 16],
      [60, 12],
      [100, 11],
    ]) {
      const d = draw(panel, width, height);
      expectFits(d, width, height);
      expect(d.lines, d.text).toHaveLength(height);
      expect(d.lines[0]).toMatch(/^Watch since/);
      expect(row(d.lines, 'Payment failu')).toMatch(/^✖ /);
      expect(d.lines.find((l) => l.startsWith('Consider a rollback (R starts it): Payment failures'))).toBeDefined();
      const title = d.lines.findIndex((l) => l.startsWith('Breaches and recoveries (31 breaches'));
      expect(title, d.text).toBeGreaterThan(0);
      const shown = d.lines.slice(title + 1);
      expect(shown.length).toBe(height - title - 1);
      // The newest: tick 179 (09:44:45Z), the 3rd pass of its cycle, a recovery.
      expect(shown.at(-1)).toMatch(/^09:44:45Z ✔ recovered Database CPU/);
    }
    // So few rows that not even the log's title fits: the rows and the advice win.
    const tiny = draw(panel, 100, 9);
    expectFits(tiny, 100, 9);
    expect(tiny.lines).toHaveLength(9);
    expect(tiny.lines.at(-1)).toMatch(/^Consider a rollback \(R starts it\): Payment failures/);
    expect(tiny.text).not.toContain('Breaches and recoveries');
  });

  it('NO_COLOR: no colour codes, and nothing lost — glyphs and words say what the colours say', async () => {
    const panel = fold(await watchEvents(story, 12));
    const plain = draw(panel, 100, 20, { theme: noColorTheme });
    const color = draw(panel, 100, 20, { theme: colorTheme });
    expect(plain.raw).not.toMatch(/\u001b\[(3\d|9\d)m/); // no foreground colour
    expect(plain.text).toBe(color.text);
    for (const word of [
      '✖',
      '✔',
      'BREACHED',
      'ok',
      '✖ ALERT',
      '✔ recovered',
      '⚠ Prometheus not answering',
      '● Prometheus up',
      'Consider a rollback',
    ]) {
      expect(plain.text, word).toContain(word);
    }
    // A finished watch says so in its head line, with the summary's advice instead of the live one.
    const finished = foldWatch(panel, {
      sessionId: 's1',
      seq: 10_000,
      time: SINCE + 3_600_000,
      type: 'watch.finished',
      stepId: 'watch',
      actor: 'cockpit',
      data: {
        verdict: 'fail',
        text: 'FAIL: 2 of 5 rules breached',
        advice: ['Consider a rollback: Payment failures over 1% of transactions (policy: "…")'],
      },
    } as AuditEvent)!;
    const over = draw(finished, 100, 20, { live: false });
    expectFits(over, 100, 20);
    expect(over.lines[0]).toMatch(/^Watch since 09:00:00Z · FAIL: the 1h watch is over/);
    expect(over.text).toContain('Consider a rollback: Payment failures over 1% of transactions (policy: "…")');
    expect(over.text).not.toContain('R starts the rollback checklist');
  });
});

import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import { formatDuration } from '../../core/duration.js';
import type { WatchVerdict } from '../../core/events.js';
import type { Unit } from '../../core/watch/config.js';
import { formatDelta, formatValue, sparkline } from '../../core/watch/format.js';
import type { PanelLogLine, PanelRule, WatchPanel as Panel } from '../../core/watch/panel.js';
import { allocateLeastFirst, cellWidth, padCells } from '../cells.js';
import { screenLine } from '../text.js';
import { useTheme, type Theme } from '../theme.js';

const VERDICT_GLYPH: Record<WatchVerdict, string> = { pass: '✔', fail: '✖', inconclusive: '?', error: '⚠' };
const VERDICT_WORD: Record<WatchVerdict, string> = { pass: 'ok', fail: 'FAIL', inconclusive: 'no data', error: 'error' };

function verdictColor(t: Theme, v: WatchVerdict | null, breached: boolean): string | undefined {
  if (breached || v === 'fail') return t.danger;
  if (v === 'pass') return t.ok;
  if (v === 'inconclusive' || v === 'error') return t.warn;
  return t.muted;
}

const LOG_MARK: Record<PanelLogLine['kind'], string> = {
  breach: '✖ ALERT',
  recovery: '✔ recovered',
  down: '⚠',
  up: '●',
  warning: '⚠ check:',
};

const utcTime = (ms: number) => new Date(ms).toISOString().slice(11, 19) + 'Z';

/**
 * The rule table's column widths in `width` cells, by priority (cells.ts's allocateLeastFirst): the rule's name
 * (measured in cells, so CJK and emoji names keep the columns aligned; whole up to 24 cells at the least), its value
 * and verdict, the threshold, the change, the recent samples' sparkline, and the baseline, which the change already
 * measures against: at 80 columns the baseline gives way, not the sparkline. Each is shown at its least width first,
 * then widened in that order; the sparkline takes what is left.
 */
export function watchColumns(rules: readonly PanelRule[], width: number) {
  const name = Math.max(4, ...rules.map((r) => cellWidth(screenLine(r.title))));
  const threshold = Math.max(10, ...rules.map((r) => cellWidth(screenLine(r.threshold))));
  const NUM = 9;
  // Each column with the space after it; the glyph and its space (2) come first, the verdict word (8) last.
  const [n, value, word, thr, change, spark, baseline] = allocateLeastFirst(
    [
      // A very long name is cut at 36% of the width, a long threshold at 20%: the other columns come after them.
      { want: Math.min(name, Math.max(12, Math.floor(width * 0.36))) + 1, min: Math.min(name, 24) + 1 },
      { want: NUM + 1 },
      { want: 8 },
      // At least its heading, "Alert when".
      { want: Math.min(threshold, Math.max(10, Math.floor(width * 0.2))) + 1, min: 11 },
      // "+2.08 points": whole when there is room.
      { want: NUM + 4, min: NUM + 1 },
      { want: 25, min: 8, grow: true },
      { want: NUM + 1 },
    ],
    width - 2,
    0,
  );
  const less = (w: number) => Math.max(0, w - 1);
  return {
    name: less(n),
    value: less(value),
    word,
    threshold: less(thr),
    change: less(change),
    baseline: less(baseline),
    spark: less(spark),
  };
}

/**
 * The sparkline's scale: the recent values' own range, but never narrower than a tenth of their size, so the noise
 * of a flat series (35.0% ± 0.1) is drawn flat, not as full-height swings.
 */
function sparkScale(values: Array<number | null>): { min?: number; max?: number } {
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (!finite.length) return {};
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  const floor = 0.1 * Math.max(Math.abs(lo), Math.abs(hi));
  if (hi - lo >= floor) return {};
  const mid = (lo + hi) / 2;
  return { min: mid - floor / 2, max: mid + floor / 2 };
}

/** The change against the baseline as the rule judges it: points for a rate, relative otherwise. */
function delta(r: PanelRule): string {
  if (r.value === null || r.baseline === null) return '—';
  const unit = r.unit as Unit;
  if (unit === 'percent' || unit === 'ratio') return formatDelta(r.value - r.baseline, unit);
  if (r.baseline === 0) return formatDelta(r.value - r.baseline, unit);
  return formatDelta((r.value - r.baseline) / Math.abs(r.baseline), 'relative');
}

export interface WatchPanelProps {
  panel: Panel;
  width: number;
  height: number;
  /** The clock the countdown counts with (the wall clock live, the replay's clock in a replay). */
  now: number;
  /** The watch is running (live): the countdown and connection are current. */
  live: boolean;
}

/**
 * The monitor panel: one row per rule (value, baseline, change, threshold, recent samples, verdict), the hour's
 * countdown, the connection, the breach log and the policy's advice. Every line is cut to the width and the rows to
 * the height before Ink sees them (docs/architecture.md §3, "A screen").
 */
export function WatchPanel({ panel, width, height, now, live }: WatchPanelProps) {
  const t = useTheme();
  const total = panel.until - panel.since;
  const clockNow = live ? now : (panel.lastT ?? panel.since);
  const left = Math.max(0, panel.until - clockNow);
  const done = Math.min(1, Math.max(0, (clockNow - panel.since) / Math.max(1, total)));
  const barWidth = Math.max(6, Math.min(24, Math.floor(width / 6)));
  const filled = Math.round(done * barWidth);
  const bar = `${'█'.repeat(filled)}${'░'.repeat(barWidth - filled)}`;
  const conn =
    panel.connection.state === 'down'
      ? `✖ Prometheus DOWN: ${panel.connection.error ?? panel.prometheus}`
      : `${panel.connection.state === 'up' ? '● Prometheus up' : '○ Prometheus: not asked yet'} · ${panel.prometheus}`;
  const state = panel.finished
    ? `${panel.finished.verdict.toUpperCase()}: the ${formatDuration(total)} watch is over`
    : live
      ? `${formatDuration(left)} left of ${formatDuration(total)}`
      : `at ${utcTime(clockNow)} of ${formatDuration(total)}`;
  const head = `Watch since ${utcTime(panel.since)} · ${state} [${panel.finished ? '█'.repeat(barWidth) : bar}] · every ${formatDuration(panel.intervalMs)} · ${panel.samples.toLocaleString('en-US')} samples`;

  const c = watchColumns(panel.rules, width);
  const cell = (text: string, w: number) => (w ? padCells(text, w) + ' ' : '');
  const header = `  ${cell('Rule', c.name)}${cell('Value', c.value)}${cell('Baseline', c.baseline)}${cell('Change', c.change)}${cell('Alert when', c.threshold)}${cell('Recent', c.spark)}${padCells('Now', c.word)}`;

  const adviceLines = panel.finished?.advice.length
    ? panel.finished.advice
    : panel.rules
        .filter((r) => r.breached && r.advice === 'rollback')
        .map((r) => `Consider a rollback (R starts it): ${r.title}${r.policy ? ` (policy: "${r.policy}")` : ''}`);

  const rows: ReactNode[] = [
    <Text key="head" wrap="truncate-end" bold>
      {screenLine(head)}
    </Text>,
    <Text
      key="conn"
      wrap="truncate-end"
      color={panel.connection.state === 'down' ? t.danger : panel.connection.state === 'up' ? t.ok : t.muted}
    >
      {screenLine(conn)}
    </Text>,
    <Text key="cols" wrap="truncate-end" color={t.muted} underline>
      {header}
    </Text>,
    ...panel.rules.map((r) => {
      const unit = r.unit as Unit;
      const glyph = r.breached ? '✖' : r.verdict ? VERDICT_GLYPH[r.verdict] : '·';
      const word = r.breached ? 'BREACHED' : r.verdict ? VERDICT_WORD[r.verdict] : 'waiting';
      const spark = c.spark ? sparkline(r.history, c.spark, sparkScale(r.history.slice(-c.spark))) : '';
      const line = `${glyph} ${cell(screenLine(r.title), c.name)}${cell(formatValue(r.value, unit), c.value)}${cell(formatValue(r.baseline, unit), c.baseline)}${cell(delta(r), c.change)}${cell(screenLine(r.threshold), c.threshold)}${cell(spark, c.spark)}${word}`;
      return (
        <Text key={r.id} wrap="truncate-end" color={verdictColor(t, r.verdict, r.breached)} bold={r.breached}>
          {screenLine(line)}
        </Text>
      );
    }),
    // The advice comes before the log: when rows run out, it is the log that is cut.
    ...adviceLines.map((a, i) => (
      <Text key={`a${i}`} wrap="truncate-end" color={t.danger} bold>
        {screenLine(a)}
      </Text>
    )),
  ];
  const logRoom = height - rows.length - 1;
  if (logRoom >= 0) {
    rows.push(
      <Text key="logt" wrap="truncate-end" color={t.muted} underline>
        {panel.log.length
          ? `Breaches and recoveries (${panel.breaches} breach${panel.breaches === 1 ? '' : 'es'}; newest last)`
          : 'Breaches and recoveries: none'}
      </Text>,
    );
    for (const [i, l] of (logRoom > 0 ? panel.log.slice(-logRoom) : []).entries()) {
      rows.push(
        <Text
          key={`l${i}`}
          wrap="truncate-end"
          color={l.kind === 'breach' || l.kind === 'down' ? t.danger : l.kind === 'warning' ? t.warn : t.ok}
        >
          {screenLine(`${utcTime(l.t)} ${LOG_MARK[l.kind]} ${l.text}${l.advice === 'rollback' ? ' — consider a rollback' : ''}`)}
        </Text>,
      );
    }
  }
  return (
    <Box flexDirection="column" width={width} height={height}>
      {rows.slice(0, height)}
    </Box>
  );
}

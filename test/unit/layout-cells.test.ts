import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { type AuditEvent, type EventDataMap, type EventType, type PlanNode } from '../../src/core/events.js';
import { reduceAll } from '../../src/core/reducer.js';
import { allocateColumns, allocateLeastFirst, cellWidth, fitCells, fitParts, padCells, splitCells } from '../../src/tui/cells.js';
import { checklistLayout } from '../../src/tui/components/ChecklistView.js';
import { detailLines } from '../../src/tui/components/DetailPane.js';
import { stepListWant, stepRow } from '../../src/tui/components/StepList.js';
import { sessionColumnWidths } from '../../src/tui/home-layout.js';
import { wrap } from '../../src/tui/text.js';
import type { SessionEntry } from '../../src/tui/types.js';
import { planNode, startedData } from '../helpers/plan.js';

// The layout's arithmetic, without Ink: widths in terminal cells (CJK and emoji take two), columns by priority,
// the checklist screen's panes sized so the title, the state and the whole error are never cut.

describe('cells', () => {
  it('measures, cuts and pads by terminal cells, never splitting a wide character', () => {
    expect(cellWidth('准备发布')).toBe(8);
    expect(cellWidth('🚀 go')).toBe(5);
    expect(fitCells('准备发布说明', 7)).toBe('准备发…');
    expect(cellWidth(fitCells('准备发布说明', 7))).toBe(7);
    // An odd width never gets half a wide character: one cell is left blank by the padding instead.
    expect(fitCells('准备发布说明', 6)).toBe('准备…');
    expect(padCells('准备发布说明', 6)).toBe('准备… ');
    expect(padCells('🚀 launch', 12)).toBe('🚀 launch   ');
    expect(cellWidth(padCells('🚀 launch', 12))).toBe(12);
    expect(padCells('abc', 5, true)).toBe('  abc');
    expect(fitCells('short', 10)).toBe('short');
    expect(splitCells('a准b', 2)).toEqual(['a', '准b']);
    // An emoji made of several code points (a family: ZWJ sequence) is one grapheme: kept or cut whole.
    const family = '👨‍👩‍👧';
    expect(splitCells(`${family}x`, 1)).toEqual(['', `${family}x`]);
    expect(splitCells(`${family}x`, 2)).toEqual([family, 'x']);
  });

  it('wraps by cells: no wrapped line is wider than the width, and nothing is lost', () => {
    const text = '部署失败：数据库快照在备用区域不可用 then the English part of the error goes on and on';
    for (const w of [10, 17, 33]) {
      const lines = wrap(text, w);
      for (const l of lines) expect(stringWidth(l), `${JSON.stringify(l)} in ${w} cells`).toBeLessThanOrEqual(w);
      expect(lines.join('').replace(/\s/g, '')).toBe(text.replace(/\s/g, ''));
    }
  });

  it('gives columns their width by priority: one that matters more is never cut while one that matters less is shown', () => {
    // Everything fits: each its widest; the growing column takes the rest.
    expect(allocateColumns([{ want: 10 }, { want: 5 }, { want: 3, grow: true }], 30, 1)).toEqual([10, 5, 13]);
    // Not enough: the first is whole, the second cut to its least, the third left out.
    expect(allocateColumns([{ want: 10 }, { want: 8, min: 4 }, { want: 6 }], 16, 1)).toEqual([10, 5, 0]);
    // A column that must be whole and does not fit is left out; a later, smaller one may still fit.
    expect(allocateColumns([{ want: 10 }, { want: 8 }, { want: 3 }], 16, 1)).toEqual([10, 0, 3]);
    // The first column alone wider than the line: cut to the line (its least permitting).
    expect(allocateColumns([{ want: 50, min: 5 }, { want: 3 }], 20, 1)).toEqual([20, 0]);
  });

  it('least first: every column that fits at its least is shown, then widened in order of priority', () => {
    const cols = [{ want: 30, min: 13 }, { want: 10 }, { want: 25, min: 9, grow: true }, { want: 10 }];
    // Everything fits whole: the growing column takes the rest.
    expect(allocateLeastFirst(cols, 90, 0)).toEqual([30, 10, 40, 10]);
    // 78 cells: all at their least (13+10+9+10 = 42), then the first widened to its widest, then the growing one.
    expect(allocateLeastFirst(cols, 78, 0)).toEqual([30, 10, 28, 10]);
    // 40 cells: the last, which matters least, is left out; the first is cut so the third is shown.
    expect(allocateLeastFirst(cols, 40, 0)).toEqual([21, 10, 9, 0]);
    // Where allocateColumns leaves the growing column out for the first one's width, this shows it.
    expect(allocateColumns(cols, 40, 0)).toEqual([30, 10, 0, 0]);
    // The gap counts between shown columns.
    expect(allocateLeastFirst([{ want: 5 }, { want: 5 }], 10, 1)).toEqual([5, 0]);
  });

  it('fits the parts of a line by priority, in their own order', () => {
    const parts = [
      { text: 'session 20261206-1', priority: 3 },
      { text: 'operator alice', priority: 5 },
      { text: '2/4 done · 1 failed', priority: 0 },
    ];
    expect(fitParts(parts, 80)).toBe('session 20261206-1 · operator alice · 2/4 done · 1 failed');
    expect(fitParts(parts, 45)).toBe('session 20261206-1 · 2/4 done · 1 failed');
    expect(fitParts(parts, 25)).toBe('2/4 done · 1 failed');
    expect(fitParts(parts, 10)).toBe('2/4 done…');
  });
});

const T0 = Date.UTC(2026, 11, 6, 9, 0, 0);
const LONG_TITLE = 'Verify the replicated database snapshot on every standby region';
const LONG_ERROR =
  "since 'the deploy of version 1.4.0 to the European production cluster, right after the database failover drill finished on Tuesday' is not a time (ISO-8601 such as 2026-01-05T12:00:00Z, or unix seconds)";

function failedSession() {
  const plan: PlanNode[] = [
    planNode('notes', 'run', { title: '准备发布说明 notes', checklist: 'layout' }),
    planNode('rocket', 'run', { title: '🚀 Launch the rocket step', checklist: 'layout' }),
    planNode('verify', 'watch', { title: LONG_TITLE, checklist: 'layout', help: 'Checks the snapshots.\nThen reports.' }),
    planNode('after', 'confirm', { title: 'After', checklist: 'layout' }),
  ];
  let seq = 0;
  const ev = <T extends EventType>(type: T, stepId: string | null, data: EventDataMap[T], dt: number): AuditEvent<T> => ({
    sessionId: 's1',
    seq: ++seq,
    time: T0 + dt,
    type,
    stepId,
    actor: 'alice',
    data,
  });
  const output = Array.from({ length: 40 }, (_, i) => `line ${i + 1} of the check`).join('\n') + '\n';
  const events: AuditEvent[] = [
    ev('session.started', null, startedData('layout', plan), 0),
    ev('step.started', 'notes', { attempt: 1 }, 10),
    ev('step.passed', 'notes', { durationMs: 50, exitCode: 0 }, 60),
    ev('step.started', 'rocket', { attempt: 1 }, 70),
    ev('step.passed', 'rocket', { durationMs: 50, exitCode: 0 }, 120),
    ev('step.started', 'verify', { attempt: 1 }, 130),
    ev('step.output', 'verify', { stream: 'stdout', text: output }, 140),
    ev('step.failed', 'verify', { durationMs: 20, exitCode: null, reason: LONG_ERROR }, 150),
  ];
  return reduceAll(events)!;
}

describe('the checklist screen by priority', () => {
  const state = failedSession();
  const failed = state.plan.findIndex((n) => n.path === 'verify');

  it('a step row keeps the state and the whole title before the duration; a title wider than the row is cut, never the glyph', () => {
    expect(stepRow('Deploy', '1.2s', 20)).toEqual({ title: 'Deploy' + ' '.repeat(9), duration: ' 1.2s' });
    // The duration gives way to the title.
    expect(stepRow('Code freeze on develop', '12.3s', 24)).toEqual({ title: 'Code freeze on develop  ', duration: '' });
    expect(stepRow(LONG_TITLE, '20ms', 30).title).toBe(fitCells(LONG_TITLE, 30));
    // CJK: padded by cells, so the duration column lines up with the ASCII rows.
    const cjk = stepRow('准备发布说明 notes', '50ms', 30);
    const ascii = stepRow('Deploy', '50ms', 30);
    expect(cellWidth(cjk.title)).toBe(cellWidth(ascii.title));
  });

  for (const [width, height] of [
    [80, 24],
    [100, 30],
    [160, 50],
  ]) {
    it(`${width}x${height}: the failed step's title, state and whole error get their rows; the list shows its titles when it can`, () => {
      const l = checklistLayout(width, height - 1, 0, { state, selected: failed, asking: null });
      expect(l.listWidth + 2 + l.rightWidth).toBe(width);
      expect(l.detail + l.output).toBe(l.body);
      expect(l.rightWidth).toBeGreaterThanOrEqual(Math.ceil(width * 0.45));
      const { lines, essential } = detailLines(state, failed, l.rightWidth, null);
      // The essential lines (title, the FAILED line with the whole error, what next) all fit in the detail's rows.
      expect(l.detail).toBeGreaterThanOrEqual(essential);
      const shown = lines
        .slice(0, essential)
        .map((x) => x.text)
        .join(' ');
      expect(shown.replace(/\s+/g, ' ')).toContain(LONG_TITLE);
      expect(shown.replace(/\s+/g, ' ')).toContain(LONG_ERROR);
      for (const x of lines) expect(cellWidth(x.text)).toBeLessThanOrEqual(l.rightWidth);
      // The output keeps some rows too (its title and a few lines of its tail).
      expect(l.output).toBeGreaterThanOrEqual(2);
      // At 160 columns every title is whole with its duration; narrower, the list gets all it can.
      if (width >= 160) expect(l.listWidth).toBeGreaterThanOrEqual(stepListWant(state));
      else expect(l.listWidth).toBe(Math.min(stepListWant(state), width - 2 - Math.ceil(width * 0.45)));
    });
  }

  it('without the content to measure, the old proportions stand (a page of output for PgUp/PgDn)', () => {
    const l = checklistLayout(100, 29);
    expect(l.body).toBe(27);
    expect(l.detail + l.output).toBe(27);
  });
});

describe('the home screen’s session columns', () => {
  const entry = (id: string, checklist: string, operator: string, params: string): SessionEntry => ({
    id,
    checklist,
    params,
    operator,
    status: 'failed (resumable)',
    resumable: true,
    running: false,
    finished: false,
    startedAt: T0,
    secrets: [],
  });
  const sessions = [
    entry('20261206-090000-aaaa', 'layout', 'alice', 'version=1.4.0'),
    entry('20261206-090000-bbbb', '发布检查清单', '张伟', 'version=1.4.0 environment=production'),
    entry('20261206-090000-cccc', '🚀-launch', 'bob', ''),
  ];

  it('sizes each column to its widest value in cells; narrower terminals leave out the least important columns whole', () => {
    const wide = sessionColumnWidths(sessions, T0 + 60_000, 160);
    expect(wide.checklist).toBe(12); // 发布检查清单: 6 characters, 12 cells
    expect(wide.operator).toBe(5);
    expect(wide.status).toBe('failed (resumable)'.length);
    expect(wide.id).toBe(20);
    const narrow = sessionColumnWidths(sessions, T0 + 60_000, 60);
    // The state, the checklist and the id come first; what does not fit is left out, not cut.
    expect(narrow.status).toBe(wide.status);
    expect(narrow.checklist).toBe(wide.checklist);
    expect(narrow.id).toBe(20);
    const total = (w: Record<string, number>) =>
      3 +
      Object.values(w)
        .filter((x) => x > 0)
        .reduce((a, b) => a + b + 2, 0) -
      2;
    expect(total(narrow)).toBeLessThanOrEqual(60);
    expect(total(wide)).toBeLessThanOrEqual(160);
  });
});

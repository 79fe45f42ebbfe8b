import { Box, Text } from 'ink';
import { memo, useMemo } from 'react';
import type { SessionState } from '../../core/reducer.js';
import { cellWidth, fitCells } from '../cells.js';
import { displayStatus, leafNumbers, stepDuration } from '../model.js';
import { screenLine, windowAround } from '../text.js';
import { GLYPH, UNCHECKED, useTheme } from '../theme.js';

export interface StepListProps {
  state: SessionState;
  selected: number;
  focus: string | null;
  /** The step whose question is open: shown as waiting (the log has it running until it is answered). */
  asking?: string | null;
  width: number;
  height: number;
  now: number;
}

/** Cells a step's duration is given (" 12.3s", " 1m 05s"): kept for it when there is room after the title. */
export const DURATION_CELLS = 8;

function numberWidth(numbers: Array<number | null>): number {
  return String(numbers.filter((n) => n !== null).length).length + 1;
}

/** The cells before a step's title: the selection mark, its number, its state glyph, its depth. */
function prefixCells(numWidth: number, depth: number): number {
  return 1 + numWidth + 1 + 1 + 1 + 2 * depth;
}

/** The plan does not change during a session: its titles are measured once (a key press re-lays out the screen). */
const measured = new WeakMap<SessionState['plan'], number>();

/** Cells the step list needs to show every title whole with its duration (the layout gives it this when it can). */
export function stepListWant(state: SessionState): number {
  const known = measured.get(state.plan);
  if (known !== undefined) return known;
  const numWidth = numberWidth(leafNumbers(state.plan));
  let want = 0;
  for (const node of state.plan) {
    const title = cellWidth(screenLine(node.title)) + (node.kind === 'checklist' ? 2 : 0);
    want = Math.max(want, prefixCells(numWidth, node.depth) + title + (node.kind === 'checklist' ? 0 : DURATION_CELLS));
  }
  measured.set(state.plan, want);
  return want;
}

/**
 * One step's row in `width` cells, by priority: the state glyph and the title first; the duration only where the
 * whole title leaves room for it; a title wider than the row is cut with `…` (the detail pane shows it whole).
 */
export function stepRow(title: string, duration: string, room: number): { title: string; duration: string } {
  const dur = duration ? ` ${duration}` : '';
  const need = cellWidth(title);
  if (need + cellWidth(dur) <= room) return { title: title + ' '.repeat(room - need - cellWidth(dur)), duration: dur };
  const cut = fitCells(title, room);
  return { title: cut + ' '.repeat(Math.max(0, room - cellWidth(cut))), duration: '' };
}

/** The steps, windowed to the rows it has before anything is rendered (500 steps cost what 20 do). */
export const StepList = memo(function StepList({ state, selected, focus, asking, width, height, now }: StepListProps) {
  const t = useTheme();
  const numbers = useMemo(() => leafNumbers(state.plan), [state.plan]);
  const rows = Math.max(1, height);
  const { start, end } = windowAround(state.plan.length, selected, rows);
  const numWidth = numberWidth(numbers);
  const items = [];
  for (let i = start; i < end; i++) {
    const node = state.plan[i];
    const step = state.steps[i];
    const status = node.path === asking ? 'waiting' : displayStatus(state, i);
    const isSel = i === selected;
    const isFocus = node.path === focus;
    const num = numbers[i] === null ? ''.padStart(numWidth) : String(numbers[i]).padStart(numWidth);
    const dur = node.kind === 'checklist' ? '' : stepDuration(step, now);
    const row = stepRow(
      screenLine(node.title) + (node.kind === 'checklist' ? ' ▾' : ''),
      dur,
      Math.max(1, width - prefixCells(numWidth, node.depth)),
    );
    items.push(
      <Box key={node.path} height={1} width={width}>
        <Text wrap="truncate-end" inverse={isSel} bold={isFocus}>
          {isSel ? '›' : isFocus ? '▸' : ' '}
          {num}{' '}
          {status === 'passed' && step.nothingToCheck ? (
            <Text color={t.muted}>{UNCHECKED}</Text>
          ) : (
            <Text color={t.status(status)}>{GLYPH[status]}</Text>
          )}{' '}
          {'  '.repeat(node.depth)}
          {row.title}
          <Text color={t.muted}>{row.duration}</Text>
        </Text>
      </Box>,
    );
  }
  return (
    <Box flexDirection="column" width={width} height={rows}>
      {items}
    </Box>
  );
});

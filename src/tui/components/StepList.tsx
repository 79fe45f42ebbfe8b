import { Box, Text } from 'ink';
import { memo, useMemo } from 'react';
import type { SessionState } from '../../core/reducer.js';
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

/** The steps, windowed to the rows it has before anything is rendered (500 steps cost what 20 do). */
export const StepList = memo(function StepList({ state, selected, focus, asking, width, height, now }: StepListProps) {
  const t = useTheme();
  const numbers = useMemo(() => leafNumbers(state.plan), [state.plan]);
  const rows = Math.max(1, height);
  const { start, end } = windowAround(state.plan.length, selected, rows);
  const numWidth = String(numbers.filter((n) => n !== null).length).length + 1;
  const items = [];
  for (let i = start; i < end; i++) {
    const node = state.plan[i];
    const step = state.steps[i];
    const status = node.path === asking ? 'waiting' : displayStatus(state, i);
    const isSel = i === selected;
    const isFocus = node.path === focus;
    const num = numbers[i] === null ? ''.padStart(numWidth) : String(numbers[i]).padStart(numWidth);
    const dur = node.kind === 'checklist' ? '' : stepDuration(step, now);
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
          {screenLine(node.title)}
          {node.kind === 'checklist' ? ' ▾' : ''}
        </Text>
        <Box flexGrow={1} />
        <Box flexShrink={0}>
          <Text color={t.muted}>{dur ? ` ${dur}` : ''}</Text>
        </Box>
      </Box>,
    );
  }
  return (
    <Box flexDirection="column" width={width} height={rows}>
      {items}
    </Box>
  );
});

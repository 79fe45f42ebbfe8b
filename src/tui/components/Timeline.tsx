import { Box, Text } from 'ink';
import type { MarkerKind } from '../../core/replay.js';
import { useTheme, type Theme } from '../theme.js';

export const MARK_GLYPH: Record<MarkerKind, string> = {
  failure: '✖',
  skip: '↷',
  approval: '✓',
  note: '✎',
  resume: '↻',
  finish: '■',
  deploy: '⇄',
};

function markColor(t: Theme, kind: MarkerKind): string | undefined {
  return kind === 'failure'
    ? t.danger
    : kind === 'skip'
      ? t.status('skipped')
      : kind === 'approval' || kind === 'finish'
        ? t.ok
        : kind === 'note' || kind === 'deploy'
          ? t.accent
          : t.warn;
}

export interface TimelineProps {
  width: number;
  cells: { cursor: number; marks: Array<{ cell: number; kind: MarkerKind }> };
}

/** The session's time span as a bar: markers for failures, skips, approvals, notes, resumes; the moment shown inverted. */
export function Timeline({ width, cells }: TimelineProps) {
  const t = useTheme();
  const byCell = new Map(cells.marks.map((m) => [m.cell, m.kind]));
  const parts = [];
  let run = '';
  const flush = (key: number) => {
    if (run)
      parts.push(
        <Text key={`r${key}`} color={t.muted}>
          {run}
        </Text>,
      );
    run = '';
  };
  for (let c = 0; c < width; c++) {
    const kind = byCell.get(c);
    const isCursor = c === cells.cursor;
    if (!kind && !isCursor) {
      run += c < cells.cursor ? '━' : '─';
      continue;
    }
    flush(c);
    parts.push(
      <Text key={c} inverse={isCursor} bold={isCursor} color={kind ? markColor(t, kind) : undefined}>
        {kind ? MARK_GLYPH[kind] : '●'}
      </Text>,
    );
  }
  flush(width);
  return (
    <Box flexDirection="column" width={width} height={2}>
      <Text wrap="truncate-end">{parts}</Text>
      <Text wrap="truncate-end" color={t.muted}>
        {'● now ━ played  '}
        {(Object.keys(MARK_GLYPH) as MarkerKind[]).map((k) => `${MARK_GLYPH[k]} ${k}`).join(' ')}
      </Text>
    </Box>
  );
}

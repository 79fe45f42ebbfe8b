import { Box, Text } from 'ink';
import { cellWidth } from '../cells.js';
import { useTheme } from '../theme.js';

export interface StatusBarProps {
  mode: string;
  hints: Array<{ key: string; hint: string }>;
  width: number;
}

/** Keys that lead to the others (help lists every key; quit): kept when the line is short of room. */
const KEPT = new Set(['?', 'q', 'ctrl-c']);

/**
 * The hints that fit in `room` cells, whole: in their order (the keymap's, most important first) until one does not
 * fit, then only the kept ones. A hint is never cut: `? help` shows the rest.
 */
export function fitHints<H extends { key: string; hint: string }>(hints: readonly H[], room: number): H[] {
  const w = (h: H) => 2 + cellWidth(h.key) + 1 + cellWidth(h.hint);
  let left = room - hints.filter((h) => KEPT.has(h.key)).reduce((n, h) => n + w(h), 0);
  let full = false;
  return hints.filter((h) => {
    if (KEPT.has(h.key)) return true;
    if (full || w(h) > left) return !(full = true);
    left -= w(h);
    return true;
  });
}

/** The bottom line: the mode, then the keys that act now (generated from the keymap), each whole. */
export function StatusBar({ mode, hints, width }: StatusBarProps) {
  const t = useTheme();
  const label = ` ${mode} `;
  return (
    <Box width={width} height={1}>
      <Text wrap="truncate-end">
        <Text inverse bold>
          {label}
        </Text>
        {fitHints(hints, width - cellWidth(label)).map((h, i) => (
          <Text key={i}>
            {'  '}
            <Text bold color={t.accent}>
              {h.key}
            </Text>
            <Text color={t.muted}>{` ${h.hint}`}</Text>
          </Text>
        ))}
      </Text>
    </Box>
  );
}

export interface MessageLineProps {
  width: number;
  text: string;
  tone: 'info' | 'error' | 'ask';
  /** Which end stays when it does not fit: the start of a message, the end of what is being typed (the cursor). */
  keep?: 'start' | 'end';
}

/** The line above the status bar: a question, a text being typed, or the last message. */
export function MessageLine({ width, text, tone, keep = 'start' }: MessageLineProps) {
  const t = useTheme();
  const color = tone === 'error' ? t.danger : tone === 'ask' ? t.warn : undefined;
  return (
    <Box width={width} height={1}>
      <Text wrap={keep === 'start' ? 'truncate-end' : 'truncate-start'} color={color} bold={tone !== 'info'}>
        {text}
      </Text>
    </Box>
  );
}

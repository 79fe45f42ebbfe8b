import { Box, Text } from 'ink';
import { cellWidth } from '../cells.js';
import { fitHints } from '../help-lines.js';
import { useTheme } from '../theme.js';

export interface StatusBarProps {
  mode: string;
  hints: Array<{ key: string; hint: string }>;
  width: number;
}

export { fitHints };

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

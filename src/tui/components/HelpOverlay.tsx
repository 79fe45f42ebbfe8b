import { Box, Text } from 'ink';
import type { Command, Layer } from '../keymap.js';
import { helpLines, helpRoom } from '../help-lines.js';
import { clamp } from '../text.js';
import { useTheme } from '../theme.js';

export { helpLines, helpRoom } from '../help-lines.js';

export interface HelpOverlayProps {
  layers: Layer[];
  /** Which commands act now: a key that does nothing in this state is not listed. */
  available: (command: Command) => boolean;
  /** A text field has the focus: character keys type, so commands are listed by their other keys. */
  typing?: boolean;
  /** Lines scrolled down (↓/↑ in the overlay), when the keys do not fit. */
  scroll: number;
  width: number;
  height: number;
}

/** Every key of the screen underneath that acts now, generated from the keymap registry; scrolled when it does not fit. */
export function HelpOverlay({ layers, available, typing, scroll, width, height }: HelpOverlayProps) {
  const t = useTheme();
  const lines = helpLines(layers, available, typing);
  const room = helpRoom(height);
  const from = clamp(scroll, 0, Math.max(0, lines.length - room));
  const shown = lines.slice(from, from + room);
  const keyWidth = Math.min(18, Math.max(...lines.map((l) => l.keys?.length ?? 0)) + 2);
  return (
    <Box flexDirection="column" width={width} height={height} borderStyle="round" borderColor={t.border} paddingX={1} overflow="hidden">
      <Text bold wrap="truncate-end">
        Keys
        {lines.length > room ? ` (lines ${from + 1}-${from + shown.length} of ${lines.length}; ↓/↑ scroll)` : ''}
      </Text>
      {shown.map((l, i) =>
        l.title ? (
          <Text key={i} bold color={t.accent} wrap="truncate-end">
            {l.title}
          </Text>
        ) : (
          <Box key={i} height={1}>
            <Box width={keyWidth} flexShrink={0}>
              <Text bold>{l.keys}</Text>
            </Box>
            <Text wrap="truncate-end">{l.text}</Text>
          </Box>
        ),
      )}
    </Box>
  );
}

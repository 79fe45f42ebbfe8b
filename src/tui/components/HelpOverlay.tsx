import { Box, Text } from 'ink';
import { helpRows, type Command, type Layer } from '../keymap.js';
import { clamp } from '../text.js';
import { useTheme } from '../theme.js';

const TITLES: Record<Layer, string> = {
  help: 'Help',
  dialog: 'Questions',
  prompt: 'Typing a reason or note',
  form: 'Parameter form',
  home: 'Home',
  session: 'Checklist',
  replay: 'Replay',
  migrate: 'Migrations',
  global: 'Everywhere',
};

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

type Line = { title?: string; keys?: string; text?: string };

/** The overlay's lines: a title per layer, then one line per command that acts now (from the keymap). */
export function helpLines(layers: Layer[], available: (command: Command) => boolean, typing = false): Line[] {
  const lines: Line[] = [];
  for (const layer of [...layers, 'global' as const].filter((l, i, all) => all.indexOf(l) === i)) {
    const rows = helpRows([layer], available, layers[0], typing);
    if (!rows.length) continue;
    lines.push({ title: TITLES[layer] });
    for (const r of rows) lines.push({ keys: r.keys, text: r.description });
  }
  return lines;
}

/** Lines of keys the overlay has room for in `height` rows (its border and its title line take three). */
export function helpRoom(height: number): number {
  return Math.max(1, height - 3);
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

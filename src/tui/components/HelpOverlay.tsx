import { Box, Text } from 'ink';
import { helpRows, type Layer } from '../keymap.js';
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
  width: number;
  height: number;
}

/** Every key of the screen underneath, generated from the keymap registry; clipped to the room it has. */
export function HelpOverlay({ layers, width, height }: HelpOverlayProps) {
  const t = useTheme();
  const lines: Array<{ title?: string; keys?: string; text?: string }> = [];
  for (const layer of [...layers, 'global' as const].filter((l, i, all) => all.indexOf(l) === i)) {
    const rows = helpRows([layer]);
    if (!rows.length) continue;
    lines.push({ title: TITLES[layer] });
    for (const r of rows) lines.push({ keys: r.keys, text: r.description });
  }
  const room = Math.max(1, height - 3);
  const shown = lines.slice(0, room);
  const keyWidth = Math.min(18, Math.max(...lines.map((l) => l.keys?.length ?? 0)) + 2);
  return (
    <Box flexDirection="column" width={width} height={height} borderStyle="round" borderColor={t.border} paddingX={1} overflow="hidden">
      <Text bold wrap="truncate-end">
        Keys{lines.length > room ? ` (${room} of ${lines.length} lines; a taller terminal shows all)` : ''}
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

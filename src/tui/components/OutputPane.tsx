import { Box, Text } from 'ink';
import { useContext } from 'react';
import { cockpitCommand } from '../../core/command-line.js';
import { UiContext } from '../context.js';
import type { StepState } from '../../core/reducer.js';
import { outputLines } from '../model.js';
import { screenLine } from '../text.js';
import { useTheme } from '../theme.js';

export interface OutputPaneProps {
  step: StepState | undefined;
  width: number;
  height: number;
  /** Lines scrolled back from the end (0 follows the tail). */
  scroll: number;
  /** The session, for the command that prints all of the output. */
  sessionId?: string;
}

/** The live output of the selected step: the tail follows new lines; PgUp/PgDn scroll back through what is kept. */
export function OutputPane({ step, width, height, scroll, sessionId }: OutputPaneProps) {
  const t = useTheme();
  // The command that prints all of it, as the operator runs it from where the cockpit was started (core/command-line.ts).
  const command = useContext(UiContext)?.services.command ?? ((args: string[]) => cockpitCommand(args));
  const whole = () => (step && sessionId ? command(['audit', 'show', sessionId, '--step', step.path]) : command(['audit', 'show']));
  const room = Math.max(1, height - 1);
  const all = step ? outputLines(step) : [];
  const back = Math.min(scroll, Math.max(0, all.length - room));
  const end = all.length - back;
  const shown = all.slice(Math.max(0, end - room), end);
  const total = step?.output.lines ?? 0;
  const kept = all.length;
  const title =
    !step || (total === 0 && !step.output.partial)
      ? 'Output: none yet'
      : `Output: ${total.toLocaleString('en-US')} line${total === 1 ? '' : 's'}${total > kept ? ` (last ${kept} here; all of it: ${whole()})` : ''}${back ? ` · ${back} back from the end (PgDn to follow)` : ''}`;
  return (
    <Box flexDirection="column" width={width} height={room + 1}>
      <Text wrap="truncate-end" color={t.muted} underline>
        {title}
      </Text>
      {shown.map((l, i) => (
        <Text key={i} wrap="truncate-end">
          {/* Cut to the pane before Ink sees it: Ink measures a line in full before truncating it. */}
          {screenLine(l.length > width + 8 ? l.slice(0, width + 8) : l) || ' '}
        </Text>
      ))}
    </Box>
  );
}

export function pageOf(height: number): number {
  return Math.max(1, height - 2);
}

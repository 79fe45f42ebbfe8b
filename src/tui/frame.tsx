import { Box } from 'ink';
import { useContext, type ReactNode } from 'react';
import { HelpOverlay } from './components/HelpOverlay.js';
import { frameHints } from './help-lines.js';
import { MessageLine, StatusBar } from './components/StatusBar.js';
import { FrameContext, useScreenKeys, useUi, type ScreenKeys } from './context.js';
import type { Command, Layer } from './keymap.js';
import { screenLine } from './text.js';

/**
 * The frame every screen draws in: its body (or the help overlay over it, the screen staying mounted), the
 * message line and the status bar. A screen renders it with its own keys, so the hints are always the keys of
 * the state on screen. The frame is `rows - 1` high: Ink 6 repaints the whole terminal once a frame reaches it.
 */
export function ScreenFrame({
  keys,
  children,
  status,
}: {
  keys: ScreenKeys;
  children: ReactNode;
  status?: { text: string; tone: 'info' | 'error' } | null;
}) {
  useScreenKeys(keys);
  const { help, helpScroll, helpMax, bar, message, rows } = useContext(FrameContext);
  const { width } = useUi();
  const avail = (c: Command) =>
    c === 'quit'
      ? !(bar?.kind === 'dialog' && bar.quit)
      : c.startsWith('help.') || c.startsWith('dialog.') || c.startsWith('prompt.') || keys.available(c);
  const layers: Layer[] = help ? ['help'] : bar ? [bar.kind] : [keys.layer];
  // Character keys are typed into a prompt or a focused text field: the bar offers commands by their other keys.
  const typing = !help && (bar?.kind === 'prompt' || (!bar && !!keys.typing));
  const room = rows - 2;
  // The help's scroll keys are offered only when the keys do not fit.
  const bar0 = frameHints(keys.layer, layers, avail, typing, room);
  helpMax.current = bar0.helpMax;
  const hints = bar0.hints;
  const mode = help ? 'HELP' : bar?.kind === 'prompt' ? 'TYPE' : bar?.kind === 'dialog' ? 'ASK' : keys.mode;
  const line =
    bar?.kind === 'prompt'
      ? bar.error
        ? { text: `${bar.label}: █  ✖ ${bar.error}`, tone: 'error' as const, from: 'start' as const }
        : {
            text: `${bar.label}: ${bar.secret ? '•'.repeat(bar.value.length) : screenLine(bar.value)}█`,
            tone: 'ask' as const,
            from: 'end' as const,
          }
      : bar?.kind === 'dialog'
        ? { text: `${bar.question} [y/N]`, tone: 'ask' as const, from: 'start' as const }
        : (message ?? status)
          ? { text: screenLine((message ?? status)!.text), tone: (message ?? status)!.tone, from: 'start' as const }
          : { text: '', tone: 'info' as const, from: 'start' as const };
  // No `overflow="hidden"` here or in the checklist screen: Ink 6 then cuts every line of the frame with sliceAnsi on
  // every render, whether it fits or not (a third of a key press's frame time on a full screen). Instead every
  // region has a fixed size, every list is sliced to its rows and every line is truncated to its width before Ink
  // sees it, and the frame's height is fixed at rows - 1: Ink's output has exactly that many rows, so nothing can
  // make the frame taller. The tests check every frame they see against the terminal's size.
  return (
    <Box flexDirection="column" width={width} height={rows}>
      <Box flexDirection="column" height={rows - 2} display={help ? 'none' : 'flex'}>
        {children}
      </Box>
      {help ? (
        <HelpOverlay layers={[keys.layer]} available={avail} typing={typing} scroll={helpScroll} width={width} height={room} />
      ) : null}
      <MessageLine width={width} text={line.text} tone={line.tone} keep={line.from} />
      <StatusBar width={width} mode={mode} hints={hints} />
    </Box>
  );
}

import { useCallback, useState } from 'react';
import { clamp } from './text.js';

/**
 * The selected step of a checklist screen and the output scroll of that step. The selection follows the step the
 * session is at until the operator moves it, and follows again once that step changes. Moves are updates of the
 * previous value, so keys that arrive faster than renders all count.
 */
export function useStepSelection(count: number, focus: string | null, focusIndex: number) {
  const [manual, setManual] = useState<{ index: number; focus: string | null } | null>(null);
  const selected = manual && manual.focus === focus ? clamp(manual.index, 0, Math.max(0, count - 1)) : focusIndex;
  const [scroll, setScroll] = useState({ index: -1, back: 0 });
  const outputScroll = scroll.index === selected ? scroll.back : 0;

  const moveBy = useCallback(
    (delta: number) =>
      setManual((m) => {
        const from = m && m.focus === focus ? m.index : focusIndex;
        return { index: clamp(from + delta, 0, Math.max(0, count - 1)), focus };
      }),
    [count, focus, focusIndex],
  );
  const moveTo = useCallback((index: number) => setManual({ index: clamp(index, 0, Math.max(0, count - 1)), focus }), [count, focus]);
  const scrollBy = useCallback(
    (delta: number) => setScroll((s) => ({ index: selected, back: Math.max(0, (s.index === selected ? s.back : 0) + delta) })),
    [selected],
  );
  return { selected, outputScroll, moveBy, moveTo, scrollBy };
}

/** The movement commands every list screen shares (`move.*` in the keymap). False when `command` is not one of them. */
export function applyMove(command: string, count: number, moveBy: (delta: number) => void, moveTo: (index: number) => void): boolean {
  switch (command) {
    case 'move.down':
      moveBy(1);
      return true;
    case 'move.up':
      moveBy(-1);
      return true;
    case 'move.first':
      moveTo(0);
      return true;
    case 'move.last':
      moveTo(count - 1);
      return true;
    default:
      return false;
  }
}

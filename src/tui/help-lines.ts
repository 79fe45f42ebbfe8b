/**
 * The help overlay's lines and the status bar's hints, from the keymap, without React or Ink: the Ink frame
 * (tui/frame.tsx) and the plain first frame (tui/home-plain.ts) both take them from here.
 */
import { cellWidth } from './cells.js';
import { barHints, helpRows, type Command, type Layer } from './keymap.js';

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

/**
 * The status bar's hints over `layers` (the screen's, or the help's, a question's…, then the global keys), and how
 * far the help overlay over the screen's layer scrolls: its scroll keys are offered only when its lines do not fit
 * in `room` rows.
 */
export function frameHints(
  screenLayer: Layer,
  layers: readonly Layer[],
  available: (command: Command) => boolean,
  typing: boolean,
  room: number,
): { hints: Array<{ key: string; hint: string }>; helpMax: number } {
  const helpMax = Math.max(0, helpLines([screenLayer], available, typing).length - helpRoom(room));
  const hints = barHints([...layers, 'global'], (c) => (c === 'help.down' || c === 'help.up' ? helpMax > 0 : available(c)), typing);
  return { hints, helpMax };
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

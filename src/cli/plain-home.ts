/**
 * The home screen's first frame without Ink (docs/architecture.md §6): when no kept frame could be drawn
 * (first-frame.ts), the home screen's data is read with the light workspace and the plain SQLite reader, and the
 * screen is drawn from it by tui/home-plain.ts in the bytes Ink writes for it; then Ink loads and takes the screen
 * over through first-frame.ts's hand-over (the same bytes: nothing is redrawn; else the frame is wiped and Ink's
 * drawn). Keys typed meanwhile wait in raw mode, as with a kept frame.
 *
 * This chunk loads no React, Ink or yoga (test/unit/home-closure.test.ts). It draws nothing, and the start goes on
 * the normal way, for anything it cannot draw as Ink would: no plain reader (PostgreSQL, a log to create or migrate),
 * a running session (its state changes under the screen), a terminal smaller than the cockpit's least, a text that
 * would wrap.
 */
import { currentIdentity } from '../adapters/identity.js';
import { plainHomeFrame } from '../tui/home-plain.js';
import { inkFirstWrite } from '../tui/ink-text.js';
import { themeFor } from '../tui/theme-colors.js';
import type { HomeData } from '../tui/types.js';
import { cockpitVersion } from '../version.js';
import type { FirstFrame } from './first-frame.js';
import { readHomeData } from './home-data.js';
import type { BaseWorkspace } from './workspace.js';

const ALT_SCREEN_ON = '\u001b[?1049h\u001b[H';

/** What home shows, read for the first frame, and whether it was drawn: the Ink screen starts from the same data. */
export interface PlainHomeResult {
  data: HomeData | null;
  drawn: boolean;
  /** The time the frame's times ("3h ago", the calendar) were drawn at: Ink's first frame is drawn at it too. */
  now?: number;
}

/** Read home's data and draw its first frame at once, when `frame` has nothing drawn yet (see above). */
export async function drawPlainHome(ws: BaseWorkspace, frame: FirstFrame): Promise<PlainHomeResult> {
  if (frame.drawn || !process.stdin.isTTY || !process.stdout.isTTY) return { data: null, drawn: false };
  const reader = await ws.plainReader();
  if (!reader) return { data: null, drawn: false };
  const who = currentIdentity();
  const now = Date.now();
  const data = await readHomeData(ws, reader, who.host, now);
  if (data.sessions.some((s) => s.running)) return { data, drawn: false };
  const text = plainHomeFrame({
    data,
    version: cockpitVersion(),
    operator: who.operator,
    now,
    columns: process.stdout.columns,
    rows: process.stdout.rows,
    theme: themeFor(process.env),
  });
  if (text === null) return { data, drawn: false };
  const bytes = inkFirstWrite(text);
  // Raw before the frame: a key typed from now on is neither echoed over it nor held for a line; Ink reads it.
  process.stdin.setRawMode(true);
  process.stdout.write((frame.altScreen ? ALT_SCREEN_ON : '') + bytes);
  frame.drawn = bytes;
  return { data, drawn: true, now };
}

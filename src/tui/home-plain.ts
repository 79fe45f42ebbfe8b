/**
 * The home screen's first frame as text, without React, Ink or yoga (docs/architecture.md §6): what the Ink home
 * screen (screens/HomeScreen.tsx in tui/frame.tsx's ScreenFrame, inside App.tsx) draws first, from the same data, in
 * the same bytes (tui/ink-text.ts writes texts as Ink does). Every measure comes from the pure modules the Ink screen
 * uses too (home-layout.ts, help-lines.ts, cells.ts): test/unit/home-plain.test.ts renders both and holds them equal.
 *
 * Only the first frame: the initial state (the first session selected, or the first checklist when there is no
 * session; no filter, no message, no question). Null where this renderer cannot be sure to draw what Ink draws: a
 * terminal smaller than the cockpit's least, a text that would wrap.
 */
import type { StyledChar } from '@alcalzone/ansi-tokenize';
import { cellWidth, padCells } from './cells.js';
import { dueLine, overdue } from '../core/notify/due.js';
import { fitHints, frameHints } from './help-lines.js';
import {
  checklistIdWidth,
  checklistsTitle,
  GAP,
  headerDetail,
  homeAvailable,
  homeRows,
  sessionCells,
  sessionColor,
  sessionColumnWidths,
  sessionsTitle,
  statusGlyph,
  supersededWords,
  when,
  type SessionColumn,
} from './home-layout.js';
import { inkLine, inkRows, text, type InkText, type Span } from './ink-text.js';
import type { Command } from './keymap.js';
import { MIN_COLUMNS, MIN_ROWS } from './limits.js';
import { screenLine, windowAround } from './text.js';
import type { Theme } from './theme-colors.js';
import type { HomeData } from './types.js';

export interface PlainHome {
  data: HomeData;
  version: string;
  operator: string;
  now: number;
  /** The terminal's size. */
  columns: number;
  rows: number;
  theme: Theme;
  /** The services offer an abort and the migration screen (the cockpit's always do). */
  canAbort?: boolean;
  canMigrate?: boolean;
}

/** The text of Ink's first frame of the home screen (its rows, without the bytes around them), or null (see above). */
export function plainHomeFrame(o: PlainHome): string | null {
  const { data, theme: t, now } = o;
  if (o.columns < MIN_COLUMNS || o.rows < MIN_ROWS) return null;
  const width = o.columns;
  // App.tsx: the frame is rows - 1 high; the screen's body is that less the message and status lines.
  const frameRows = Math.max(1, o.rows - 1);
  const height = frameRows - 2;

  const sessions = data.sessions;
  const checklists = data.checklists;
  const focus = sessions.length ? 'sessions' : 'checklists';
  const session = focus === 'sessions' ? sessions[0] : undefined;
  const checklist = focus === 'checklists' ? checklists[0] : undefined;
  const regions = homeRows(data, sessions.length, height);

  const body: InkText[][] = [];
  const line = (x: InkText) => body.push([x]);
  /** A box of `rows` rows holding these one-row items (cut to the box). */
  const box = (items: InkText[], rows: number) => {
    for (let i = 0; i < rows; i++) body.push(items[i] ? [items[i]] : []);
  };

  line(text({ bold: true, truncate: true }, 'release-cockpit ', o.version, text({ color: t.muted }, headerDetail(data, o.operator))));
  if (data.schedule) {
    const s = data.schedule;
    const due = s.due ?? [];
    line(
      text(
        { color: t.muted, truncate: true },
        'Release',
        ' ',
        text({ bold: true, color: t.accent }, when(s.release, now, true)),
        ' ',
        '· freeze ',
        when(s.freezeStart, now),
        due.length ? '' : ` · announce ${when(s.announceBy, now)}`,
      ),
    );
    if (due.length) line(text({ color: overdue(due, now) ? t.warn : t.muted, truncate: true }, dueLine(due, now)));
  }
  const section = (title: string, active: boolean) =>
    text({ bold: true, inverse: active, color: active ? undefined : t.muted, truncate: true }, ` ${title} `);

  line(section(sessionsTitle(data, sessions.length, ''), focus === 'sessions'));
  if (!sessions.length)
    box([text({ color: t.muted }, 'no sessions yet: pick a checklist below and press ↵ to start one')], regions.sessions);
  else {
    const w = windowAround(sessions.length, 0, regions.sessions);
    const widths = sessionColumnWidths(sessions, now, width);
    const rows = sessions.slice(w.start, w.end).map((s, k) => {
      const selected = focus === 'sessions' && w.start + k === 0;
      const cells = sessionCells(s, now);
      const color = sessionColor(s, t);
      const col = (c: SessionColumn) => (widths[c] ? `${padCells(cells[c], widths[c])}${GAP}` : '');
      return text(
        { truncate: true, inverse: selected },
        selected ? '›' : ' ',
        text({ color }, statusGlyph(s)),
        ' ',
        col('id'),
        col('checklist'),
        text({ color }, col('status')),
        col('ago'),
        col('took'),
        col('operator'),
        text({ color: t.muted }, widths.params ? padCells(cells.params, widths.params) : ''),
      );
    });
    box(rows, regions.sessions);
  }

  line(section(checklistsTitle(data, checklists.length, ''), focus === 'checklists'));
  {
    const w = windowAround(checklists.length, 0, regions.checklists);
    const idW = checklistIdWidth(
      checklists.map((c) => c.id),
      width,
    );
    const rows = checklists.slice(w.start, w.end).map((c, k) => {
      const selected = focus === 'checklists' && w.start + k === 0;
      const params = Object.keys(c.params);
      const children: Span[] = [selected ? '›' : ' ', ' ', padCells(screenLine(c.id), idW + 1), ' '];
      if (c.broken) children.push(text({ color: t.danger }, '✖ does not load '));
      children.push(screenLine(c.title), text({ color: t.muted }, params.length ? `  (${params.join(', ')})` : '', ' · ', c.origin));
      return text({ truncate: true, inverse: selected }, ...children);
    });
    box(rows, regions.checklists);
  }
  // The body's box is `height` rows: what the regions add up to (home-layout.ts's homeRows).
  if (body.length !== height) return null;

  // tui/frame.tsx: the message line (an overtaken session selected says so), then the status bar from the keymap.
  const overtaken = session?.superseded ? `${supersededWords(session.superseded, now)}: a aborts it` : null;
  const message = text(
    { truncate: true, color: overtaken ? t.danger : undefined, bold: !!overtaken },
    overtaken ? screenLine(overtaken) : '',
  );
  const state = { session, checklist, loaded: true, filter: '', canAbort: o.canAbort ?? true, canMigrate: o.canMigrate ?? true };
  const avail = (c: Command) =>
    c === 'quit' || c.startsWith('help.') || c.startsWith('dialog.') || c.startsWith('prompt.') || homeAvailable(c, state);
  const { hints } = frameHints('home', ['home'], avail, false, frameRows - 2);
  const label = ' HOME ';
  const bar = text(
    { truncate: true },
    text({ inverse: true, bold: true }, label),
    ...fitHints(hints, width - cellWidth(label)).map((h) =>
      text({}, '  ', text({ bold: true, color: t.accent }, h.key), text({ color: t.muted }, ` ${h.hint}`)),
    ),
  );

  const rows: StyledChar[][] = [];
  for (const items of [...body, [message], [bar]]) {
    const chars = items[0] ? inkLine(items[0], width) : [];
    if (!chars) return null;
    rows.push(chars);
  }
  return inkRows(rows, width);
}

/**
 * The home screen's layout, as pure functions: the Ink screen (screens/HomeScreen.tsx) and the plain first frame
 * drawn before Ink loads (tui/home-plain.ts) both lay it out from these, so the two cannot drift apart
 * (docs/architecture.md §6; test/unit/home-plain.test.ts holds them equal). No React, Ink or yoga here.
 */
import { formatDuration } from '../core/duration.js';
import type { Command } from './keymap.js';
import { allocateColumns, cellWidth } from './cells.js';
import { ago, clamp, screenLine } from './text.js';
import type { Theme } from './theme-colors.js';
import type { HomeData, SessionEntry, SupersededBy } from './types.js';

export type HomeFocus = 'sessions' | 'checklists';

export function statusGlyph(s: SessionEntry): string {
  if (s.running) return '▶';
  if (s.resumable) return s.status.startsWith('failed') ? '✖' : s.status.startsWith('crashed') ? '⚠' : '?';
  return s.status === 'succeeded' ? '✔' : s.status === 'aborted' ? '■' : '·';
}

/** The cells after every shown column of the session list. */
export const GAP = '  ';

export type SessionColumn = 'id' | 'checklist' | 'status' | 'ago' | 'took' | 'operator' | 'params';

/** A session's row as text, column by column (made safe for the screen). */
export function sessionCells(s: SessionEntry, now: number): Record<SessionColumn, string> {
  return {
    id: s.id,
    checklist: screenLine(s.checklist),
    status: s.superseded ? 'superseded' : screenLine(s.status),
    ago: ago(now - s.startedAt),
    took: s.endedAt ? formatDuration(s.endedAt - s.startedAt) : s.running ? 'running' : '',
    operator: screenLine(s.operator),
    // A superseded row has room for the start only: the whole sentence is on the message line when it is selected.
    params: screenLine(s.superseded ? `by ${s.superseded.by?.id ?? 'a tag made outside the cockpit'} · ${s.params}` : s.params),
  };
}

/**
 * The session list's column widths in `width` cells (the mark and glyph take 3), by priority: the state, the
 * checklist, the session's id, when it started, who ran it, how long it took, then its parameters in what is left.
 * Each column is as wide as its widest value (in cells), cut with `…` only below that, or left out when even its
 * least width does not fit: columns stay aligned whatever the names.
 */
export function sessionColumnWidths(sessions: readonly SessionEntry[], now: number, width: number): Record<SessionColumn, number> {
  const order: Array<{ c: SessionColumn; min?: number; grow?: boolean }> = [
    { c: 'status', min: 8 },
    { c: 'checklist', min: 8 },
    { c: 'id' },
    { c: 'ago' },
    { c: 'operator', min: 6 },
    { c: 'took' },
    { c: 'params', min: 8, grow: true },
  ];
  const want = Object.fromEntries(order.map((o) => [o.c, 0])) as Record<SessionColumn, number>;
  for (const s of sessions) {
    const cells = sessionCells(s, now);
    for (const o of order) want[o.c] = Math.max(want[o.c], cellWidth(cells[o.c]));
  }
  // Two cells after every shown column (the last one's are the row's end).
  const got = allocateColumns(
    order.map((o) => ({ want: want[o.c] && want[o.c] + GAP.length, min: o.min && Math.min(o.min, want[o.c]) + GAP.length, grow: o.grow })),
    width - 3,
    0,
  );
  return Object.fromEntries(order.map((o, i) => [o.c, Math.max(0, got[i] - GAP.length)])) as Record<SessionColumn, number>;
}

/** A session row's colour: overtaken muted, resumable in warning, succeeded fine, aborted in danger. */
export function sessionColor(s: SessionEntry, t: Theme): string | undefined {
  return s.superseded ? t.muted : s.resumable ? t.warn : s.status === 'succeeded' ? t.ok : s.status === 'aborted' ? t.danger : undefined;
}

/**
 * The rows of the two lists in a body of `height` rows (the screen's height less the message and status lines): the
 * sessions as many as there are (and a blank), up to half of what is left, the checklists the rest.
 */
export function homeRows(data: HomeData | null, count: number, height: number): { sessions: number; checklists: number } {
  const body = height - 1;
  const sessions = data ? clamp(count + 1, 2, Math.floor((body - 2) / 2)) : 2;
  const checklists = Math.max(2, body - 2 - sessions - (data?.schedule ? (data.schedule.due?.length ? 2 : 1) : 0));
  return { sessions, checklists };
}

/** The checklist id column: as wide as the longest id in cells (a CJK or emoji id keeps the titles aligned). */
export function checklistIdWidth(ids: readonly string[], width: number): number {
  return Math.min(Math.max(8, ...ids.map((id) => cellWidth(screenLine(id)))), Math.max(8, Math.floor(width * 0.3)));
}

/** The header's details after the version: the repository, the audit log and the operator. */
export function headerDetail(data: HomeData | null, operator: string): string {
  return data ? ` · ${screenLine(data.repoDir)} · audit ${screenLine(data.auditLocation)} · operator ${screenLine(operator)}` : '';
}

export function sessionsTitle(data: HomeData | null, shown: number, filter: string): string {
  const needle = filter.trim();
  return `Sessions${data ? ` (${needle ? `${shown} of ${data.sessions.length} matching '${screenLine(filter)}'` : `${data.sessions.length}`}, resumable first)` : ''}`;
}

export function checklistsTitle(data: HomeData | null, shown: number, filter: string): string {
  const needle = filter.trim();
  return `Checklists${data ? ` (${needle ? `${shown} of ${data.checklists.length} matching '${screenLine(filter)}'` : data.checklists.length})` : ''}`;
}

/** What the home screen's state offers: which of its commands act now (the hints and `?` follow from it). */
export interface HomeState {
  session?: SessionEntry;
  checklist?: { id: string };
  loaded: boolean;
  filter: string;
  canAbort: boolean;
  canMigrate: boolean;
}

export function homeAvailable(c: Command, s: HomeState): boolean {
  if (c === 'home.replay') return !!s.session;
  if (c === 'home.abort') return !!(s.session?.resumable && !s.session.running && s.canAbort);
  if (c === 'home.switch') return s.loaded;
  if (c === 'home.open') return !!(s.session || s.checklist);
  if (c === 'home.clear-filter') return !!s.filter;
  if (c === 'home.migrations') return s.canMigrate;
  return true;
}

/** A date as the release calendar shows it, with how far off it is: `Wed 10:00 (in 2d 2h)`; `full` adds the date and UTC. */
export function when(ms: number, now: number, full = false): string {
  const d = new Date(ms);
  const day = d.toLocaleDateString('en-GB', { weekday: 'short', timeZone: 'UTC' });
  const date = d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' });
  const at = `${day}${full ? ` ${date}` : ''} ${d.toISOString().slice(11, 16)}${full ? ' UTC' : ''}`;
  const diff = ms - now;
  if (Math.abs(diff) < 60_000) return `${at} (now)`;
  const mins = Math.round(Math.abs(diff) / 60_000);
  const h = Math.round(mins / 60);
  const rel = h >= 48 ? `${Math.floor(h / 24)}d ${h % 24}h` : mins >= 180 ? `${h}h` : formatDuration(mins * 60_000);
  return diff > 0 ? `${at} (in ${rel})` : `${at} (${rel} ago)`;
}

/** Why a stopped release session is overtaken: "superseded by 20261206-0906-ab12 (v1.2.3 released 2h ago)". */
export function supersededWords(s: SupersededBy, now: number): string {
  return s.by
    ? `superseded by ${s.by.id} (${s.tag} released ${ago(now - s.by.endedAt)} by ${s.by.operator})`
    : `superseded: ${s.tag} was tagged outside the cockpit`;
}

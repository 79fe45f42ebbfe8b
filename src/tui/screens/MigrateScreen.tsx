import { Box, Text } from 'ink';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useUi, type ScreenKeys } from '../context.js';
import { ScreenFrame } from '../frame.js';
import { applyMove } from '../selection.js';
import { cellWidth, fitCells } from '../cells.js';
import { clamp, screenLine, windowAround, wrap } from '../text.js';
import { useTheme } from '../theme.js';
import type { MigrationRow, MigrationView } from '../types.js';
import { formatDuration } from '../../core/duration.js';
import { describeMigrateLine } from '../../core/migrate/describe.js';
import type { MigrateLine } from '../../core/migrate/events.js';

/** Lines of output kept for the running command. */
const KEEP = 200;

export type Progress = { done: number; of: number | null; label: string };

/** A run of migrations: the bar's words follow from the count and the direction. */
const migrationsDone = (done: number, of: number, direction: 'up' | 'down'): Progress => ({
  done,
  of: of || null,
  label: `${done}${of ? ` of ${of}` : ''} migration(s) ${direction === 'up' ? 'applied' : 'reverted'}`,
});

type Running = {
  what: string;
  lines: Array<{ text: string; error: boolean }>;
  partial: string;
  progress: Progress | null;
  code: number | null;
};

const rows = (x: number) => Math.round(x).toLocaleString('en-US');

/**
 * The progress bar after `e`, one of the typed events the running `cockpit migrate … --json` writes: the migrations
 * finished of those its plan named, or a backfill's rows of its estimated total. Nothing here reads printed text.
 */
export function progressAfter(p: Progress | null, e: MigrateLine): Progress | null {
  switch (e.type) {
    case 'migrate.plan':
      return migrationsDone(0, e.migrations.length, e.direction);
    case 'migration.finished':
      return e.revert || !p ? p : migrationsDone(p.done + 1, p.of ?? 0, e.direction);
    case 'backfill.progress': {
      const pct = e.total ? Math.min(100, Math.floor((e.rowsDone / e.total) * 100)) : null;
      const eta = e.etaSec === undefined ? '?' : formatDuration(e.etaSec * 1000);
      return {
        done: pct ?? 0,
        of: pct === null ? null : 100,
        label: `${rows(e.rowsDone)}${e.total !== undefined ? ` of ~${rows(e.total)}` : ''} rows · ${rows(e.ratePerSec)} rows/s · ETA ${eta}`,
      };
    }
    case 'backfill.result':
      return e.state === 'finished' ? { done: 100, of: 100, label: `finished: ${rows(e.rowsThisRun)} rows` } : p;
    default:
      return p;
  }
}

function glyph(r: MigrationRow): string {
  if (r.state === 'applied') return r.problems.length ? '⚠' : '✔';
  if (r.state === 'failed') return '✖';
  return '·';
}

/** A migration's row in the list: its name (with what it is told about) and its lint badge, made safe for the screen. */
function listRow(r: MigrationRow): { name: string; badge: string } {
  return {
    name: screenLine(`${r.id} ${r.name}${r.noTransaction ? ' (no tx)' : ''}${r.dynamic ? ' (reads db)' : ''}`),
    badge: lintBadge(r),
  };
}

function lintBadge(r: MigrationRow): string {
  if (r.state !== 'pending') return '';
  const e = r.findings.filter((f) => f.severity === 'error').length;
  const w = r.findings.length - e;
  return e ? ` ✖${e}` : w ? ` ▲${w}` : ' ✔ lint';
}

/**
 * `cockpit migrate` in a terminal: the migrations with their state and lint verdicts, the selected one's findings
 * (each with its safer alternative) and the SQL it would send; upgrade, downgrade and backfills run from here with
 * their progress, as the `migrate` command (recorded in the audit log as when typed).
 */
export function MigrateScreen() {
  const ui = useUi();
  const t = useTheme();
  const services = ui.services.migrations!;
  const [view, setView] = useState<MigrationView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [sel, setSel] = useState(0);
  const [scroll, setScroll] = useState(0);
  const [running, setRunning] = useState<Running | null>(null);
  const stopRef = useRef<(() => void) | null>(null);
  // The running command's end (a quit waits for it once it is told to stop) and whether a quit stopped one.
  const doneRef = useRef<Promise<unknown>>(Promise.resolve());
  const quitStopped = useRef(false);
  /** How far the SQL preview scrolls (set as it is drawn): PgDn stops at its end. */
  const maxScrollRef = useRef(0);

  const reload = useCallback(() => {
    services.load().then(
      (v) => {
        setView(v);
        setError(null);
      },
      (e: Error) => setError(e.message),
    );
  }, [services]);
  useEffect(() => reload(), [reload]);
  useEffect(() => {
    if (view || error) ui.ready();
  }, [view, error, ui]);

  const rows = view?.rows ?? [];
  const pending = rows.filter((r) => r.state === 'pending');
  const applied = rows.filter((r) => r.state === 'applied');
  const active = running !== null && running.code === null;
  const row = rows[clamp(sel, 0, Math.max(0, rows.length - 1))];

  const run = (what: string, args: string[]) => {
    const state: Running = { what, lines: [], partial: '', progress: null, code: null };
    setRunning(state);
    const handle = services.run(args, {
      // What it tells, typed: in words for the log below the bar, and the bar itself.
      event: (e) =>
        setRunning((r) => {
          if (!r) return r;
          const said = describeMigrateLine(e).flatMap((s) =>
            s.text
              .replace(/\n$/, '')
              .split('\n')
              .map((text) => ({ text, error: s.stream === 'stderr' })),
          );
          return { ...r, lines: [...r.lines, ...said].slice(-KEEP), progress: progressAfter(r.progress, e) };
        }),
      // What it writes that is not an event (an error it stopped on), as it comes.
      text: (text) =>
        setRunning((r) => {
          if (!r) return r;
          const pieces = (r.partial + text).split('\n');
          const partial = pieces.pop() ?? '';
          return { ...r, lines: [...r.lines, ...pieces.map((l) => ({ text: l, error: true }))].slice(-KEEP), partial };
        }),
    });
    stopRef.current = handle.stop;
    doneRef.current = handle.done.catch(() => undefined);
    void handle.done.then((code) => {
      stopRef.current = null;
      setRunning((r) => r && { ...r, code });
      ui.flash(
        code === 0
          ? `${what}: done`
          : code === 3
            ? `${what}: stopped (the same command continues)`
            : `${what}: failed (exit ${code}) — the output says why`,
        code === 0 ? 'info' : 'error',
      );
      reload();
    });
  };

  const upgrade = () => {
    if (!pending.length) return ui.flash('nothing to apply: no pending migration', 'info');
    const errors = pending.reduce((n, r) => n + r.findings.filter((f) => f.severity === 'error').length, 0);
    const go = (reason?: string) => run('upgrade', ['upgrade', ...(reason ? ['--allow-unsafe', reason] : [])]);
    if (errors) {
      return ui.ask(`${errors} lint error(s) in the pending migrations. Apply anyway (you give the reason, recorded)?`, () =>
        ui.prompt(
          'Why is it safe? (recorded with your name)',
          (reason) => go(reason),
          'an override needs a reason: type why, then ↵ (esc cancels)',
        ),
      );
    }
    ui.ask(`Apply ${pending.length} pending migration(s) to ${view?.database}? Each in its own transaction unless it says otherwise.`, () =>
      go(),
    );
  };

  const keys: ScreenKeys = {
    layer: 'migrate',
    mode: active ? 'RUNNING' : 'MIGRATE',
    available: (c) => {
      switch (c) {
        case 'migrate.upgrade':
          return !active && pending.length > 0;
        case 'migrate.downgrade':
          return !active && applied.length > 0;
        case 'migrate.backfill':
          return !active && (view?.backfills.length ?? 0) > 0;
        case 'migrate.stop':
          return active;
        case 'migrate.refresh':
          return !active;
        default:
          return true;
      }
    },
    onCommand: (c) => {
      if (
        applyMove(
          c,
          rows.length,
          (d) => (setSel((s) => clamp(s + d, 0, Math.max(0, rows.length - 1))), setScroll(0)),
          (i) => (setSel(clamp(i, 0, rows.length - 1)), setScroll(0)),
        )
      )
        return;
      switch (c) {
        case 'output.up':
          return setScroll((s) => Math.max(0, s - 5));
        case 'output.down':
          return setScroll((s) => Math.min(maxScrollRef.current, s + 5));
        case 'migrate.upgrade':
          return upgrade();
        case 'migrate.downgrade': {
          const newest = applied[applied.length - 1];
          return ui.ask(`Downgrade ${newest.id} ${newest.name} (the newest applied)? Its downgrade runs now.`, () =>
            run('downgrade', ['downgrade', '--steps', '1']),
          );
        }
        case 'migrate.backfill': {
          const list = view!.backfills;
          return ui.prompt(
            `Backfill to run (${list.join(', ')})`,
            (name) => {
              if (!list.includes(name.trim())) return ui.flash(`no backfill '${name}': one of ${list.join(', ')}`, 'error');
              run(`backfill ${name.trim()}`, ['backfill', name.trim()]);
            },
            'type the name of a backfill, then ↵ (esc cancels)',
          );
        }
        case 'migrate.stop':
          return stopRef.current?.();
        case 'migrate.refresh':
          return reload();
        case 'back':
          if (active)
            return ui.flash(
              'a command is running: s stops it (an upgrade finishes or rolls back its migration; a backfill stops after its batch)',
              'error',
            );
          return ui.go({ name: 'home' });
        default:
          // Another layer's command: the root handler never routes it to this screen.
          break;
      }
    },
    quit: () =>
      active
        ? {
            question: 'A migration command is running. Stop it and quit?',
            then: async () => {
              quitStopped.current = true;
              stopRef.current?.();
              await doneRef.current;
            },
          }
        : null,
    // Stopped by this quit: 3 (README, "Exit codes"); nothing running: 0.
    exitCode: () => (quitStopped.current ? 3 : 0),
  };

  const width = ui.width;
  const height = ui.height;
  // The list as wide as its rows need while the detail keeps 45% of the width (its lines wrap; the list's are cut).
  const rowParts = rows.map((r) => ({ r, ...listRow(r) }));
  const listWant = Math.max(0, ...rowParts.map((p) => cellWidth(p.name) + cellWidth(p.badge) + 4));
  const listW = Math.max(28, Math.min(listWant, width - 2 - Math.max(34, Math.ceil(width * 0.45))));
  const rightW = Math.max(10, width - listW - 2);
  const runRows = running ? Math.max(4, Math.floor(height * 0.35)) : 0;
  const body = Math.max(3, height - 1 - runRows);

  const counts = view
    ? `${applied.length} applied · ${pending.length} pending · ${rows.filter((r) => r.state === 'failed').length} failed`
    : 'reading…';
  const head = `Migrations: ${counts} · ${view?.folder ?? '…'} · ${view?.database ?? ''}`;

  // The list, windowed around the selection.
  const win = windowAround(rows.length, sel, body);
  const listLines = rowParts.slice(win.start, win.end).map(({ r, name, badge }, i) => {
    const at = win.start + i === sel;
    // The lint badge is never cut: the name gives way to it.
    const text = `${at ? '›' : ' '} ${glyph(r)} ${fitCells(name, listW - 4 - cellWidth(badge))}${badge}`;
    const color =
      r.state === 'failed' || r.findings.some((f) => f.severity === 'error')
        ? t.danger
        : r.state === 'applied'
          ? t.ok
          : r.findings.length
            ? t.warn
            : undefined;
    return { text, color, bold: at };
  });
  if (!rows.length)
    listLines.push({
      text: view ? screenLine(`no migrations in ${view.folder}: cockpit migrate create "what it does"`) : 'reading…',
      color: t.muted,
      bold: false,
    });

  // The detail: state, problems, lint findings with the safer way, then the SQL (scrollable).
  type Line = { text: string; color?: string; bold?: boolean };
  const detail: Line[] = [];
  const push = (text: string, color?: string, bold?: boolean, indent = '') => {
    for (const l of wrap(screenLine(text), rightW - indent.length)) detail.push({ text: indent + l, color, bold });
  };
  if (error || view?.error) push(error ?? view!.error!, t.danger, true);
  for (const p of view?.problems ?? []) push(`⚠ ${p}`, t.warn);
  if (row) {
    push(`${row.id} ${row.name} — ${row.file}`, undefined, true);
    push(row.detail, row.state === 'failed' ? t.danger : row.state === 'applied' ? t.ok : t.muted);
    for (const p of row.problems) push(`⚠ ${p}`, t.warn);
    if (row.state === 'pending') {
      if (!row.findings.length) push('lint: no findings', t.ok);
      for (const f of row.findings) {
        push(
          `${f.severity === 'error' ? '✖ error' : '▲ warning'} ${f.rule} (${f.where}): ${f.message}`,
          f.severity === 'error' ? t.danger : t.warn,
        );
        push(`safer: ${f.fix}`, undefined, false, '    ');
      }
    }
    // `d` reverts the newest applied migration: the preview says whether that is the one shown.
    const newest = applied[applied.length - 1];
    push(
      row.state !== 'applied'
        ? 'SQL an upgrade would send'
        : row === newest
          ? 'SQL d (downgrade) sends now: this is the newest applied'
          : `SQL of its downgrade: d reverts the newest applied (${newest.id} ${newest.name}) first, not this one`,
      t.accent,
      true,
    );
    const sql = row.sql ? row.sql.trimEnd().split('\n') : ['(the database is needed to show it)'];
    const room = Math.max(1, body - detail.length);
    const maxScroll = Math.max(0, sql.length - room);
    maxScrollRef.current = maxScroll;
    const from = Math.min(scroll, maxScroll);
    for (const l of sql.slice(from, from + room)) detail.push({ text: fitCells(screenLine(l), rightW) || ' ', color: t.muted });
  }

  // The running command: progress bar, then its last lines.
  const runLines: Line[] = [];
  if (running) {
    const p = running.progress;
    const barW = Math.max(10, Math.min(30, Math.floor(width / 4)));
    const frac = p && p.of ? Math.min(1, p.done / p.of) : 0;
    const bar =
      p && p.of ? `[${'█'.repeat(Math.round(frac * barW))}${'░'.repeat(barW - Math.round(frac * barW))}] ${Math.floor(frac * 100)}%  ` : '';
    const state =
      running.code === null ? 'running' : running.code === 0 ? 'done' : running.code === 3 ? 'stopped' : `failed (exit ${running.code})`;
    runLines.push({
      text: `cockpit migrate ${running.what}: ${state}  ${bar}${p?.label ?? ''}`,
      color: running.code === null ? t.accent : running.code === 0 ? t.ok : t.danger,
      bold: true,
    });
    const tail = [...running.lines, ...(running.partial ? [{ text: running.partial, error: true }] : [])].slice(-(runRows - 1));
    for (const l of tail) runLines.push({ text: fitCells(screenLine(l.text), width) || ' ', color: l.error ? t.danger : undefined });
  }

  return (
    <ScreenFrame keys={keys}>
      <Box flexDirection="column" width={width} height={height}>
        <Text wrap="truncate-end" bold>
          {screenLine(head)}
        </Text>
        <Box flexDirection="row" height={body}>
          <Box flexDirection="column" width={listW} height={body}>
            {listLines.slice(0, body).map((l, i) => (
              <Text key={i} wrap="truncate-end" color={l.color} bold={l.bold}>
                {l.text}
              </Text>
            ))}
          </Box>
          <Box
            flexDirection="column"
            width={rightW + 2}
            height={body}
            borderStyle="single"
            borderTop={false}
            borderRight={false}
            borderBottom={false}
            borderColor={t.border}
            paddingLeft={1}
          >
            {detail.slice(0, body).map((l, i) => (
              <Text key={i} wrap="truncate-end" color={l.color} bold={l.bold}>
                {l.text || ' '}
              </Text>
            ))}
          </Box>
        </Box>
        {running ? (
          <Box flexDirection="column" width={width} height={runRows}>
            {runLines.slice(0, runRows).map((l, i) => (
              <Text key={i} wrap="truncate-end" color={l.color} bold={l.bold}>
                {l.text}
              </Text>
            ))}
          </Box>
        ) : null}
      </Box>
    </ScreenFrame>
  );
}

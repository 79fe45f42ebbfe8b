import { Box, Text } from 'ink';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { formatDuration } from '../../core/duration.js';
import { useUi, type ScreenKeys } from '../context.js';
import { ScreenFrame } from '../frame.js';
import { applyMove } from '../selection.js';
import { ago, clamp, screenLine, windowAround } from '../text.js';
import { useTheme } from '../theme.js';
import type { HomeData, SessionEntry } from '../types.js';

type Focus = 'sessions' | 'checklists';

/** How often the home screen reads the sessions again. */
export const HOME_REFRESH_MS = 5000;

function statusGlyph(s: SessionEntry): string {
  if (s.running) return '▶';
  if (s.resumable) return s.status.startsWith('failed') ? '✖' : s.status.startsWith('crashed') ? '⚠' : '?';
  return s.status === 'succeeded' ? '✔' : s.status === 'aborted' ? '■' : '·';
}

/** `cockpit`: the checklists here, and recent sessions (resumable ones first). */
export function HomeScreen({ initial }: { initial?: HomeData }) {
  const ui = useUi();
  const t = useTheme();
  const [data, setData] = useState<HomeData | null>(initial ?? null);
  const [error, setError] = useState<string | null>(null);
  const [focus, setFocus] = useState<Focus>(initial && !initial.sessions.length ? 'checklists' : 'sessions');
  const [sel, setSel] = useState({ sessions: 0, checklists: 0 });
  const [busy, setBusy] = useState(false);
  const [filter, setFilter] = useState('');
  const [broken, setBroken] = useState<Record<string, string>>({});

  // Sessions change while the home screen is open (another cockpit runs one, one crashes): read them again now and then.
  const loaded = data !== null;
  useEffect(() => {
    if (!loaded) return;
    const id = setInterval(() => {
      ui.services.sessions().then(
        (sessions) => setData((d) => d && { ...d, sessions }),
        () => undefined,
      );
    }, HOME_REFRESH_MS);
    return () => clearInterval(id);
  }, [loaded, ui.services]);

  useEffect(() => {
    if (initial) return;
    let live = true;
    ui.services.home().then(
      (d) => {
        if (!live) return;
        setData(d);
        if (!d.sessions.length) setFocus('checklists');
      },
      (e: Error) => live && setError(e.message),
    );
    return () => {
      live = false;
    };
  }, [ui.services, initial]);

  useEffect(() => {
    if (data || error) ui.ready();
  }, [data, error, ui]);

  // The list came from a quick read; each checklist is validated in full after the first frame, one per tick,
  // so keys stay answered meanwhile. One that does not load is marked and cannot be started.
  const ids = data?.checklists.map((c) => c.id).join(',');
  useEffect(() => {
    if (!ids) return;
    let live = true;
    void (async () => {
      for (const id of ids.split(',')) {
        await new Promise((r) => setImmediate(r));
        if (!live) return;
        const why = await ui.services.check(id).catch((e: Error) => e.message);
        if (live && why) setBroken((b) => ({ ...b, [id]: why }));
      }
    })();
    return () => {
      live = false;
    };
  }, [ids, ui.services]);

  const needle = filter.trim().toLowerCase();
  const sessions = useMemo(
    () =>
      (data?.sessions ?? []).filter(
        (x) => !needle || [x.id, x.checklist, x.params, x.operator, x.status].some((v) => v.toLowerCase().includes(needle)),
      ),
    [data, needle],
  );
  const checklists = useMemo(
    () => (data?.checklists ?? []).filter((x) => !needle || [x.id, x.title, x.origin].some((v) => v.toLowerCase().includes(needle))),
    [data, needle],
  );
  const list = focus === 'sessions' ? sessions : checklists;
  const index = clamp(sel[focus], 0, Math.max(0, list.length - 1));
  const session = focus === 'sessions' ? sessions[index] : undefined;
  const checklist = focus === 'checklists' ? checklists[index] : undefined;

  // Updates of the previous selection: keys that arrive faster than renders all count.
  const moveBy = useCallback(
    (delta: number) =>
      setSel((s) => ({ ...s, [focus]: clamp(clamp(s[focus], 0, Math.max(0, list.length - 1)) + delta, 0, Math.max(0, list.length - 1)) })),
    [focus, list.length],
  );
  const moveTo = useCallback(
    (to: number) => setSel((s) => ({ ...s, [focus]: clamp(to, 0, Math.max(0, list.length - 1)) })),
    [focus, list.length],
  );

  const open = () => {
    if (busy) return;
    if (checklist) {
      const why = checklist.broken ?? broken[checklist.id];
      if (why) return ui.flash(`${checklist.id} does not load: ${why}`, 'error');
      return ui.go({ name: 'form', checklist });
    }
    if (session) {
      if (session.running)
        return ui.flash(
          `session ${session.id} is running in another cockpit (${session.operator}); r replays what it has done so far`,
          'error',
        );
      if (!session.resumable) return ui.flash(`session ${session.id} has finished (${session.status}); r replays it`, 'info');
      // Secret parameters were never stored: ask for each again (shown as dots), then resume.
      const secrets: Record<string, string> = {};
      const ask = (i: number) => {
        const name = session.secrets[i];
        if (name === undefined) return resume(secrets);
        const got = (value: string) => {
          secrets[name] = value;
          ask(i + 1);
        };
        ui.prompt(`${session.id} needs its secret parameter '${name}' again (never stored)`, got, `'${name}' is required to resume`, {
          secret: true,
        });
      };
      return ask(0);
    }
  };

  const resume = (secrets: Record<string, string>) => {
    if (!session) return;
    setBusy(true);
    ui.flash(`resuming ${session.id}…`);
    ui.services.resume(session.id, secrets).then(
      (controls) => ui.go({ name: 'session', controls }),
      (e: Error) => {
        setBusy(false);
        ui.flash(e.message, 'error');
      },
    );
  };

  const replay = () => {
    if (!session || busy) return;
    setBusy(true);
    ui.services.events(session.id).then(
      (events) => ui.go({ name: 'replay', sessionId: session.id, events }),
      (e: Error) => {
        setBusy(false);
        ui.flash(e.message, 'error');
      },
    );
  };

  const keys: ScreenKeys = {
    layer: 'home',
    mode: filter ? `HOME /${filter}` : 'HOME',
    available: (c) => {
      if (c === 'home.replay') return !!session;
      if (c === 'home.switch') return !!data;
      if (c === 'home.open') return !!(session || checklist);
      if (c === 'home.clear-filter') return !!filter;
      if (c === 'home.migrations') return !!ui.services.migrations;
      return true;
    },
    onCommand: (c) => {
      if (applyMove(c, list.length, moveBy, moveTo)) return;
      switch (c) {
        case 'home.switch':
          return setFocus((f) => (f === 'sessions' ? 'checklists' : 'sessions'));
        case 'home.open':
          return open();
        case 'home.replay':
          return replay();
        case 'home.migrations':
          return ui.go({ name: 'migrate' });
        case 'home.filter': {
          // The lists follow as the operator types; ↵ keeps the filter, esc puts back the one before.
          const before = filter;
          const apply = (v: string) => {
            setFilter(v);
            setSel({ sessions: 0, checklists: 0 });
          };
          return ui.prompt('Filter as you type (↵ keeps it, esc puts back the one before)', apply, undefined, {
            value: filter,
            onChange: apply,
            onCancel: () => apply(before),
          });
        }
        case 'home.clear-filter':
          setFilter('');
          return setSel({ sessions: 0, checklists: 0 });
        default:
          // Another layer's command: the root handler never routes it to this screen.
          break;
      }
    },
  };

  const width = ui.width;
  const body = ui.height - 1;
  const sessionRows = data ? clamp(sessions.length + 1, 2, Math.floor((body - 2) / 2)) : 2;
  const checklistRows = Math.max(2, body - 2 - sessionRows - (data?.schedule ? 1 : 0));
  const now = ui.services.now();

  const section = (title: string, active: boolean) => (
    <Text bold inverse={active} color={active ? undefined : t.muted} wrap="truncate-end">
      {` ${title} `}
    </Text>
  );

  let sessionsView;
  if (!data)
    sessionsView = <Text color={t.muted}>{error ? `cannot read the audit log: ${screenLine(error)}` : 'reading the audit log…'}</Text>;
  else if (!data.sessions.length)
    sessionsView = <Text color={t.muted}>no sessions yet: pick a checklist below and press ↵ to start one</Text>;
  else if (!sessions.length) sessionsView = <Text color={t.muted}>no session matches '{screenLine(filter)}' (esc shows all)</Text>;
  else {
    const w = windowAround(sessions.length, focus === 'sessions' ? index : 0, sessionRows);
    sessionsView = sessions.slice(w.start, w.end).map((s, k) => {
      const i = w.start + k;
      const selected = focus === 'sessions' && i === index;
      const took = s.endedAt ? formatDuration(s.endedAt - s.startedAt) : s.running ? 'running' : '';
      const color = s.resumable ? t.warn : s.status === 'succeeded' ? t.ok : s.status === 'aborted' ? t.danger : undefined;
      return (
        <Box key={s.id} height={1} width={width}>
          <Text wrap="truncate-end" inverse={selected}>
            {selected ? '›' : ' '}
            <Text color={color}>{statusGlyph(s)}</Text> {s.id.padEnd(21)} {screenLine(s.checklist).padEnd(16)}{' '}
            <Text color={color}>{screenLine(s.status).padEnd(19)}</Text> {ago(now - s.startedAt).padEnd(8)} {took.padEnd(7)}{' '}
            {screenLine(s.operator).padEnd(8)} <Text color={t.muted}>{screenLine(s.params)}</Text>
          </Text>
        </Box>
      );
    });
  }

  let checklistsView;
  if (!data) checklistsView = null;
  else if (!checklists.length) checklistsView = <Text color={t.muted}>no checklist matches '{screenLine(filter)}' (esc shows all)</Text>;
  else {
    const w = windowAround(checklists.length, focus === 'checklists' ? index : 0, checklistRows);
    checklistsView = checklists.slice(w.start, w.end).map((c, k) => {
      const i = w.start + k;
      const selected = focus === 'checklists' && i === index;
      const params = Object.keys(c.params);
      return (
        <Box key={c.id} height={1} width={width}>
          <Text wrap="truncate-end" inverse={selected}>
            {selected ? '›' : ' '} {screenLine(c.id).padEnd(20)}{' '}
            {(c.broken ?? broken[c.id]) ? <Text color={t.danger}>✖ does not load </Text> : null}
            {screenLine(c.title)}
            <Text color={t.muted}>
              {params.length ? `  (${params.join(', ')})` : ''} · {c.origin}
            </Text>
          </Text>
        </Box>
      );
    });
  }

  return (
    <ScreenFrame keys={keys}>
      <Text wrap="truncate-end" bold>
        release-cockpit {ui.services.version}
        <Text color={t.muted} bold={false}>
          {data
            ? ` · ${screenLine(data.repoDir)} · audit ${screenLine(data.auditLocation)} · operator ${screenLine(ui.services.operator)}`
            : ''}
        </Text>
      </Text>
      {data?.schedule ? <ScheduleLine schedule={data.schedule} now={now} /> : null}
      {section(
        `Sessions${data ? ` (${needle ? `${sessions.length} of ${data.sessions.length} matching '${screenLine(filter)}'` : `${data.sessions.length}`}, resumable first)` : ''}`,
        focus === 'sessions',
      )}
      <Box flexDirection="column" height={sessionRows}>
        {sessionsView}
      </Box>
      {section(
        `Checklists${data ? ` (${needle ? `${checklists.length} of ${data.checklists.length} matching '${screenLine(filter)}'` : data.checklists.length})` : ''}`,
        focus === 'checklists',
      )}
      <Box flexDirection="column" height={checklistRows}>
        {checklistsView}
      </Box>
    </ScreenFrame>
  );
}

function when(ms: number, now: number, full = false): string {
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

/** The release calendar: when the next release is due, when its freeze starts and its announcement is due. */
function ScheduleLine({ schedule, now }: { schedule: NonNullable<HomeData['schedule']>; now: number }) {
  const t = useTheme();
  return (
    <Text wrap="truncate-end" color={t.muted}>
      Release{' '}
      <Text bold color={t.accent}>
        {when(schedule.release, now, true)}
      </Text>{' '}
      · freeze {when(schedule.freezeStart, now)} · announce {when(schedule.announceBy, now)}
    </Text>
  );
}

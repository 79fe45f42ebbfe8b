import { Box, Text } from 'ink';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { useUi, type ScreenKeys } from '../context.js';
import { ScreenFrame } from '../frame.js';
import { applyMove } from '../selection.js';
import { padCells } from '../cells.js';
import { clamp, screenLine, windowAround } from '../text.js';
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
  when,
  type HomeFocus,
  type SessionColumn,
} from '../home-layout.js';
import { useTheme } from '../theme.js';
import type { HomeData } from '../types.js';
import { supersededWords } from '../model.js';
import { dueLine, overdue } from '../../core/notify/due.js';
import { demoStory, type Story } from '../../demo/story.js';

type Focus = HomeFocus;

/** How often the home screen reads the sessions again. */
export const HOME_REFRESH_MS = 5000;

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
  // A filter that leaves the focused list empty moves the focus to the other list when it has something, and one
  // that names a checklist exactly selects it: '/deploy-staging ↵' then ↵ starts it.
  const exact = needle ? checklists.findIndex((c) => c.id.toLowerCase() === needle) : -1;
  useEffect(() => {
    if (!needle) return;
    if (exact >= 0 && !sessions.some((x) => x.checklist.toLowerCase() === needle && x.status.includes('resumable'))) {
      setFocus('checklists');
      setSel((s) => ({ ...s, checklists: exact }));
    } else if (focus === 'sessions' && !sessions.length && checklists.length) setFocus('checklists');
    else if (focus === 'checklists' && !checklists.length && sessions.length) setFocus('sessions');
    // Only when the filter changes: the operator's own tab afterwards is kept.
  }, [needle]);
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

  // A stopped session closed for good: a superseded one with the reason said for the operator, any other with theirs.
  const abort = () => {
    const abortWith = ui.services.abort;
    if (!session || busy || !abortWith) return;
    if (session.running || !session.resumable)
      return ui.flash(`session ${session.id} is ${session.running ? 'running' : 'finished'}: there is nothing to abort`, 'error');
    const id = session.id;
    const done = (reason: string) => {
      setBusy(true);
      abortWith(id, reason).then(
        async () => {
          setBusy(false);
          ui.flash(`session ${id} closed as aborted: ${reason}`);
          const sessions = await ui.services.sessions().catch(() => null);
          if (sessions) setData((d) => d && { ...d, sessions });
        },
        (e: Error) => {
          setBusy(false);
          ui.flash(e.message, 'error');
        },
      );
    };
    const over = session.superseded;
    if (over)
      return ui.ask(`Abort session ${id}? It is ${supersededWords(over, ui.services.now())}; it cannot be resumed afterwards.`, () =>
        done(
          over.by
            ? `superseded: ${over.tag} was released by session ${over.by.id}`
            : `superseded: ${over.tag} was tagged outside the cockpit`,
        ),
      );
    return ui.ask(`Abort session ${id} for good? It cannot be resumed afterwards.`, () =>
      ui.prompt('Why abort? (required, recorded)', done, 'an abort needs a reason: type why, then ↵ (esc cancels)'),
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
    available: (c) =>
      homeAvailable(c, {
        session,
        checklist,
        loaded: !!data,
        filter,
        canAbort: !!ui.services.abort,
        canMigrate: !!ui.services.migrations,
      }),
    onCommand: (c) => {
      if (applyMove(c, list.length, moveBy, moveTo)) return;
      switch (c) {
        case 'home.switch':
          return setFocus((f) => (f === 'sessions' ? 'checklists' : 'sessions'));
        case 'home.open':
          return open();
        case 'home.replay':
          return replay();
        case 'home.abort':
          return abort();
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
  // The demo's story (the demo's sandbox only): its steps on a line, what to do next on the message line.
  const demo = ui.services.demo;
  const story = demo && data ? demoStory(data.sessions, demo.senior.name.split(' ')[0], demo.messagesCommand) : null;
  const rows = homeRows(data, sessions.length, ui.height);
  const sessionRows = rows.sessions;
  const checklistRows = Math.max(2, rows.checklists - (story ? 1 : 0));
  const now = ui.services.now();

  // The selected session overtaken: the whole sentence on the message line (the row has room for its start only).
  const overtaken = session?.superseded
    ? { text: `${supersededWords(session.superseded, now)}: a aborts it`, tone: 'error' as const }
    : null;

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
    const widths = sessionColumnWidths(sessions, now, width);
    sessionsView = sessions.slice(w.start, w.end).map((s, k) => {
      const i = w.start + k;
      const selected = focus === 'sessions' && i === index;
      const cells = sessionCells(s, now);
      const color = sessionColor(s, t);
      const col = (c: SessionColumn) => (widths[c] ? `${padCells(cells[c], widths[c])}${GAP}` : '');
      return (
        <Box key={s.id} height={1} width={width}>
          <Text wrap="truncate-end" inverse={selected}>
            {selected ? '›' : ' '}
            <Text color={color}>{statusGlyph(s)}</Text> {col('id')}
            {col('checklist')}
            <Text color={color}>{col('status')}</Text>
            {col('ago')}
            {col('took')}
            {col('operator')}
            <Text color={t.muted}>{widths.params ? padCells(cells.params, widths.params) : ''}</Text>
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
    const idW = checklistIdWidth(
      checklists.map((c) => c.id),
      width,
    );
    checklistsView = checklists.slice(w.start, w.end).map((c, k) => {
      const i = w.start + k;
      const selected = focus === 'checklists' && i === index;
      const params = Object.keys(c.params);
      return (
        <Box key={c.id} height={1} width={width}>
          <Text wrap="truncate-end" inverse={selected}>
            {selected ? '›' : ' '} {padCells(screenLine(c.id), idW + 1)}{' '}
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
    <ScreenFrame keys={keys} status={overtaken ?? (story ? { text: story.next, tone: 'info' } : null)}>
      <Text wrap="truncate-end" bold>
        release-cockpit {ui.services.version}
        <Text color={t.muted} bold={false}>
          {headerDetail(data, ui.services.operator)}
        </Text>
      </Text>
      {data?.schedule ? <ScheduleLine schedule={data.schedule} now={now} /> : null}
      {story ? <DemoStory story={story} /> : null}
      {section(sessionsTitle(data, sessions.length, filter), focus === 'sessions')}
      <Box flexDirection="column" height={sessionRows}>
        {sessionsView}
      </Box>
      {section(checklistsTitle(data, checklists.length, filter), focus === 'checklists')}
      <Box flexDirection="column" height={checklistRows}>
        {checklistsView}
      </Box>
    </ScreenFrame>
  );
}

/** The demo's story on one line: the steps done (✔), the next one (▶), those to come. */
function DemoStory({ story }: { story: Story }) {
  const t = useTheme();
  return (
    <Text wrap="truncate-end" color={t.muted}>
      Story:{' '}
      {story.steps.map((s, i) => (
        <Text key={s.label}>
          {i ? ' → ' : ''}
          <Text color={s.mark === 'done' ? t.ok : s.mark === 'next' ? t.accent : undefined} bold={s.mark === 'next'}>
            {s.mark === 'done' ? '✔ ' : s.mark === 'next' ? '▶ ' : ''}
            {s.label}
          </Text>
        </Text>
      ))}
    </Text>
  );
}

/**
 * The release calendar: when the next release is due and when its freeze starts; under it, its pre-release messages
 * (the announcement, the maintenance window): when each is due and whether it was sent (`cockpit comms` lists them).
 */
function ScheduleLine({ schedule, now }: { schedule: NonNullable<HomeData['schedule']>; now: number }) {
  const t = useTheme();
  const due = schedule.due ?? [];
  return (
    <>
      <Text wrap="truncate-end" color={t.muted}>
        Release{' '}
        <Text bold color={t.accent}>
          {when(schedule.release, now, true)}
        </Text>{' '}
        · freeze {when(schedule.freezeStart, now)}
        {due.length ? '' : ` · announce ${when(schedule.announceBy, now)}`}
      </Text>
      {due.length ? (
        <Text wrap="truncate-end" color={overdue(due, now) ? t.warn : t.muted}>
          {dueLine(due, now)}
        </Text>
      ) : null}
    </>
  );
}

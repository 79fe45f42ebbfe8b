import { renderToString } from 'ink';
import { stripVTControlCharacters } from 'node:util';
import type { ReactElement } from 'react';
import { describe, expect, it } from 'vitest';
import { planNode } from '../helpers/plan.js';
import { sessionStarted, type AuditEvent, type EventDataMap, type EventType, type PlanNode } from '../../src/core/events.js';
import { reduceAll, type SessionState } from '../../src/core/reducer.js';
import { Replay, timelineCells } from '../../src/core/replay.js';
import { Header } from '../../src/tui/components/Header.js';
import { HelpOverlay } from '../../src/tui/components/HelpOverlay.js';
import { StatusBar } from '../../src/tui/components/StatusBar.js';
import { StepList } from '../../src/tui/components/StepList.js';
import { Timeline } from '../../src/tui/components/Timeline.js';
import { barHints, BINDINGS, keyConflicts, keyPresses, resolveKey } from '../../src/tui/keymap.js';
import { colorTheme, noColorTheme, ThemeContext, themeFor } from '../../src/tui/theme.js';
import { stepOutcomeLine } from '../../src/tui/model.js';

// Views rendered to text at fixed widths: what the operator sees, character for character.

const T0 = Date.UTC(2026, 10, 27, 9, 0, 0);

const node = (path: string, title: string, kind = 'run'): PlanNode => planNode(path, kind, { title, checklist: 'release', scope: '' });

const PLAN = [
  node('freeze', 'Code freeze on develop', 'confirm'),
  node('tests', 'Run the test suite'),
  node('staging', 'Deploy to staging', 'checklist'),
  node('staging/deploy', 'Deploy the build'),
  node('staging/smoke', 'Smoke tests on staging'),
  node('approval', 'Approval from a senior developer', 'confirm'),
  node('tag', 'Tag the release with a very long title that cannot fit in the list'),
];

function session(): AuditEvent[] {
  let seq = 0;
  const ev = <T extends EventType>(type: T, stepId: string | null, data: EventDataMap[T], dt: number, actor = 'alice'): AuditEvent<T> => ({
    sessionId: 's1',
    seq: ++seq,
    time: T0 + dt,
    type,
    stepId,
    actor,
    data,
  });
  return [
    ev(
      'session.started',
      null,
      {
        checklist: { id: 'release', title: 'Bi-weekly release', sha256: 'x' },
        origin: { file: 'release', byId: true },
        params: { version: '2.4.0' },
        environment: 'production',
        operator: 'alice',
        host: 'h',
        pid: 1,
        mode: 'interactive',
        version: '0.1.0',
        plan: PLAN,
        scopes: { '': { checklist: 'release', params: { version: '2.4.0' } } },
      },
      0,
    ),
    ev('step.started', 'freeze', { attempt: 1 }, 1000),
    ev('step.confirmed', 'freeze', { by: 'alice', via: 'prompt' }, 4000),
    ev('step.passed', 'freeze', { durationMs: 3000, via: 'confirmation' }, 4000),
    ev('step.started', 'tests', { attempt: 1 }, 5000),
    ev('step.output', 'tests', { stream: 'stdout', text: 'ok - search\nok - booking\n' }, 6000),
    ev('step.failed', 'tests', { durationMs: 2000, exitCode: 1, reason: 'exited with code 1' }, 7000),
    ev('note.added', 'tests', { text: 'flaky booking test, retrying' }, 8000),
    ev('step.started', 'tests', { attempt: 2 }, 9000),
    ev('step.passed', 'tests', { durationMs: 61_000, exitCode: 0, via: 'command' }, 70_000),
    ev('step.started', 'staging/deploy', { attempt: 1 }, 71_000),
    ev('step.passed', 'staging/deploy', { durationMs: 1500, exitCode: 0 }, 72_500),
    ev('step.skipped', 'staging/smoke', { reason: 'smoke suite down, checked by hand', by: 'operator' }, 80_000),
    ev('step.started', 'approval', { attempt: 1 }, 81_000),
  ];
}

const state = (): SessionState => reduceAll(session())!;

function text(el: ReactElement, columns: number, theme = noColorTheme): string {
  return stripVTControlCharacters(renderToString(<ThemeContext.Provider value={theme}>{el}</ThemeContext.Provider>, { columns }));
}

describe('the header at 80 columns', () => {
  it("keeps the session's id on line 2 whatever else is there (a long environment, resumes, a replay), and the operator when live", () => {
    const events = session().map((e) => ({ ...e, sessionId: '20261206-055017-1caa' }));
    const started = events[0] as AuditEvent<'session.started'>;
    const long: AuditEvent[] = [
      { ...started, data: { ...started.data, environment: 'production-eu-west-1-blue', operator: 'alice.on-call' } },
      ...events.slice(1),
      { ...events[1], seq: 99, time: T0 + 90_000, type: 'session.resumed', stepId: null, data: { operator: 'bob', host: 'h2', pid: 2 } },
    ];
    const s = reduceAll(long)!;
    const line2 = (replay?: { speed: string; playing: boolean; pos: number; length: number }) =>
      text(<Header state={s} phase="running" width={80} now={T0 + 754_000} replay={replay} />, 80).split('\n')[1];
    const live = line2();
    expect(live).toContain('session 20261206-055017-1caa');
    expect(live).toContain('operator bob'); // who resumed it runs it now
    expect(live).toContain('4/6 done');
    expect(live.length).toBeLessThanOrEqual(80);
    const replayed = line2({ speed: '1×', playing: false, pos: 5, length: 15 });
    expect(replayed).toContain('session 20261206-055017-1caa');
    expect(replayed).toContain('(event 5/15)');
    expect(replayed.length).toBeLessThanOrEqual(80);
  });
});

describe('the step list', () => {
  it('numbers leaf steps, shows each status as a glyph, indents includes, marks the selection and the current step, and truncates to its width', () => {
    const s = state();
    expect(text(<StepList state={s} selected={1} focus="approval" asking="approval" width={48} height={10} now={T0 + 90_000} />, 48))
      .toMatchInlineSnapshot(`
      "  1 ✔ Code freeze on develop                3.0s
      › 2 ✔ Run the test suite                    1m1s
          ✔ Deploy to staging ▾
        3 ✔   Deploy the build                    1.5s
        4 ↷   Smoke tests on staging
      ▸ 5 ? Approval from a senior developer      9.0s
        6 · Tag the release with a very long title th…


      "
    `);
  });

  it('draws a step that had nothing to check as ○, not ✔, and says why under its title', () => {
    const events = session().slice(0, 2);
    const s = reduceAll([
      ...events,
      {
        ...events[1],
        seq: 3,
        time: T0 + 2000,
        type: 'step.passed',
        data: { via: 'command', nothingToCheck: 'no release schedule configured' },
      },
    ] as AuditEvent[])!;
    const out = text(<StepList state={s} selected={0} focus="freeze" width={48} height={3} now={T0 + 3000} />, 48);
    expect(out).toMatch(/1 ○ Code freeze on develop/);
    expect(out).not.toContain('✔ Code freeze');
    expect(stepOutcomeLine(s.steps[0])).toBe('nothing to check: no release schedule configured');
  });

  it('windows a long list around the selection before rendering (only the rows that fit exist)', () => {
    const plan = Array.from({ length: 500 }, (_, i) => node(`s${i}`, `Step number ${i + 1}`));
    const start = sessionStarted(session());
    const big = reduceAll([{ ...start, data: { ...start.data, plan } }])!;
    const out = text(<StepList state={big} selected={250} focus="s0" width={40} height={5} now={T0} />, 40);
    expect(out.split('\n')).toHaveLength(5);
    expect(out).toMatchInlineSnapshot(`
      "  249 · Step number 249
        250 · Step number 250
      › 251 · Step number 251
        252 · Step number 252
        253 · Step number 253"
    `);
  });
});

describe('the status bar', () => {
  it('shows the mode and the keys that act now, from the keymap, each whole: help and quit stay when room runs out', () => {
    // Nothing failed while a step asks: u (the issue update) is not offered either.
    const asking = barHints(
      ['session', 'global'],
      (c) =>
        c !== 'session.continue' && c !== 'session.retry' && c !== 'session.update' && c !== 'session.edit' && c !== 'session.demo-approve',
    );
    expect(text(<StatusBar mode="CONFIRM" hints={asking} width={100} />, 100)).toMatchInlineSnapshot(
      `" CONFIRM   ↵ confirm  s skip  n note  R rollback  a abort  ? help  q quit"`,
    );
    // A failed step: enter does nothing there, so it is not offered; r retries.
    const failed = barHints(
      ['session', 'global'],
      (c) => c !== 'session.confirm' && c !== 'session.continue' && c !== 'session.demo-approve',
    );
    expect(text(<StatusBar mode="FAILED" hints={failed} width={60} />, 60)).toMatchInlineSnapshot(
      `" FAILED   s skip  r retry  n note  ? help  q quit"`,
    );
  });
});

describe('the replay timeline', () => {
  it('places failures, notes, skips and approvals along the session time, and the moment shown', () => {
    const r = new Replay(session());
    expect(text(<Timeline width={60} cells={timelineCells(r, 60, 7)} />, 60)).toMatchInlineSnapshot(`
      "━━✓━━✖─────────────────────────────────────────────────────↷
      ● now ━ played  ✖ failure ↷ skip ✓ approval ✎ note ↻ resume…"
    `);
    expect(text(<Timeline width={40} cells={timelineCells(r, 40, r.length)} />, 40)).toMatchInlineSnapshot(`
      "━✓━✖━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━↷
      ● now ━ played  ✖ failure ↷ skip ✓ appr…"
    `);
  });
});

describe('the help overlay', () => {
  it('lists every key of the screen and the global ones, generated from the keymap', () => {
    // A confirmation, not a message shown before it is sent: e (edit the message) is not offered either.
    const asking = (c: string) =>
      c !== 'session.continue' && c !== 'session.retry' && c !== 'session.update' && c !== 'session.edit' && c !== 'session.demo-approve';
    expect(text(<HelpOverlay layers={['session']} available={asking} scroll={0} width={80} height={24} />, 80)).toMatchInlineSnapshot(`
      "╭──────────────────────────────────────────────────────────────────────────────╮
      │ Keys                                                                         │
      │ Checklist                                                                    │
      │ ↵         answer yes to the step that asks (recorded with your name)         │
      │ s         skip the step that asks, failed or stopped (a reason is required … │
      │ n         add a note to the selected step (recorded with who and when)       │
      │ R         during a watch: start the rollback checklist (the watch stops; it… │
      │ a         abort the session for good (asks first; a reason is recorded)      │
      │ ↓/j       select the next step                                               │
      │ ↑/k       select the previous step                                           │
      │ g/home    select the first step                                              │
      │ G/end     select the last step                                               │
      │ PgUp      scroll the output back a page                                      │
      │ PgDn      scroll the output forward a page (the end follows new lines)       │
      │ esc       back to the home screen (while a step runs: says so)               │
      │ Everywhere                                                                   │
      │ ?/F1      show every key of this screen                                      │
      │ q/ctrl-c  quit (asks while a step runs; the next step waits for the answer)  │
      │                                                                              │
      │                                                                              │
      │                                                                              │
      │                                                                              │
      │                                                                              │
      ╰──────────────────────────────────────────────────────────────────────────────╯"
    `);
  });

  it('scrolls when the terminal is too short to list every key, and says which lines it shows', () => {
    const all = () => true;
    const top = text(<HelpOverlay layers={['replay']} available={all} scroll={0} width={60} height={8} />, 60);
    expect(top).toMatch(/Keys \(lines 1-5 of 18; ↓\/↑ scroll\)/);
    expect(top.split('\n')).toHaveLength(8);
    const end = text(<HelpOverlay layers={['replay']} available={all} scroll={99} width={60} height={8} />, 60);
    expect(end).toMatch(/Keys \(lines 14-18 of 18; ↓\/↑ scroll\)/);
    expect(end).toContain('quit (the replay only reads the log)');
  });
});

describe('keys and themes', () => {
  it('no two bindings of a layer share a key, and every binding is documented', () => {
    expect(keyConflicts()).toEqual([]);
    for (const b of BINDINGS) expect(b.description.length, b.command).toBeGreaterThan(4);
  });

  it('resolves a key through the layers, topmost first; an unavailable command does not swallow the key', () => {
    expect(resolveKey(['help', 'session', 'global'], { input: '?' })).toBe('help.close');
    expect(resolveKey(['session', 'global'], { input: '?' })).toBe('help.open');
    expect(resolveKey(['session', 'global'], { input: 'r' }, (c) => c !== 'session.retry')).toBeNull();
    expect(resolveKey(['session', 'global'], { input: '', return: true }, (c) => c !== 'session.continue')).toBe('session.confirm');
    expect(resolveKey(['session', 'global'], { input: '', return: true }, (c) => c !== 'session.confirm')).toBe('session.continue');
    expect(resolveKey(['session', 'global'], { input: '', return: true }, (c) => c === 'session.retry')).toBeNull();
    // Enter typed before raw mode is on arrives as a line feed.
    expect(resolveKey(['home', 'global'], { input: '\n' })).toBe('home.open');
    // Backspace arrives from most terminals as DEL, which Ink 6 reports as `delete`.
    expect(resolveKey(['prompt'], { input: '', delete: true })).toBe('prompt.erase');
    expect(resolveKey(['session', 'global'], { input: 'c', ctrl: true })).toBe('quit');
  });

  it('splits a text run Ink hands over as one input into the keys it is, read as Ink reads a lone one', () => {
    const one = (input: string) => ({ input });
    expect(keyPresses('jjjj', one('jjjj')).map((k) => k.input)).toEqual(['j', 'j', 'j', 'j']);
    expect(keyPresses('a\rB\t\u007f\u0003', one('a\rB\t\u007f\u0003'))).toEqual([
      { input: 'a', shift: false },
      { input: '\r', return: true },
      { input: 'B', shift: true },
      { input: '\t', tab: true },
      { input: '', delete: true },
      { input: 'c', ctrl: true },
    ]);
    // One key, or an escape sequence Ink already parsed (its input is not the raw text): as given.
    expect(keyPresses('j', one('j'))).toEqual([one('j')]);
    expect(keyPresses('\u001b[6~', { input: '', pageDown: true })).toEqual([{ input: '', pageDown: true }]);
    expect(keyPresses('\u001b[I', one('[I'))).toEqual([one('[I')]);
  });

  it('NO_COLOR (any non-empty value) and TERM=dumb give the colourless theme; glyphs carry the meaning', () => {
    expect(themeFor({ NO_COLOR: '1' })).toBe(noColorTheme);
    expect(themeFor({ NO_COLOR: '' })).toBe(colorTheme);
    expect(themeFor({ TERM: 'dumb' })).toBe(noColorTheme);
    expect(noColorTheme.status('failed')).toBeUndefined();
    expect(colorTheme.status('failed')).toBe('red');
  });
});

import { render } from 'ink-testing-library';
import { renderToString } from 'ink';
import { stripVTControlCharacters } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { closeStores } from '../../src/cli/open-stores.js';
import { Workspace } from '../../src/cli/setup.js';
import { workspaceServices } from '../../src/cli/tui.js';
import type { AuditEvent } from '../../src/core/events.js';
import { reduceAll } from '../../src/core/reducer.js';
import type { LiveSession } from '../../src/engine/live.js';
import { anchorsWritten } from '../../src/engine/pending-anchors.js';
import { App } from '../../src/tui/App.js';
import { Header } from '../../src/tui/components/Header.js';
import { colorTheme, noColorTheme, ThemeContext } from '../../src/tui/theme.js';
import { tempRepo } from '../helpers/cli.js';
import { frame, KEY, press, waitFor, type Rendered } from '../helpers/ink.js';

// Colours as a colour terminal gets them (chalk reads FORCE_COLOR when it loads, before the imports below run).
vi.hoisted(() => {
  process.env.FORCE_COLOR = '1';
});

// The recovery clock in the session screen's header, over the real engine and audit log, on the context's clock
// (injected: the test moves it to 75% and past the objective instead of waiting 15 minutes).

const ROLLBACK = `id: timed-rollback
title: Timed rollback
objective: {recovery: 15m, name: code rollback}
steps:
  - id: verify
    title: Verify the rollback
    kind: confirm
    prompt: Is the previous version serving?
`;

const T0 = Date.UTC(2026, 11, 6, 14, 0, 0);
let t = T0;
let repo: ReturnType<typeof tempRepo>;
let app: Rendered | null = null;
let sessions: LiveSession[] = [];

beforeEach(() => {
  process.env.COCKPIT_OPERATOR = 'alice';
  repo = tempRepo({ 'timed-rollback': ROLLBACK });
  sessions = [];
  t = T0;
});

afterEach(async () => {
  for (const s of sessions) await s.stop();
  app?.unmount();
  app = null;
  await anchorsWritten(); // the audit anchors are written in the background: before the repository goes
  await closeStores();
  repo.cleanup();
});

async function recorded(): Promise<AuditEvent[]> {
  const store = await new Workspace({ repo: repo.dir }).openStore();
  const [s] = await store.listSessions(1);
  return store.readEvents(s.id);
}

/** The header's second line (the clock is its first part). */
const clockLine = (f: string) => f.split('\n')[1] ?? '';

describe('the recovery clock in the header', () => {
  it('counts against the objective, says "only … left" from 75% and "over by" past 100%, and the verdict once finished', async () => {
    const ws = new Workspace({ repo: repo.dir });
    const services = workspaceServices(ws, (s) => sessions.push(s), { clock: { now: () => t } });
    const [entry] = (await services.home()).checklists.filter((c) => c.id === 'timed-rollback');
    app = render(<App services={services} initial={{ name: 'form', checklist: entry }} theme={noColorTheme} onExit={() => undefined} />);
    await waitFor(app, 'FORM');
    await press(app, KEY.enter);
    let f = await waitFor(app, 'Is the previous version serving?');
    expect(clockLine(f)).toMatch(/^recovery 0s \/ 15m \(15m left\) · /);

    t = T0 + 674_000; // 74.9%
    f = await waitFor(app, 'recovery 11m14s');
    expect(clockLine(f)).toMatch(/^recovery 11m14s \/ 15m \(3m46s left\)/);
    t = T0 + 675_000; // 75%
    f = await waitFor(app, 'recovery 11m15s');
    expect(clockLine(f)).toMatch(/^recovery 11m15s \/ 15m \(only 3m45s left\)/);
    t = T0 + 899_000; // 14:59
    f = await waitFor(app, 'recovery 14m59s');
    expect(clockLine(f)).toMatch(/^recovery 14m59s \/ 15m \(only 1s left\)/);
    t = T0 + 901_000; // 15:01
    f = await waitFor(app, 'recovery 15m1s');
    expect(clockLine(f)).toMatch(/^recovery 15m1s \/ 15m \(over by 1s\)/);

    await press(app, KEY.enter);
    f = await waitFor(app, 'recovered in');
    expect(clockLine(f)).toMatch(/^recovered in 15m1s \(objective 15m: missed\)/);
    // It stays there: the clock stopped with the session.
    t = T0 + 3_600_000;
    await new Promise((r) => setTimeout(r, 1200));
    expect(clockLine(frame(app))).toMatch(/^recovered in 15m1s \(objective 15m: missed\)/);
    // The audit log holds the start, the objective and why; the finished event the time the session ended.
    const events = await recorded();
    expect(events[0].data).toMatchObject({ recovery: { objective: '15m', since: T0, from: 'session' } });
  });

  it('is coloured amber from 75% and red past the objective (the words say the same without colour), and replays as of the moment shown', async () => {
    const ws = new Workspace({ repo: repo.dir });
    const services = workspaceServices(ws, (s) => sessions.push(s), { clock: { now: () => t } });
    const [entry] = (await services.home()).checklists.filter((c) => c.id === 'timed-rollback');
    app = render(<App services={services} initial={{ name: 'form', checklist: entry }} theme={noColorTheme} onExit={() => undefined} />);
    await waitFor(app, 'FORM');
    await press(app, KEY.enter);
    await waitFor(app, 'Is the previous version serving?');
    t = T0 + 300_000;
    await press(app, KEY.enter);
    await waitFor(app, 'recovered in');
    const events = await recorded();
    const running = reduceAll(events.filter((e) => e.type !== 'session.finished'))!;
    const finished = reduceAll(events)!;

    const draw = (
      state = running,
      now = T0,
      theme = colorTheme,
      replay?: { speed: string; playing: boolean; pos: number; length: number },
    ) => {
      const raw = renderToString(
        <ThemeContext.Provider value={theme}>
          <Header state={state} phase="asking" width={100} now={now} replay={replay} />
        </ThemeContext.Provider>,
        { columns: 100 },
      );
      return { raw, line: stripVTControlCharacters(raw).split('\n')[1] };
    };
    // The clock's own colour: the escape code that opens just before its text.
    const colourOf = (raw: string) => {
      const codes = /((?:\u001b\[\d+m)+)recover/.exec(raw)?.[1] ?? '';
      return [...codes.matchAll(/\[(\d+)m/g)].map((m) => m[1]).find((c) => /^3\d$/.test(c));
    };
    const ok = draw(running, T0 + 674_000);
    const amber = draw(running, T0 + 675_000);
    const red = draw(running, T0 + 900_000);
    expect(ok.line).toMatch(/^recovery 11m14s \/ 15m \(3m46s left\)/);
    expect(amber.line).toMatch(/^recovery 11m15s \/ 15m \(only 3m45s left\)/);
    expect(red.line).toMatch(/^recovery 15m \/ 15m \(over by 0s\)/);
    expect(colourOf(amber.raw)).toBe('33'); // yellow
    expect(colourOf(red.raw)).toBe('31'); // red
    expect(colourOf(ok.raw)).not.toMatch(/^3[13]$/);
    expect(colourOf(draw(finished, T0 + 3_600_000).raw)).toBe('32'); // met: green
    expect(draw(finished, T0 + 3_600_000).line).toMatch(/^recovered in 5m \(objective 15m: met\)/);
    // Without colour the words are the same.
    expect(draw(running, T0 + 675_000, noColorTheme).line).toBe(amber.line);
    expect(draw(running, T0 + 675_000, noColorTheme).raw).not.toMatch(/\u001b\[3\dm/);
    // A replay shows the clock at the replayed moment (its last event), whatever the time now.
    const replayed = draw(running, T0 + 99 * 3_600_000, colorTheme, { speed: '1x', playing: false, pos: 3, length: 5 });
    // (the running state's last event is the confirmation, 5 minutes in).
    expect(replayed.line).toMatch(/^recovery 5m \/ 15m \(10m left\) · 2026-12-06 14:05:00 UTC \(event 3\/5\)/);
    // Narrow terminals: the clock comes first and the line still fits.
    const narrow = renderToString(
      <ThemeContext.Provider value={noColorTheme}>
        <Header state={running} phase="asking" width={40} now={T0 + 675_000} />
      </ThemeContext.Provider>,
      { columns: 40 },
    );
    const line = stripVTControlCharacters(narrow).split('\n')[1];
    expect(line.startsWith('recovery 11m15s / 15m (only 3m45s left)')).toBe(true);
    expect(line.length).toBeLessThanOrEqual(40);
  });
});

import { renderToString } from 'ink';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { EventDataMap, EventType, PlanNode, StoredEvent } from '../../src/core/events.js';
import { objectiveFor, readMitigation, readRecovery, recoveryStart, recoveryText } from '../../src/core/recovery.js';
import { reduceAll } from '../../src/core/reducer.js';
import { renderJson, renderMarkdown, renderText } from '../../src/report/timeline.js';
import { Header } from '../../src/tui/components/Header.js';
import { noColorTheme, ThemeContext } from '../../src/tui/theme.js';
import { planNode, startedData } from '../helpers/plan.js';

// "Mitigated after 2m10s" beside "recovered in 6m12s": the moment a rollback session had traffic back on a healthy
// version (its smoke step passing after its rollback step), from the recorded steps, in audit show (text, Markdown,
// JSON) and in replay's header.

const T0 = Date.UTC(2026, 11, 6, 14, 0, 0);
const S = 1000;
const code = objectiveFor({ recovery: '15m', name: 'code rollback' }, {})!;

const plan: PlanNode[] = [
  planNode('criteria', 'confirm'),
  planNode('smoke-before', 'smoke'),
  planNode('roll-back', 'rollback'),
  planNode('smoke-live', 'smoke'),
  planNode('notify', 'confirm'),
];

/** A rollback session: its steps pass at these seconds after the start; it finishes at `end` seconds (if given). */
function session(passes: Array<[string, number]>, end?: number): StoredEvent[] {
  let seq = 0;
  const ev = <T extends EventType>(type: T, data: EventDataMap[T], time: number, stepId: string | null = null) =>
    ({ sessionId: 'r1', seq: ++seq, time, type, stepId, actor: 'alice', data, prevHash: 'p', hash: `h${seq}` }) as StoredEvent;
  const events = [ev('session.started', startedData('rollback-code', plan, { recovery: recoveryStart(code, T0, null) }), T0)];
  for (const [step, at] of passes)
    events.push(ev('step.started', { attempt: 1 }, T0 + at * S - S, step), ev('step.passed', { via: 'command' }, T0 + at * S, step));
  if (end !== undefined) events.push(ev('session.finished', { outcome: 'succeeded', recoveredMs: end * S }, T0 + end * S));
  return events;
}

const full = () =>
  session(
    [
      ['criteria', 20],
      ['smoke-before', 30],
      ['roll-back', 100],
      ['smoke-live', 130],
      ['notify', 372],
    ],
    372,
  );

describe('the mitigation of a recovery session', () => {
  it('is the first smoke step that passed after the rollback step passed (a smoke before it does not count)', () => {
    const state = reduceAll(full())!;
    expect(readMitigation(state, T0)).toEqual({ at: T0 + 130 * S, afterMs: 130 * S, step: 'smoke-live', after: 'roll-back' });
    // No smoke after the rollback yet, or no rollback at all: not mitigated.
    expect(
      readMitigation(
        reduceAll(
          session([
            ['smoke-before', 30],
            ['roll-back', 100],
          ]),
        )!,
        T0,
      ),
    ).toBeNull();
    expect(
      readMitigation(
        reduceAll(
          session([
            ['smoke-before', 30],
            ['notify', 40],
          ]),
        )!,
        T0,
      ),
    ).toBeNull();
    // A switch back is a way back too; a step of another kind is not.
    const back = reduceAll(
      session([
        ['roll-back', 50],
        ['smoke-live', 60],
      ]),
    )!;
    const as = (kind: string) => ({ ...back, plan: back.plan.map((n) => (n.path === 'roll-back' ? { ...n, kind } : n)) });
    expect(readMitigation(as('switch'), T0)).toMatchObject({ afterMs: 60 * S, after: 'roll-back' });
    expect(readMitigation(as('confirm'), T0)).toBeNull();
    // rollback-code's own step (a confirmation today) by its id.
    const trigger = {
      ...back,
      plan: back.plan.map((n) => (n.path === 'roll-back' ? { ...n, kind: 'confirm', id: 'trigger-rollback' } : n)),
    };
    expect(readMitigation(trigger, T0)).toMatchObject({ afterMs: 60 * S, step: 'smoke-live' });
  });

  it('is said beside the clock: "recovered in 6m12s (objective 15m: met), mitigated after 2m10s"', () => {
    const r = readRecovery(reduceAll(full())!, T0 + 3_600_000)!;
    expect(recoveryText(r)).toBe('recovered in 6m12s (objective 15m: met), mitigated after 2m10s');
    // While it runs, from the moment it was mitigated.
    const running = reduceAll(full().filter((e) => e.type !== 'session.finished' && !(e.stepId === 'notify' && e.type === 'step.passed')))!;
    expect(recoveryText(readRecovery(running, T0 + 200 * S)!)).toBe('recovery 3m20s / 15m (11m40s left), mitigated after 2m10s');
    expect(recoveryText(readRecovery(reduceAll(full().slice(0, 7))!, T0 + 110 * S)!)).toBe('recovery 1m50s / 15m (13m10s left)');
  });

  it('audit show says it in text, Markdown and JSON', () => {
    const events = full();
    const text = renderText(events);
    expect(text).toContain('Recovery:    recovered in 6m12s (objective 15m: met), mitigated after 2m10s');
    expect(text).toMatch(
      /Mitigated: +2026-12-06 14:02:10(\.000)?Z, 2m10s after the clock's start: step smoke-live passed after roll-back \(traffic back on a healthy version\)/,
    );
    expect(renderMarkdown(events)).toContain('| Recovery | recovered in 6m12s (objective 15m: met), mitigated after 2m10s |');
    const json = JSON.parse(renderJson(events));
    expect(json.session.recovery.mitigated).toEqual({ at: T0 + 130 * S, afterMs: 130 * S, step: 'smoke-live', after: 'roll-back' });
    expect(json.session.recovery.text).toBe('recovered in 6m12s (objective 15m: met), mitigated after 2m10s');
  });

  it("replay's header says it once the replay reaches the smoke step", () => {
    const line = (n: number) => {
      const events = full().slice(0, n);
      const raw = renderToString(
        <ThemeContext.Provider value={noColorTheme}>
          <Header
            state={reduceAll(events)!}
            phase="running"
            width={120}
            now={T0 + 99 * 3_600_000}
            replay={{ speed: '1x', playing: false, pos: n, length: full().length }}
          />
        </ThemeContext.Provider>,
        { columns: 120 },
      );
      return stripVTControlCharacters(raw).split('\n')[1];
    };
    expect(line(7)).toMatch(/^recovery 1m40s \/ 15m \(13m20s left\) · /);
    expect(line(9)).toMatch(/^recovery 2m10s \/ 15m \(12m50s left\), mitigated after 2m10s · /);
    expect(line(12)).toMatch(/^recovered in 6m12s \(objective 15m: met\), mitigated after 2m10s · /);
  });
});

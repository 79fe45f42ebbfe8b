import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { steadyNow } from '../../src/adapters/clock.js';
import type { AuditEvent, EventDataMap, EventType } from '../../src/core/events.js';
import {
  adviceBreach,
  clockText,
  objectiveFor,
  readRecovery,
  recoveryLevel,
  recoveryStart,
  recoveryText,
  type RecoveryStart,
} from '../../src/core/recovery.js';
import { reduceAll } from '../../src/core/reducer.js';
import { parseChecklist } from '../../src/core/checklist/load.js';
import { formatDiagnostic } from '../../src/core/checklist/types.js';
import { STEP_KINDS } from '../../src/steps/index.js';
import { planNode, startedData } from '../helpers/plan.js';
import { ROOT } from '../helpers/cli.js';

// The recovery clock as pure functions: which start, which level at which moment, which verdict at the end, and the
// same reading from the same recorded events however often they are read (a restart reads them again).

const T0 = Date.UTC(2026, 11, 6, 14, 0, 0);
const MIN = 60_000;
const code = objectiveFor({ recovery: '15m', name: 'code rollback' }, {})!;

function clock(since = T0): RecoveryStart {
  return recoveryStart(code, since, null);
}

describe('the objective', () => {
  it("comes from the checklist: rollback-code's 15m, rollback-db's 30m for a downgrade and 2h for a restore", () => {
    const load = (id: string) => parse(readFileSync(path.join(ROOT, 'checklists', `${id}.yaml`), 'utf8'));
    expect(objectiveFor(load('rollback-code').objective, { version: '2.3.0' })?.objectiveMs).toBe(15 * MIN);
    const db = load('rollback-db').objective;
    expect(objectiveFor(db, { strategy: 'downgrade' })).toMatchObject({ objectiveMs: 30 * MIN, name: 'simple database rollback' });
    expect(objectiveFor(db, { strategy: 'restore' })).toMatchObject({ objectiveMs: 120 * MIN, name: 'full database restore' });
    expect(objectiveFor(undefined, {})).toBeNull();
    expect(objectiveFor(db, { strategy: 'other' })).toBeNull();
  });
});

describe('the objective as a checklist writes it', () => {
  const parse = (...lines: string[]) => {
    const text = [
      'id: a',
      'title: A',
      'params:',
      '  strategy: {type: enum, choices: [fast, slow]}',
      ...lines,
      'steps:',
      '  - {id: s, title: S, kind: confirm}',
      '',
    ].join('\n');
    return parseChecklist({ id: 'a', file: 'a.yaml', text }, STEP_KINDS);
  };

  it('is read, one or one per parameter value', () => {
    expect(parse('objective: {recovery: 15m}').parsed?.checklist.objective).toEqual({ recovery: '15m' });
    const per = parse('objective:', '  - {recovery: 30m, when: {strategy: fast}}', '  - {recovery: 2h, when: {strategy: slow}}').parsed!;
    expect(objectiveFor(per.checklist.objective, { strategy: 'slow' })?.objectiveMs).toBe(7_200_000);
  });

  it('is refused at file:line:column: not a duration, an unknown field, a when on an unknown parameter', () => {
    expect(parse('objective: {recovery: soon}').diagnostics.map(formatDiagnostic)).toEqual([
      'a.yaml:5:23: objective.recovery: expected a duration like 30s, 5m, 2h or 1h30m',
    ]);
    expect(parse('objective: {recovery: 15m, budget: 1}').diagnostics.map(formatDiagnostic).join('\n')).toMatch(/^a\.yaml:5:\d+: .*budget/);
    expect(parse('objective:', '  - {recovery: 30m, when: {strategi: fast}}').diagnostics.map(formatDiagnostic)).toEqual([
      "a.yaml:6:28: objective: when refers to unknown parameter 'strategi'",
    ]);
  });
});

describe('where the clock starts', () => {
  const breach = { session: 'w1', rule: 'payment-failures', t: T0 - 4 * MIN, reason: '1.8% > 1%' };

  it('at the breach that advised the rollback, saying which and why', () => {
    const s = recoveryStart(code, T0, breach, 'w1');
    expect(s).toMatchObject({ since: T0 - 4 * MIN, from: 'breach', breach });
    expect(s.reason).toContain("breach of 'payment-failures' in the watch of session w1 at 2026-12-06 13:56:00 UTC");
  });

  it("at the session's start without a breach, or when the breach is recorded after it (clocks apart)", () => {
    expect(recoveryStart(code, T0, null)).toMatchObject({ since: T0, from: 'session' });
    expect(recoveryStart(code, T0, null, 'w1').reason).toContain('the watch of session w1 recorded no breach that advised a rollback');
    const later = recoveryStart(code, T0, { ...breach, t: T0 + 5000 }, 'w1');
    expect(later).toMatchObject({ since: T0, from: 'session' });
    expect(later.reason).toContain('recorded after this session');
  });

  it('the breach of the episode still open: a rule that recovered and breached again counts from its new breach', () => {
    let seq = 0;
    const ev = <T extends EventType>(type: T, data: EventDataMap[T]): AuditEvent =>
      ({ sessionId: 'w1', seq: ++seq, time: T0, type, stepId: 'watch', actor: 'cockpit', data }) as AuditEvent;
    const b = (rule: string, t: number, advice: 'alert' | 'rollback' = 'rollback') =>
      ev('watch.breach', { rule, t, reason: 'over', advice, policy: '' });
    const events = [
      b('latency', T0 - 30 * MIN, 'alert'),
      b('errors', T0 - 20 * MIN),
      ev('watch.recovery', { rule: 'errors', t: T0 - 18 * MIN, reason: 'back' }),
      b('payments', T0 - 10 * MIN),
      b('errors', T0 - 5 * MIN),
      b('payments', T0 - 3 * MIN), // the same episode: its first breach counts
    ];
    expect(adviceBreach('w1', events)).toMatchObject({ rule: 'payments', t: T0 - 10 * MIN });
    // Everything recovered: the latest breach that advised it.
    expect(
      adviceBreach('w1', [
        ...events,
        ev('watch.recovery', { rule: 'payments', t: T0, reason: '' }),
        ev('watch.recovery', { rule: 'errors', t: T0, reason: '' }),
      ]),
    ).toMatchObject({ rule: 'payments', t: T0 - 3 * MIN });
    // Only alerts: no breach advised a rollback.
    expect(adviceBreach('w1', [b('latency', T0, 'alert')])).toBeNull();
  });
});

describe('the level while it runs', () => {
  it('ok below 75%, amber from 75%, red from 100% of the objective', () => {
    const o = 15 * MIN;
    expect(recoveryLevel(0.749 * o, o)).toBe('ok');
    expect(recoveryLevel(0.75 * o - 1, o)).toBe('ok');
    expect(recoveryLevel(0.75 * o, o)).toBe('amber');
    expect(recoveryLevel(o - 1, o)).toBe('amber');
    expect(recoveryLevel(o, o)).toBe('red');
    // On a clock that is not a multiple of 4 the boundary is exact too: 75% of 7s is 5.25s.
    expect(recoveryLevel(5249, 7000)).toBe('ok');
    expect(recoveryLevel(5250, 7000)).toBe('amber');
  });

  it('reads the time left, and over by how much', () => {
    const at = (ms: number) => recoveryText(readRecovery({ recovery: clock() }, T0 + ms)!);
    expect(at(6 * MIN + 12_000)).toBe('recovery 6m12s / 15m (8m48s left)');
    expect(at(11 * MIN + 15_000)).toBe('recovery 11m15s / 15m (only 3m45s left)');
    expect(at(15 * MIN + 1000)).toBe('recovery 15m1s / 15m (over by 1s)');
  });
});

describe('the verdict at the end', () => {
  const ended = (ms: number, outcome = 'succeeded', recoveredMs?: number) =>
    recoveryText(
      readRecovery({ recovery: clock(), outcome, endedAt: T0 + ms, ...(recoveredMs !== undefined ? { recoveredMs } : {}) }, T0 + 99 * MIN)!,
    );

  it('14:59 is met, 15:01 is missed; 14:59.9 is not rounded up to 15m', () => {
    expect(ended(14 * MIN + 59_000)).toBe('recovered in 14m59s (objective 15m: met)');
    expect(ended(14 * MIN + 59_900)).toBe('recovered in 14m59s (objective 15m: met)');
    expect(ended(15 * MIN + 1000)).toBe('recovered in 15m1s (objective 15m: missed)');
    expect(ended(6 * MIN + 12_000)).toBe('recovered in 6m12s (objective 15m: met)');
  });

  it('aborted is not recovered, however fast', () => {
    expect(ended(2 * MIN, 'aborted')).toBe('not recovered: aborted after 2m (objective 15m: missed)');
  });

  it('the duration the finishing process measured on its monotonic clock wins over recorded wall times', () => {
    // The wall clock was set forward an hour during the rollback: its times say 1h5m, the monotonic clock 5m.
    expect(ended(65 * MIN, 'succeeded', 5 * MIN)).toBe('recovered in 5m (objective 15m: met)');
  });

  it('writes durations whole seconds down', () => {
    expect([0, 999, 59_999, 60_000, 3_600_000, 3_612_000, 7_200_000, 5_400_000].map(clockText)).toEqual([
      '0s',
      '0s',
      '59s',
      '1m',
      '1h',
      '1h0m12s',
      '2h',
      '1h30m',
    ]);
  });
});

describe('from recorded events', () => {
  it('a restart reads the same clock: the start and objective are in session.started, the end in session.finished', () => {
    const recovery = recoveryStart(code, T0, { session: 'w1', rule: 'errors', t: T0 - 2 * MIN, reason: 'x' }, 'w1');
    let seq = 0;
    const ev = <T extends EventType>(type: T, data: EventDataMap[T], time: number, stepId: string | null = null): AuditEvent =>
      ({ sessionId: 'r1', seq: ++seq, time, type, stepId, actor: 'alice', data }) as AuditEvent;
    const started = ev('session.started', startedData('rollback-code', [planNode('a', 'confirm')], { recovery }), T0);
    const events = [started, ev('session.paused', { reason: 'interrupted', message: 'killed' }, T0 + MIN)];
    const now = T0 + 10 * MIN;
    const first = readRecovery(reduceAll(events)!, now)!;
    const again = readRecovery(reduceAll(events)!, now)!;
    expect(first).toEqual(again);
    expect(recoveryText(first)).toBe('recovery 12m / 15m (only 3m left)');
    const done = [
      ...events,
      ev('session.resumed', { operator: 'bob', host: 'h2', pid: 2 }, T0 + 11 * MIN),
      ev('session.finished', { outcome: 'succeeded' }, T0 + 12 * MIN),
    ];
    expect(recoveryText(readRecovery(reduceAll(done)!, now + 99 * MIN)!)).toBe('recovered in 14m (objective 15m: met)');
  });

  it('the live "now" moves with the monotonic clock, not with the wall clock being set', () => {
    let wall = T0;
    let mono = 500;
    const now = steadyNow({ now: () => wall, monotonic: () => mono });
    wall -= 3_600_000; // the system's time set back an hour
    mono += 7000;
    expect(now()).toBe(T0 + 7000);
    // A clock without a monotonic reading is read as it is.
    expect(steadyNow({ now: () => wall })()).toBe(wall);
  });
});

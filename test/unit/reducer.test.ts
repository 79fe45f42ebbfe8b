import { planNode } from '../helpers/plan.js';
import { describe, expect, it } from 'vitest';
import type { AuditEvent, EventDataMap, EventType } from '../../src/core/events.js';
import { groupStatus, nextStep, progress, reduce, reduceAll, TAIL_LINES, type SessionState } from '../../src/core/reducer.js';

const node = planNode;

const PLAN = [node('a'), node('inc', 'checklist'), node('inc/b'), node('inc/c', 'confirm'), node('d')];

let seq = 0;
function ev<T extends EventType>(type: T, stepId: string | null, data: EventDataMap[T], time = 1000 + seq): AuditEvent<T> {
  seq++;
  return { sessionId: 's1', seq, time, type, stepId, actor: 'alice', data };
}

function started(): AuditEvent<'session.started'> {
  seq = 0;
  return ev('session.started', null, {
    checklist: { id: 'x', title: 'X', sha256: 'abc' },
    origin: { file: 'x', byId: true },
    params: { version: '1.2.3' },
    environment: null,
    operator: 'alice',
    host: 'h',
    pid: 1,
    mode: 'non-interactive',
    version: '0.0.0',
    plan: PLAN,
    scopes: { '': { checklist: 'x', params: { version: '1.2.3' } }, inc: { checklist: 'y', params: {} } },
  });
}

function run(events: AuditEvent[]): SessionState {
  return reduceAll(events)!;
}

const status = (s: SessionState) => Object.fromEntries(s.steps.map((x) => [x.path, x.status]));

describe('reduce', () => {
  it('refuses a stream that does not begin with session.started', () => {
    expect(() =>
      reduce(null, { sessionId: 's', seq: 1, time: 0, type: 'step.started', stepId: 'a', actor: 'x', data: { attempt: 1 } }),
    ).toThrow(/first event/);
  });

  it('a step started with the re-run question waits for the answer (its question the reason); the yes makes it run', () => {
    const q = "'A' was interrupted while it ran: it may already have had its effect. Run it again?";
    const base = [
      started(),
      ev('step.started', 'a', { attempt: 1 }),
      ev('step.interrupted', 'a', { reason: 'the cockpit stopped' }),
      ev('step.started', 'a', { attempt: 2, asks: q }),
    ];
    const asking = run(base);
    expect(asking.steps[asking.index.a]).toMatchObject({ status: 'waiting', reason: q, attempts: 2 });
    expect(asking.status).toBe('waiting');
    expect(asking.current).toBe('a');
    const yes = run([...base, ev('step.confirmed', 'a', { by: 'alice', via: 'prompt', note: 'run again after an interruption' })]);
    expect(yes.steps[yes.index.a]).toMatchObject({ status: 'running', confirmedBy: 'alice' });
    expect(yes.steps[yes.index.a].reason).toBeUndefined();
    expect(yes.status).toBe('running');
    // A confirm step's own confirmation (it is running while it asks) changes nothing but who confirmed.
    const c = run([started(), ev('step.started', 'inc/c', { attempt: 1 }), ev('step.confirmed', 'inc/c', { by: 'bob', via: 'prompt' })]);
    expect(c.steps[c.index['inc/c']]).toMatchObject({ status: 'running', confirmedBy: 'bob' });
  });

  it('walks a step through started → output → passed, and nextStep moves on', () => {
    const s0 = run([started()]);
    expect(nextStep(s0)?.path).toBe('a');
    expect(s0.status).toBe('running');
    const s = run([
      started(),
      ev('step.started', 'a', { attempt: 1 }, 2000),
      ev('step.output', 'a', { stream: 'stdout', text: 'one\ntw' }),
      ev('step.output', 'a', { stream: 'stdout', text: 'o\nthree' }),
      ev('step.passed', 'a', { exitCode: 0, durationMs: 50 }, 2050),
    ]);
    const a = s.steps[s.index.a];
    expect(a).toMatchObject({ status: 'passed', attempts: 1, exitCode: 0, durationMs: 50, startedAt: 2000, endedAt: 2050 });
    expect(a.output.tail).toEqual(['one', 'two']);
    expect(a.output.partial).toBe('three');
    expect(a.output.lines).toBe(2);
    expect(s.current).toBeNull();
    // the include itself is not a step to run: the next leaf inside it is
    expect(nextStep(s)?.path).toBe('inc/b');
  });

  it('keeps only the last TAIL_LINES lines of output in state, however much arrives', () => {
    const events: AuditEvent[] = [started(), ev('step.started', 'a', { attempt: 1 })];
    for (let i = 0; i < 50; i++) {
      events.push(
        ev('step.output', 'a', { stream: 'stdout', text: Array.from({ length: 100 }, (_, j) => `line ${i * 100 + j}`).join('\n') + '\n' }),
      );
    }
    const s = run(events);
    const out = s.steps[s.index.a].output;
    expect(out.lines).toBe(5000);
    expect(out.tail).toHaveLength(TAIL_LINES);
    expect(out.tail.at(-1)).toBe('line 4999');
    expect(out.tail[0]).toBe(`line ${5000 - TAIL_LINES}`);
  });

  it('a failure records exit code and reason; the session shows failed and resumes at the failed step', () => {
    const s = run([
      started(),
      ev('step.started', 'a', { attempt: 1 }),
      ev('step.failed', 'a', { exitCode: 3, reason: 'exited with code 3', durationMs: 5 }),
      ev('session.paused', 'a', { reason: 'step-failed', message: 'a failed' }),
    ]);
    expect(s.status).toBe('failed');
    expect(s.steps[0]).toMatchObject({ status: 'failed', exitCode: 3, reason: 'exited with code 3' });
    expect(nextStep(s)?.path).toBe('a');
    expect(progress(s)).toEqual({ done: 0, total: 4, failed: 1 });
    // a retry starts a fresh attempt with empty output
    const s2 = reduce(s, ev('step.started', 'a', { attempt: 2 }));
    expect(s2.steps[0]).toMatchObject({ status: 'running', attempts: 2 });
    expect(s2.steps[0].exitCode).toBeUndefined();
    expect(s2.status).toBe('running');
  });

  it('skipping an include skips everything inside it, with the reason', () => {
    const s = run([
      started(),
      ev('step.started', 'a', { attempt: 1 }),
      ev('step.passed', 'a', {}),
      ev('step.skipped', 'inc', { reason: 'when: env is "staging"', by: 'condition' }),
    ]);
    expect(status(s)).toEqual({ a: 'passed', inc: 'skipped', 'inc/b': 'skipped', 'inc/c': 'skipped', d: 'pending' });
    expect(s.steps[s.index['inc/b']].reason).toBe(`inside skipped 'inc': when: env is "staging"`);
    expect(nextStep(s)?.path).toBe('d');
    expect(groupStatus(s, 'inc')).toBe('skipped');
  });

  it('an include shows the status of what is inside it', () => {
    let s = run([started(), ev('step.started', 'a', { attempt: 1 }), ev('step.passed', 'a', {})]);
    expect(groupStatus(s, 'inc')).toBe('pending');
    s = reduce(s, ev('step.started', 'inc/b', { attempt: 1 }));
    expect(groupStatus(s, 'inc')).toBe('running');
    s = reduce(s, ev('step.passed', 'inc/b', {}));
    expect(groupStatus(s, 'inc')).toBe('running');
    s = reduce(s, ev('step.started', 'inc/c', { attempt: 1 }));
    s = reduce(s, ev('session.paused', 'inc/c', { reason: 'confirmation-required', message: 'needs confirmation' }));
    expect(groupStatus(s, 'inc')).toBe('waiting');
    expect(s.status).toBe('waiting');
    expect(s.steps[s.index['inc/c']].status).toBe('waiting');
    s = reduce(s, ev('session.resumed', null, { operator: 'bob', host: 'h2', pid: 2 }));
    expect(s.status).toBe('running');
    expect(s.operator).toBe('bob');
    s = reduce(s, ev('step.started', 'inc/c', { attempt: 2 }));
    s = reduce(s, ev('step.confirmed', 'inc/c', { by: 'bob', via: 'flag' }));
    s = reduce(s, ev('step.passed', 'inc/c', { via: 'confirmation' }));
    expect(groupStatus(s, 'inc')).toBe('passed');
    expect(s.steps[s.index['inc/c']]).toMatchObject({ confirmedBy: 'bob', confirmedVia: 'flag' });
  });

  it('a crash leaves the running step current; resume marks it interrupted and it is next again', () => {
    let s = run([
      started(),
      ev('step.started', 'a', { attempt: 1 }),
      ev('step.spawned', 'a', { pid: 42, command: 'x', cwd: '/', startTime: 7 }),
    ]);
    expect(s.current).toBe('a');
    expect(s.steps[0]).toMatchObject({ pid: 42, pidStart: 7 });
    s = reduce(s, ev('session.resumed', null, { operator: 'alice', host: 'h', pid: 3 }));
    s = reduce(s, ev('step.interrupted', 'a', { reason: 'the cockpit stopped', stoppedPid: 42 }));
    expect(s.current).toBeNull();
    expect(s.steps[0].status).toBe('interrupted');
    expect(nextStep(s)?.path).toBe('a');
    expect(s.resumes).toEqual([{ time: expect.any(Number), operator: 'alice', forced: false }]);
  });

  it('a forced resume with a changed plan keeps the status of steps that still exist', () => {
    let s = run([started(), ev('step.started', 'a', { attempt: 1 }), ev('step.passed', 'a', {})]);
    const plan = [node('a'), node('new'), node('d')];
    s = reduce(
      s,
      ev('session.resumed', null, {
        operator: 'alice',
        host: 'h',
        pid: 3,
        forced: { oldSha256: 'abc', newSha256: 'def' },
        plan,
        scopes: { '': { checklist: 'x', params: {} } },
      }),
    );
    expect(status(s)).toEqual({ a: 'passed', new: 'pending', d: 'pending' });
    expect(s.checklist.sha256).toBe('def');
    expect(s.resumes[0].forced).toBe(true);
    expect(nextStep(s)?.path).toBe('new');
  });

  it('finishes with an outcome, records notes, and never mutates the state it was given', () => {
    const s1 = run([started()]);
    const frozen = JSON.stringify(s1);
    const s2 = reduce(s1, ev('note.added', 'a', { text: 'paged the DBA' }));
    const s3 = reduce(s2, ev('session.finished', null, { outcome: 'aborted', reason: 'operator' }, 9999));
    expect(JSON.stringify(s1)).toBe(frozen);
    expect(s2.notes).toEqual([{ time: expect.any(Number), actor: 'alice', stepId: 'a', text: 'paged the DBA' }]);
    expect(s3).toMatchObject({ status: 'aborted', outcome: 'aborted', endedAt: 9999 });
  });

  it('everything passed or skipped: no next step', () => {
    const events: AuditEvent[] = [started()];
    for (const p of ['a', 'inc/b', 'inc/c', 'd']) events.push(ev('step.started', p, { attempt: 1 }), ev('step.passed', p, {}));
    const s = run(events);
    expect(nextStep(s)).toBeNull();
    expect(progress(s)).toEqual({ done: 4, total: 4, failed: 0 });
  });
});

import { planNode } from '../helpers/plan.js';
import { describe, expect, it } from 'vitest';
import type { AuditEvent, EventDataMap, EventType, PlanNode } from '../../src/core/events.js';
import { reduce, reduceAll, reduceRange, TAIL_LINES, type SessionState } from '../../src/core/reducer.js';
import {
  advance,
  changeSpeed,
  IDLE_GAP_MS,
  Replay,
  RUN_LINE_COST,
  seek,
  SPEEDS,
  startPlayback,
  stepBy,
  timelineCells,
  type Playback,
} from '../../src/core/replay.js';

const node = planNode;

const T0 = 1_700_000_000_000;

/** Records a session: each event comes `after` ms (default 100) after the previous one. */
function recorder(plan: PlanNode[]) {
  const events: AuditEvent[] = [];
  let time = T0;
  const add = <T extends EventType>(
    type: T,
    stepId: string | null,
    data: EventDataMap[T],
    opts: { after?: number; actor?: string } = {},
  ) => {
    if (events.length) time += opts.after ?? 100;
    const e: AuditEvent<T> = { sessionId: 's1', seq: events.length + 1, time, type, stepId, actor: opts.actor ?? 'alice', data };
    events.push(e as AuditEvent); // AuditEvent<T> is one member of the union; TypeScript cannot see that for a generic T
    return events.length; // the position that shows this event
  };
  add('session.started', null, {
    checklist: { id: 'x', title: 'X', sha256: 'abc' },
    origin: { file: 'x', byId: true },
    params: {},
    environment: 'production',
    operator: 'alice',
    host: 'h',
    pid: 1,
    mode: 'interactive',
    version: '0.0.0',
    plan,
    scopes: { '': { checklist: 'x', params: {} } },
  });
  return { events, add };
}

const PLAN = [
  node('build'),
  node('inc', 'checklist'),
  node('inc/deploy'),
  node('inc/smoke'),
  node('approve', 'confirm'),
  node('docs'),
  node('optional'),
];

/** A release with a failure, a resume an hour later, a retry, an operator skip, a condition skip, a note and a confirmation. */
function story() {
  const { events, add } = recorder(PLAN);
  const at: Record<string, number> = {};
  add('step.started', 'build', { attempt: 1 });
  add('step.output', 'build', { stream: 'stdout', text: 'compiling\n' });
  at.failed = add('step.failed', 'build', { exitCode: 2, reason: 'exited with code 2', durationMs: 200 });
  add('session.paused', 'build', { reason: 'step-failed', message: 'build failed' });
  at.resumed = add('session.resumed', null, { operator: 'bob', host: 'h2', pid: 2 }, { after: 3_600_000, actor: 'bob' });
  at.retry = add('step.started', 'build', { attempt: 2 }, { actor: 'bob' });
  add('step.output', 'build', { stream: 'stdout', text: 'compiling\nok\n' });
  at.passed = add('step.passed', 'build', { exitCode: 0, durationMs: 150 });
  add('step.started', 'inc/deploy', { attempt: 1 });
  add('step.passed', 'inc/deploy', { exitCode: 0 });
  at.skip = add('step.skipped', 'inc/smoke', { reason: 'flaky;\nverified by hand', by: 'operator' }, { actor: 'bob' });
  at.note = add('note.added', 'inc/smoke', { text: 'smoke checked manually, see ticket 42' }, { actor: 'bob' });
  add('step.started', 'approve', { attempt: 1 });
  add('session.paused', 'approve', { reason: 'confirmation-required', message: 'needs confirmation' });
  at.confirmed = add('step.confirmed', 'approve', { by: 'carol', via: 'prompt' }, { after: 20_000 });
  add('step.passed', 'approve', { via: 'confirmation' });
  add('step.started', 'docs', { attempt: 1 });
  add('step.passed', 'docs', { exitCode: 0 });
  at.condition = add('step.skipped', 'optional', { reason: 'when: env is "staging"', by: 'condition' });
  at.finished = add('session.finished', null, { outcome: 'succeeded' });
  return { events, at };
}

/** A plain session: `steps` steps, each started, `lines` lines of output, passed; events `after` ms apart. */
function bigSession(steps: number, lines: number, after = 10) {
  const plan = Array.from({ length: steps }, (_, i) => node(`s${i}`));
  const { events, add } = recorder(plan);
  for (const n of plan) {
    add('step.started', n.path, { attempt: 1 }, { after });
    for (let j = 0; j < lines; j++)
      add('step.output', n.path, { stream: 'stdout', text: `${n.path} line ${j}: some output of a build tool\n` }, { after });
    add('step.passed', n.path, { exitCode: 0 }, { after });
  }
  return events;
}

const prefix = (events: AuditEvent[], pos: number): SessionState => reduceAll(events.slice(0, pos))!;

describe('Replay: state at a position', () => {
  it('refuses an empty session or one that does not begin with session.started', () => {
    expect(() => new Replay([])).toThrow(/no events/);
    const { events } = story();
    expect(() => new Replay(events.slice(1))).toThrow(/begins with step\.started.*not session\.started/);
  });

  it('gives the same state as folding the prefix, at every position, in any order, across checkpoints', () => {
    const { events } = story();
    const r = new Replay(events, { checkpointEvery: 4 });
    expect(r.length).toBe(events.length);
    expect(r.startTime).toBe(T0);
    expect(r.endTime).toBe(events.at(-1)!.time);
    // forwards, backwards and jumping about, before anything was precomputed
    const order = [1, 2, 9, 5, 4, 3, events.length, 8, 13, 12, 1, 17, 16, 15, 6, events.length - 1];
    for (const pos of order) expect(r.stateAt(pos), `pos ${pos}`).toEqual(prefix(events, pos));
    for (let pos = events.length; pos >= 1; pos--) expect(r.stateAt(pos), `pos ${pos}`).toEqual(prefix(events, pos));
    for (let pos = 1; pos <= events.length; pos++) expect(r.stateAt(pos), `pos ${pos}`).toEqual(prefix(events, pos));
  });

  it('clamps positions out of range to the start and the end', () => {
    const { events } = story();
    const r = new Replay(events);
    expect(r.stateAt(0)).toEqual(prefix(events, 1));
    expect(r.stateAt(-5).seq).toBe(1);
    expect(r.stateAt(10_000).seq).toBe(events.length);
    expect(r.stateAt(10_000).status).toBe('succeeded');
  });

  it('shows what the operator saw at each moment: the failure, the retry, the wait for confirmation', () => {
    const { events, at } = story();
    const r = new Replay(events);
    const build = (s: SessionState) => s.steps[s.index.build];
    expect(r.stateAt(at.failed).status).toBe('running');
    expect(build(r.stateAt(at.failed))).toMatchObject({ status: 'failed', reason: 'exited with code 2', attempts: 1 });
    expect(r.stateAt(at.failed + 1).status).toBe('failed');
    expect(build(r.stateAt(at.retry))).toMatchObject({ status: 'running', attempts: 2 });
    expect(build(r.stateAt(at.passed))).toMatchObject({ status: 'passed', attempts: 2 });
    expect(r.stateAt(at.confirmed - 1).status).toBe('waiting');
    // an earlier state is not disturbed by asking for later ones (copy-on-write)
    const early = r.stateAt(at.failed);
    r.stateAt(r.length);
    expect(early).toEqual(prefix(events, at.failed));
  });

  it('precompute in slices extends the checkpoints until the whole session is covered, and states stay right', () => {
    const events = bigSession(30, 40); // 1 + 30 * 42 events
    const r = new Replay(events, { checkpointEvery: 100 });
    expect(r.precompute(0)).toBe(false);
    let slices = 0;
    while (!r.precompute(250)) slices++;
    expect(slices).toBe(Math.ceil((events.length - 1) / 250) - 1);
    expect(r.precompute(250)).toBe(true);
    for (const pos of [events.length, 1, 99, 100, 101, 777, 500, 499, 1200, 2]) {
      expect(r.stateAt(pos), `pos ${pos}`).toEqual(prefix(events, pos));
    }
  });

  it('a seek far ahead before precompute finished is right and precompute carries on from there', () => {
    const events = bigSession(20, 30);
    const r = new Replay(events, { checkpointEvery: 50 });
    r.precompute(60);
    expect(r.stateAt(400)).toEqual(prefix(events, 400));
    expect(r.stateAt(120)).toEqual(prefix(events, 120));
    while (!r.precompute(37));
    expect(r.stateAt(401)).toEqual(prefix(events, 401));
    expect(r.stateAt(events.length)).toEqual(prefix(events, events.length));
  });

  it('foldCost says how much a seek would fold now, so a screen can avoid folding a long way inside a key press', () => {
    const events = bigSession(20, 30);
    const r = new Replay(events, { checkpointEvery: 50 });
    // Folding events[from..to): an output line that continues its step's run costs RUN_LINE_COST, any other event 1.
    const cost = (from: number, to: number) => {
      let c = 0;
      for (let p = from; p < to; p++) {
        const e = events[p];
        const prev = events[p - 1];
        c += e.type === 'step.output' && prev.type === 'step.output' && prev.stepId === e.stepId ? RUN_LINE_COST : 1;
      }
      return c;
    };
    expect(r.frontier).toBe(1);
    expect(r.foldCost(400)).toBe(cost(1, 400));
    expect(r.foldCost(400)).toBeLessThan(399 / 4); // mostly runs of output lines
    r.precompute(300);
    expect(r.frontier).toBe(301);
    expect(r.foldCost(400)).toBe(cost(301, 400));
    expect(r.foldCost(120)).toBe(cost(100, 120)); // from the checkpoint at 100
    r.stateAt(400);
    expect(r.foldCost(401)).toBe(cost(400, 401));
    while (!r.precompute(100));
    expect(r.frontier).toBe(events.length);
    expect(r.foldCost(events.length - 1)).toBeLessThan(50);
  });

  it('with a 100k-event session: first state at once, and after precompute the middle matches a full fold', () => {
    const events = bigSession(500, 198); // 1 + 500 * 200 = 100,001 events
    expect(events.length).toBe(100_001);
    const r = new Replay(events);
    const first = r.stateAt(1);
    expect(first.seq).toBe(1);
    expect(first.steps).toHaveLength(500);
    expect(first.steps.every((s) => s.status === 'pending')).toBe(true);
    while (!r.precompute(5000));
    const got = r.stateAt(50_000);
    const want = prefix(events, 50_000);
    expect(got.seq).toBe(want.seq);
    expect(got.steps.map((s) => s.status)).toEqual(want.steps.map((s) => s.status));
    expect(got.current).toBe(want.current);
    const i = got.index[got.current!];
    expect(got.steps[i].output.lines).toBe(want.steps[i].output.lines);
    expect(got.steps[i].output.lines).toBeGreaterThan(0);
    expect(got.steps[i].output.tail.at(-1)).toBe(want.steps[i].output.tail.at(-1));
    expect(r.stateAt(r.length).steps.every((s) => s.status === 'passed')).toBe(true);
  });
});

/**
 * A long session as real runs write it, from a seeded generator: output in chunks of any shape (several lines, a
 * line finished by the next chunk, more lines at once than the tail keeps, nothing at all, stderr between stdout),
 * notes between the lines, output of a step the plan does not have, failures with a resume, steps run again.
 */
function choppySession(length: number, seed = 7) {
  const plan = [node('build'), node('inc', 'checklist'), node('inc/deploy'), node('inc/smoke'), node('docs')];
  const { events, add } = recorder(plan);
  let x = seed;
  const rnd = (k: number) => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return (x >>> 12) % k;
  };
  const steps = ['build', 'inc/deploy', 'inc/smoke', 'docs'];
  let step = 'build';
  let line = 0;
  add('step.started', step, { attempt: 1 });
  while (events.length < length) {
    const r = rnd(100);
    if (r < 85) {
      const shape = rnd(8);
      const lines = shape === 0 ? 0 : shape === 1 ? TAIL_LINES + rnd(60) : 1 + rnd(3);
      let text = '';
      for (let k = 0; k < lines; k++) text += `${step} line ${line++}\n`;
      if (rnd(3) === 0) text += `unfinished ${line} `;
      add('step.output', step, { stream: rnd(6) === 0 ? 'stderr' : 'stdout', text });
    } else if (r < 88) add('note.added', step, { text: `note at ${events.length}` }, { actor: 'bob' });
    else if (r < 90) add('step.output', ['nope', 'constructor', null][rnd(3)], { stream: 'stdout', text: 'not a step of the plan\n' });
    else if (r < 97) {
      add('step.passed', step, { exitCode: 0, durationMs: 10 });
      step = steps[rnd(steps.length)];
      add('step.started', step, { attempt: 1 + rnd(3) });
    } else {
      add('step.failed', step, { exitCode: 1, reason: 'exited with code 1', durationMs: 10 });
      add('session.paused', step, { reason: 'step-failed', message: 'failed' });
      add('session.resumed', null, { operator: 'bob', host: 'h2', pid: 2 }, { after: 60_000, actor: 'bob' });
      add('step.started', step, { attempt: 2 });
    }
  }
  return events.slice(0, length);
}

/** The state at each of `positions`, from one fold of reduce() over the events, one event at a time. */
function statesAt(events: AuditEvent[], positions: number[]): Map<number, SessionState> {
  const want = new Set(positions);
  const out = new Map<number, SessionState>();
  let s: SessionState | null = null;
  for (let p = 1; p <= events.length; p++) {
    s = reduce(s, events[p - 1]);
    if (want.has(p)) out.set(p, s);
  }
  return out;
}

describe('Replay: cold seeks fold from checkpoints with reduceRange, exactly as reduce() one event at a time', () => {
  it('reduceRange gives the state reduce() gives, from any position to any other', () => {
    const events = choppySession(3000);
    const all = statesAt(
      events,
      events.map((_, i) => i + 1),
    );
    expect(events.filter((e) => e.type === 'step.output').length).toBeGreaterThan(2000);
    let x = 3;
    for (let k = 0; k < 300; k++) {
      x = (x * 69069 + 1) % 4294967296;
      const from = 1 + (x % events.length);
      const to = Math.min(events.length, from + ((x >>> 8) % 400));
      expect(reduceRange(all.get(from)!, events, from, to), `${from}..${to}`).toEqual(all.get(to));
    }
    expect(reduceRange(all.get(1)!, events, 1, events.length)).toEqual(all.get(events.length));
  });

  it('every position, asked in any order before and after precompute, is the state a full fold gives', () => {
    const events = choppySession(4000, 11);
    const every = 50;
    const positions = events.map((_, i) => i + 1);
    const want = statesAt(events, positions);
    const r = new Replay(events, { checkpointEvery: every });
    // checkpoint boundaries and their neighbours first, far apart, then backwards, then all of them after precompute
    const edges = [
      events.length,
      1,
      ...Array.from({ length: events.length / every }, (_, k) => (k + 1) * every).flatMap((b) => [b + 1, b, b - 1]),
    ];
    for (const pos of edges.filter((p) => p >= 1 && p <= events.length)) expect(r.stateAt(pos), `pos ${pos}`).toEqual(want.get(pos));
    for (let pos = events.length; pos >= 1; pos -= 7) expect(r.stateAt(pos), `pos ${pos}`).toEqual(want.get(pos));
    while (!r.precompute(333));
    for (const pos of positions) expect(r.stateAt(pos), `pos ${pos}`).toEqual(want.get(pos));
  });

  it('a 100k-event session: a cold seek (a fresh Replay, nothing folded yet) to the middle, the end and checkpoint edges equals the full fold', () => {
    const events = choppySession(100_000, 5);
    const r0 = new Replay(events);
    const every = r0.checkpointEvery;
    const positions = [1, 2, every - 1, every, every + 1, 50_000 - 1, 50_000, 50_000 + 1, 77_777, 99_000, events.length - 1, events.length];
    const want = statesAt(events, positions);
    for (const pos of positions) expect(new Replay(events).stateAt(pos), `cold seek to ${pos}`).toEqual(want.get(pos));
    // and one Replay seeking about: each seek folds from the nearest checkpoint or the furthest state folded
    for (const pos of [...positions].reverse()) expect(r0.stateAt(pos), `seek to ${pos}`).toEqual(want.get(pos));
    // the session has what makes folding hard: full tails, unfinished lines, notes
    const states = [...want.values()];
    expect(states.some((st) => st.steps.some((s) => s.output.tail.length === TAIL_LINES))).toBe(true);
    expect(states.some((st) => st.steps.some((s) => s.output.partial !== ''))).toBe(true);
    expect(want.get(events.length)!.notes.length).toBeGreaterThan(100);
  });
});

describe('Replay: markers and times', () => {
  it('marks the failure, the resume, the operator skip, the note, the confirmation and the end; not the retry, output or a condition skip', () => {
    const { events, at } = story();
    const r = new Replay(events);
    expect(r.markers.map((m) => [m.kind, m.pos, m.stepId])).toEqual([
      ['failure', at.failed, 'build'],
      ['resume', at.resumed, null],
      ['skip', at.skip, 'inc/smoke'],
      ['note', at.note, 'inc/smoke'],
      ['approval', at.confirmed, 'approve'],
      ['finish', at.finished, null],
    ]);
    const label = (kind: string) => r.markers.find((m) => m.kind === kind)!.label;
    expect(label('failure')).toBe('✗ build failed: exited with code 2');
    expect(label('skip')).toContain('inc/smoke');
    expect(label('skip')).toContain('flaky; verified by hand'); // one line
    expect(label('note')).toContain('smoke checked manually');
    expect(label('approval')).toContain('carol');
    expect(label('resume')).toContain('bob');
    expect(label('finish')).toContain('succeeded');
    for (const m of r.markers) {
      expect(m.time).toBe(events[m.pos - 1].time);
      expect(m.label).not.toMatch(/\n/);
    }
  });

  it('keeps a long or hostile reason to one short line of plain text', () => {
    const { events, add } = recorder(PLAN);
    add('step.started', 'build', { attempt: 1 });
    add('step.failed', 'build', { exitCode: 1, reason: `boom \u001b]52;c;ZXZpbA==\u0007 ${'x'.repeat(500)}\nsecond line` });
    const [m] = new Replay(events).markers;
    expect(m.label.length).toBeLessThanOrEqual(80);
    expect(m.label).not.toMatch(/[\u0000-\u001f]/);
    expect(m.label.endsWith('…')).toBe(true);
  });

  it('marks what reached an environment (a deploy, a switch, a rollback), not a build; the state keeps what the session did there', () => {
    const { events, add } = recorder(PLAN);
    add('deploy.built', 'build', {
      env: 'production',
      version: '1.5.0',
      command: './scripts/build.sh 1.5.0',
      artifact: 'a.tgz',
      sha256: 'ab',
    });
    const deployed = add('deploy.deployed', 'inc/deploy', {
      env: 'production',
      version: '1.5.0',
      strategy: 'blue-green',
      colour: 'green',
      liveBefore: 'blue',
      versionBefore: '1.4.0',
      via: 'script',
    });
    const switched = add('deploy.switched', 'inc/smoke', {
      env: 'production',
      from: 'blue',
      to: 'green',
      version: '1.5.0',
      keepPrevious: '30m',
      keepPreviousUntil: T0 + 30 * 60_000,
      via: 'probe',
    });
    const r = new Replay(events);
    // Cut to one short line: what happened where comes first.
    expect(r.markers.map((m) => [m.kind, m.pos, m.label])).toEqual([
      ['deploy', deployed, '⇄ inc/deploy: deployed 1.5.0 to production green; blue at 1.4.0 stays l…'],
      ['deploy', switched, '⇄ inc/smoke: switched production from blue to green (1.5.0); blue kept…'],
    ]);
    expect(r.stateAt(r.length).deploys).toEqual({
      production: {
        built: { version: '1.5.0', artifact: 'a.tgz', sha256: 'ab', image: undefined, digest: undefined },
        deployed: { version: '1.5.0', colour: 'green', liveBefore: 'blue', versionBefore: '1.4.0', step: 'inc/deploy' },
        switched: { from: 'blue', to: 'green', version: '1.5.0', keepPreviousUntil: T0 + 30 * 60_000 },
        live: { version: '1.5.0' },
      },
    });
  });

  it('jumps to the next and previous marker', () => {
    const { events, at } = story();
    const r = new Replay(events);
    expect(r.nextMarker(1)).toBe(at.failed);
    expect(r.nextMarker(at.failed)).toBe(at.resumed);
    expect(r.nextMarker(at.finished)).toBeNull();
    expect(r.prevMarker(at.resumed)).toBe(at.failed);
    expect(r.prevMarker(at.failed)).toBeNull();
    expect(r.prevMarker(r.length + 10)).toBe(at.finished);
  });

  it('maps positions to times and back', () => {
    const { events, at } = story();
    const r = new Replay(events);
    expect(r.timeAt(1)).toBe(T0);
    expect(r.timeAt(at.resumed)).toBe(events[at.resumed - 1].time);
    expect(r.timeAt(0)).toBe(T0);
    expect(r.timeAt(1e9)).toBe(r.endTime);
    expect(r.posAtTime(T0 - 1)).toBe(1);
    expect(r.posAtTime(T0)).toBe(1);
    expect(r.posAtTime(events[at.resumed - 1].time)).toBe(at.resumed);
    expect(r.posAtTime(events[at.resumed - 1].time - 1)).toBe(at.resumed - 1); // in the hour of waiting
    expect(r.posAtTime(r.endTime + 1000)).toBe(r.length);
    for (let pos = 1; pos <= r.length; pos++) expect(r.posAtTime(r.timeAt(pos))).toBe(pos); // times are distinct here
  });
});

describe('playback', () => {
  /** started at T0, events at +1000, +1500, +1500+1h, +1500+1h+200 */
  function timed() {
    const { events, add } = recorder(PLAN);
    add('step.started', 'build', { attempt: 1 }, { after: 1000 });
    add('step.output', 'build', { stream: 'stdout', text: 'x\n' }, { after: 500 });
    add('step.passed', 'build', {}, { after: 3_600_000 });
    add('session.finished', null, { outcome: 'succeeded' }, { after: 200 });
    return new Replay(events);
  }

  it('at speed 1 moves through the events in real time and stops at the end', () => {
    const r = timed();
    let p = startPlayback(r);
    expect(p).toEqual({ pos: 1, playing: true, speed: 1, vtime: T0 });
    p = advance(r, p, 999);
    expect(p).toMatchObject({ pos: 1, vtime: T0 + 999, playing: true });
    p = advance(r, p, 1);
    expect(p).toMatchObject({ pos: 2, vtime: T0 + 1000 });
    p = advance(r, p, 499);
    expect(p.pos).toBe(2);
    p = advance(r, p, 1);
    expect(p).toMatchObject({ pos: 3, vtime: T0 + 1500 });
    // the hour of waiting plays as IDLE_GAP_MS
    p = advance(r, p, IDLE_GAP_MS - 1);
    expect(p).toMatchObject({ pos: 3, vtime: T0 + 1500 + IDLE_GAP_MS - 1, playing: true });
    p = advance(r, p, 1);
    expect(p).toMatchObject({ pos: 4, vtime: r.timeAt(4) });
    p = advance(r, p, 10_000);
    expect(p).toEqual({ pos: 5, playing: false, speed: 1, vtime: r.endTime });
    expect(advance(r, p, 1000)).toBe(p); // stopped: nothing moves
  });

  it('ticks of a frame each reach every event in order, the whole session taking about 1.7 s + 5 s', () => {
    const r = timed();
    let p = startPlayback(r);
    const reached: Array<[number, number]> = []; // [pos, elapsed ms]
    let elapsed = 0;
    while (p.playing && elapsed < 60_000) {
      const before = p.pos;
      const next = advance(r, p, 50);
      expect(next).not.toBe(p);
      expect(next.vtime).toBeGreaterThanOrEqual(p.vtime);
      expect(next.pos).toBeGreaterThanOrEqual(before);
      elapsed += 50;
      p = next;
      if (p.pos !== before) reached.push([p.pos, elapsed]);
    }
    expect(reached).toEqual([
      [2, 1000],
      [3, 1500],
      [4, 1500 + IDLE_GAP_MS],
      [5, 1500 + IDLE_GAP_MS + 200],
    ]);
  });

  it('one long tick crosses several events; a faster speed goes faster', () => {
    const r = timed();
    expect(advance(r, startPlayback(r), 1600)).toMatchObject({ pos: 3, vtime: T0 + 1600 });
    expect(advance(r, startPlayback(r, 10), 160)).toMatchObject({ pos: 3, vtime: T0 + 1600 });
    expect(advance(r, startPlayback(r, 100), 100)).toMatchObject({ pos: 5, playing: false });
  });

  it('at max speed reaches the end in about 200 calls', () => {
    for (const n of [10, 1000, 100_001]) {
      const events = bigSession(1, Math.max(0, n - 3));
      expect(events.length).toBe(n);
      const r = new Replay(events);
      let p = startPlayback(r, Infinity);
      let calls = 0;
      while (p.playing) {
        const next = advance(r, p, 16);
        expect(next.pos).toBeGreaterThan(p.pos);
        expect(next.vtime).toBe(r.timeAt(next.pos));
        p = next;
        calls++;
      }
      expect(p.pos).toBe(n);
      expect(calls).toBeLessThanOrEqual(200);
      if (n >= 1000) expect(calls).toBeGreaterThanOrEqual(190);
    }
  });

  it('stepBy and seek clamp to the session; stepBy pauses', () => {
    const { events } = story();
    const r = new Replay(events);
    const p = startPlayback(r);
    expect(stepBy(r, p, -1)).toEqual({ ...p, pos: 1, playing: false, vtime: T0 });
    const s = stepBy(r, p, 1);
    expect(s).toEqual({ ...p, pos: 2, playing: false, vtime: r.timeAt(2) });
    expect(stepBy(r, s, 1000).pos).toBe(r.length);
    expect(stepBy(r, s, 1000).vtime).toBe(r.endTime);
    expect(seek(r, p, 0)).toMatchObject({ pos: 1, vtime: T0 });
    expect(seek(r, p, 1e9)).toMatchObject({ pos: r.length, vtime: r.endTime });
    expect(seek(r, p, 7)).toEqual({ ...p, pos: 7, vtime: r.timeAt(7) });
    expect(p).toEqual({ pos: 1, playing: true, speed: 1, vtime: T0 }); // not mutated
  });

  it('changeSpeed walks SPEEDS up and down and stops at the ends', () => {
    let p: Playback = { pos: 1, playing: true, speed: SPEEDS[0], vtime: T0 };
    const up: number[] = [p.speed];
    for (let i = 0; i < SPEEDS.length + 1; i++) up.push((p = changeSpeed(p, 1)).speed);
    expect(up).toEqual([...SPEEDS, Infinity, Infinity]);
    const down: number[] = [];
    for (let i = 0; i < SPEEDS.length + 2; i++) down.push((p = changeSpeed(p, -1)).speed);
    expect(down).toEqual([...SPEEDS.slice(0, -1).reverse(), 0.5, 0.5, 0.5]);
    expect(changeSpeed({ ...p, speed: 3 }, 1).speed).toBe(5);
    expect(changeSpeed({ ...p, speed: 3 }, -1).speed).toBe(2);
  });
});

describe('timelineCells', () => {
  it('puts a failure that is the last event at the right end, and the cursor at cell 0 at pos 1', () => {
    const { events, add } = recorder(PLAN);
    add('step.started', 'build', { attempt: 1 }, { after: 1000 });
    add('note.added', null, { text: 'watching' }, { after: 4000 });
    add('step.failed', 'build', { exitCode: 1, reason: 'boom' }, { after: 5000 });
    const r = new Replay(events);
    const bar = timelineCells(r, 40, 1);
    expect(bar.cursor).toBe(0);
    expect(bar.marks).toEqual([
      { cell: 20, kind: 'note' },
      { cell: 39, kind: 'failure' },
    ]);
    expect(timelineCells(r, 40, r.length).cursor).toBe(39);
    expect(timelineCells(r, 40, 3).cursor).toBe(20);
  });

  it('the most severe marker wins a shared cell', () => {
    const { events, add } = recorder(PLAN);
    add('step.started', 'build', { attempt: 1 }, { after: 1 });
    add('note.added', null, { text: 'a' }, { after: 1 });
    add('step.failed', 'build', { exitCode: 1, reason: 'boom' }, { after: 1 });
    add('note.added', null, { text: 'b' }, { after: 1 });
    add('session.finished', null, { outcome: 'aborted' }, { after: 100_000 });
    const r = new Replay(events);
    expect(timelineCells(r, 10, 1).marks).toEqual([
      { cell: 0, kind: 'failure' },
      { cell: 9, kind: 'finish' },
    ]);
  });

  it('a session with no length of time puts everything at cell 0', () => {
    const { events, add } = recorder(PLAN);
    add('step.skipped', 'build', { reason: 'not needed', by: 'operator' }, { after: 0 });
    add('session.finished', null, { outcome: 'succeeded' }, { after: 0 });
    const r = new Replay(events);
    expect(timelineCells(r, 30, r.length)).toEqual({ cursor: 0, marks: [{ cell: 0, kind: 'skip' }] });
  });
});

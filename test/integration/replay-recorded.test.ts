import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/core/events.js';
import { reduce, reduceRange, TAIL_LINES, type SessionState } from '../../src/core/reducer.js';
import { Replay } from '../../src/core/replay.js';
import { cockpit, tempRepo } from '../helpers/cli.js';

// Seeks in a session recorded for real (`cockpit run`, real child processes): output cut where the engine's buffer
// cut it (64 KiB pieces of thousands of lines, 50 ms batches, stdout and stderr mixed), a failure and the pause. Every position, folded from checkpoints with reduceRange, is the state reduce() gives one event at a time.

const CHECKLIST = `id: rec
title: Recorded
steps:
  - id: build
    title: Build
    kind: run
    run: "seq 1 150000 | sed 's/^/build line /'"
  - id: chatter
    title: Chatter
    kind: run
    run: "for i in $(seq 1 25); do echo out $i; echo err $i >&2; printf 'unfinished %s ' $i; sleep 0.02; echo done; done"
  - id: broken
    title: Broken
    kind: run
    run: "echo about to fail; exit 3"
`;

describe('replay of a recorded session', () => {
  let repo: ReturnType<typeof tempRepo>;
  let events: AuditEvent[];

  beforeAll(() => {
    repo = tempRepo({ rec: CHECKLIST });
    const run = cockpit(['--repo', repo.dir, 'run', 'rec', '--non-interactive'], { cwd: repo.dir, timeout: 120_000 });
    expect(run.code, run.stderr).not.toBe(0); // the last step fails
    const list = cockpit(['--repo', repo.dir, 'audit', 'list', '--json']);
    const id = (JSON.parse(list.stdout) as Array<{ id: string }>)[0].id;
    const show = cockpit(['--repo', repo.dir, 'audit', 'show', id, '--format', 'json']);
    expect(show.code, show.stderr).toBe(0);
    events = (JSON.parse(show.stdout) as { events: AuditEvent[] }).events;
  }, 180_000);
  afterAll(() => repo?.cleanup());

  it('every position, cold or after precompute, from any checkpoint spacing, is the one-event-at-a-time fold', () => {
    const outputs = events.filter((e) => e.type === 'step.output');
    expect(outputs.length).toBeGreaterThan(20);
    // pieces holding more lines than the tail keeps, stderr among stdout, and the session ends failed
    expect(outputs.some((e) => e.type === 'step.output' && e.data.text.split('\n').length > TAIL_LINES)).toBe(true);
    expect(outputs.some((e) => e.type === 'step.output' && e.data.stream === 'stderr')).toBe(true);
    expect(events.some((e) => e.type === 'step.failed')).toBe(true);

    const want: SessionState[] = [];
    let s: SessionState | null = null;
    for (const e of events) want.push((s = reduce(s, e)));
    const at = (pos: number) => want[pos - 1];
    expect(at(events.length).steps.find((x) => x.path === 'build')!.output.lines).toBe(150_000);

    for (const every of [1, 3, 8, 1000]) {
      for (let pos = 1; pos <= events.length; pos++) {
        expect(new Replay(events, { checkpointEvery: every }).stateAt(pos), `cold seek to ${pos}, every ${every}`).toEqual(at(pos));
      }
      const r = new Replay(events, { checkpointEvery: every });
      for (let pos = events.length; pos >= 1; pos -= 2) expect(r.stateAt(pos), `seek back to ${pos}, every ${every}`).toEqual(at(pos));
      while (!r.precompute(5));
      for (let pos = 1; pos <= events.length; pos++) expect(r.stateAt(pos), `seek to ${pos}, every ${every}`).toEqual(at(pos));
    }
    expect(reduceRange(at(1), events, 1, events.length)).toEqual(at(events.length));
  });
});

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { liveGroupMembers } from '../../src/adapters/shell.js';
import { cockpit, cockpitAsync, jsonLines, tempRepo } from '../helpers/cli.js';

/**
 * A real `cockpit run` child process is SIGKILLed at several points, then resumed to completion.
 * Each step appends its name to ran.log, so what ran twice is visible.
 */
const CHECKLIST = `id: crashy
title: Crash test
steps:
  - id: a
    title: Step a
    kind: run
    run: echo a >> ran.log
  - id: b
    title: Long step b
    kind: run
    run: |
      echo b-start >> ran.log; echo working on b
      if [ -e slow-b ]; then rm slow-b; sleep 30; else sleep 1.5; fi
      echo b-end >> ran.log
  - id: c
    title: Confirm c
    kind: confirm
  - id: d
    title: Burst of output d
    kind: run
    run: echo d >> ran.log; seq 1 300000
  - id: e
    title: Step e
    kind: run
    run: echo e >> ran.log
`;

let repo: ReturnType<typeof tempRepo>;
beforeEach(() => {
  repo = tempRepo({ crashy: CHECKLIST });
});
afterEach(() => repo.cleanup());

type Ev = Record<string, any>;

/** Start the cockpit, watch its JSON events, SIGKILL it when `when` says so. */
function runAndKill(args: string[], when: (e: Ev, seen: Ev[]) => boolean): Promise<{ printed: Ev[]; killed: boolean }> {
  return new Promise((resolve) => {
    const child = cockpitAsync(['--repo', repo.dir, ...args], { cwd: repo.dir });
    const printed: Ev[] = [];
    let buf = '';
    let killed = false;
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        const e = JSON.parse(line);
        printed.push(e);
        if (!killed && when(e, printed)) {
          killed = true;
          child.kill('SIGKILL');
        }
      }
    });
    child.on('exit', () => resolve({ printed, killed }));
  });
}

function sessionId(): string {
  return JSON.parse(cockpit(['--repo', repo.dir, 'audit', 'list', '--json']).stdout)[0].id;
}

function storedEvents(id: string): Ev[] {
  return JSON.parse(cockpit(['--repo', repo.dir, 'audit', 'show', id, '--format', 'json']).stdout).events;
}

function ranLog(): string[] {
  return readFileSync(path.join(repo.dir, 'ran.log'), 'utf8').trim().split('\n');
}

const count = (lines: string[], x: string) => lines.filter((l) => l === x).length;

/** Everything the killed process printed is in the log, unchanged: nothing shown was lost. */
function expectPrintedDurable(printed: Ev[], stored: Ev[]) {
  const bySeq = new Map(stored.map((e) => [e.seq, e]));
  for (const p of printed) expect(bySeq.get(p.seq)?.hash).toBe(p.hash);
}

function expectCompleteAndVerified(id: string): Ev[] {
  const stored = storedEvents(id);
  expect(stored.map((e) => e.seq)).toEqual(stored.map((_, i) => i + 1));
  expect(stored.at(-1)).toMatchObject({ type: 'session.finished', data: { outcome: 'succeeded' } });
  const v = cockpit(['--repo', repo.dir, 'audit', 'verify', id]);
  expect(v.code, v.stdout).toBe(0);
  return stored;
}

function resume(id: string) {
  const r = cockpit(['--repo', repo.dir, 'resume', id, '--non-interactive', '--yes', 'all', '--json'], { cwd: repo.dir });
  expect(r.code, r.stderr).toBe(0);
  return jsonLines(r.stdout);
}

describe('a session killed with SIGKILL resumes at its first unfinished step', () => {
  it('killed during a command: the step is shown as interrupted, its leftover process stopped, and it is re-run', async () => {
    // The first run of b sleeps long enough that only the resume's stopping it can keep it from finishing.
    repo.write('slow-b', '');
    const { printed, killed } = await runAndKill(
      ['run', 'crashy', '--non-interactive', '--yes', 'all', '--json'],
      (e) => e.type === 'step.output' && e.stepId === 'b',
    );
    expect(killed).toBe(true);
    const id = sessionId();
    const pid = printed.find((e) => e.type === 'step.spawned' && e.stepId === 'b')!.data.pid;
    const list = JSON.parse(cockpit(['--repo', repo.dir, 'audit', 'list', '--json']).stdout);
    expect(list[0].status).toBe('crashed (resumable)');

    const resumed = resume(id);
    expect(resumed[0].type).toBe('session.resumed');
    expect(resumed[1]).toMatchObject({ type: 'step.interrupted', stepId: 'b', data: { stoppedPid: pid } });
    expect(liveGroupMembers(pid)).toEqual([]);
    expect(resumed.find((e) => e.type === 'step.started')).toMatchObject({ stepId: 'b', data: { attempt: 2 } });

    const stored = expectCompleteAndVerified(id);
    expectPrintedDurable(printed, stored);
    const log = ranLog();
    // b ran twice (it was interrupted), its first run never finished; everything else exactly once
    expect(count(log, 'a')).toBe(1);
    expect(count(log, 'b-start')).toBe(2);
    expect(count(log, 'b-end')).toBe(1);
    expect(count(log, 'd')).toBe(1);
    expect(count(log, 'e')).toBe(1);
  });

  it('killed between steps: nothing runs twice', async () => {
    const { printed } = await runAndKill(
      ['run', 'crashy', '--non-interactive', '--yes', 'all', '--json'],
      (e) => e.type === 'step.passed' && e.stepId === 'a',
    );
    const id = sessionId();
    resume(id);
    const stored = expectCompleteAndVerified(id);
    expectPrintedDurable(printed, stored);
    const log = ranLog();
    expect(count(log, 'a')).toBe(1);
    // b may have just started when the kill landed. A command only runs once its pid is durable (the gate), so b's
    // command ran at most once per recorded spawn, and a leftover run was stopped before it could finish.
    const interrupted = stored.filter((e) => e.type === 'step.interrupted').map((e) => e.stepId);
    const spawnedB = stored.filter((e) => e.type === 'step.spawned' && e.stepId === 'b').length;
    if (!interrupted.includes('b')) expect(count(log, 'b-start')).toBe(1);
    expect(count(log, 'b-start')).toBeGreaterThanOrEqual(1);
    expect(count(log, 'b-start')).toBeLessThanOrEqual(spawnedB);
    expect(count(log, 'b-end')).toBe(1);
    expect(count(log, 'd')).toBe(1);
    expect(count(log, 'e')).toBe(1);
  });

  it('killed mid-append under a burst of output, then killed again while resuming: still no lost or duplicated event', async () => {
    const first = await runAndKill(
      ['run', 'crashy', '--non-interactive', '--yes', 'all', '--json'],
      (e, seen) =>
        e.type === 'step.output' && e.stepId === 'd' && seen.filter((x) => x.type === 'step.output' && x.stepId === 'd').length === 5,
    );
    expect(first.killed).toBe(true);
    const id = sessionId();
    const stored1 = storedEvents(id);
    expectPrintedDurable(first.printed, stored1);
    // the log after the crash is a valid chain even though the process died inside a burst of appends
    expect(cockpit(['--repo', repo.dir, 'audit', 'verify', id]).code).toBe(0);

    const second = await runAndKill(
      ['resume', id, '--non-interactive', '--yes', 'all', '--json'],
      (e) => e.type === 'step.output' && e.stepId === 'd',
    );
    expect(second.killed).toBe(true);
    resume(id);
    const stored = expectCompleteAndVerified(id);
    expectPrintedDurable([...first.printed, ...second.printed], stored);
    const log = ranLog();
    expect(count(log, 'a')).toBe(1);
    expect(count(log, 'b-start')).toBe(1);
    expect(count(log, 'd')).toBe(3);
    expect(count(log, 'e')).toBe(1);
    // c was confirmed once, by flag, and not asked again; d, interrupted twice, was confirmed (by --yes all) to run again each time
    const confirmed = stored.filter((e) => e.type === 'step.confirmed');
    expect(confirmed.filter((e) => e.stepId === 'c')).toHaveLength(1);
    expect(confirmed.filter((e) => e.stepId === 'd').map((e) => e.data.note)).toEqual([
      'run again after an interruption',
      'run again after an interruption',
    ]);
    // the last attempt of d has all of its output
    const lastStart = stored.findLastIndex((e) => e.type === 'step.started' && e.stepId === 'd');
    const text = stored
      .slice(lastStart)
      .filter((e) => e.type === 'step.output' && e.stepId === 'd')
      .map((e) => e.data.text)
      .join('');
    expect(text.split('\n').length - 1).toBe(300000);
  });

  it('an interrupted step without a probe is not run again unasked: the resume waits; --yes <step> runs it; idempotent: true re-runs', async () => {
    repo.write('slow-b', '');
    const { killed } = await runAndKill(
      ['run', 'crashy', '--non-interactive', '--yes', 'all', '--json'],
      (e) => e.type === 'step.output' && e.stepId === 'b',
    );
    expect(killed).toBe(true);
    const id = sessionId();
    // Without a yes for b: b may have had its effect, so the resume stops and says so, and b is not run again.
    const waiting = cockpit(['--repo', repo.dir, 'resume', id, '--non-interactive'], { cwd: repo.dir });
    expect(waiting.code).toBe(1);
    expect(waiting.stderr + waiting.stdout).toMatch(
      /step 'b' was interrupted and may have run: check its effect, then confirm it may run again/,
    );
    expect(count(ranLog(), 'b-start')).toBe(1);
    // Named by --yes: run again, to the end.
    const r = cockpit(['--repo', repo.dir, 'resume', id, '--non-interactive', '--yes', 'b', '--yes', 'c'], { cwd: repo.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(count(ranLog(), 'b-start')).toBe(2);
    // The same step declared idempotent: re-run without a question.
    repo.write('checklists/crashy.yaml', CHECKLIST.replace('    title: Long step b\n', '    title: Long step b\n    idempotent: true\n'));
    repo.write('slow-b', '');
    const second = await runAndKill(
      ['run', 'crashy', '--non-interactive', '--yes', 'all', '--json'],
      (e) => e.type === 'step.output' && e.stepId === 'b',
    );
    expect(second.killed).toBe(true);
    const again = cockpit(['--repo', repo.dir, 'resume', sessionId(), '--non-interactive', '--yes', 'c'], { cwd: repo.dir });
    expect(again.code, again.stderr).toBe(0);
    expect(count(ranLog(), 'b-start')).toBe(4);
  });

  it('killed right after the session started: resume runs every step once', async () => {
    const { printed } = await runAndKill(
      ['run', 'crashy', '--non-interactive', '--yes', 'all', '--json'],
      (e) => e.type === 'session.started',
    );
    const id = sessionId();
    resume(id);
    const stored = expectCompleteAndVerified(id);
    expectPrintedDurable(printed, stored);
    const log = ranLog();
    // a may have been interrupted (before or after its command started): it ran once per recorded spawn at most
    const spawnedA = stored.filter((e) => e.type === 'step.spawned' && e.stepId === 'a').length;
    expect(count(log, 'a')).toBeGreaterThanOrEqual(1);
    expect(count(log, 'a')).toBeLessThanOrEqual(spawnedA);
    if (!stored.some((e) => e.type === 'step.interrupted' && e.stepId === 'a')) expect(count(log, 'a')).toBe(1);
    expect(count(log, 'e')).toBe(1);
  });

  it('a resume refuses while the session is still running in another live process', async () => {
    repo.write('slow-b', ''); // b runs for 30 s: the session is surely still running when the resume is tried
    const child = cockpitAsync(['--repo', repo.dir, 'run', 'crashy', '--non-interactive', '--yes', 'all', '--json'], { cwd: repo.dir });
    await new Promise<void>((resolve) => {
      child.stdout!.on('data', (d: Buffer) => {
        if (d.toString().includes('"stepId":"b"')) resolve();
      });
    });
    const id = sessionId();
    const r = cockpit(['--repo', repo.dir, 'resume', id, '--non-interactive', '--yes', 'all'], { cwd: repo.dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`session ${id} is being run by tester@\\S+, pid \\d+, since \\d\\d:\\d\\d:\\d\\d UTC \\(run crashy\\)`),
    );
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
  });

  it('an interrupted step with a probe is probed first: done means passed without running it again, not done means re-run', async () => {
    repo.write(
      'checklists/probed.yaml',
      `id: probed
title: Probed
steps:
  - id: tag
    title: Effect already there after a crash
    kind: run
    run: echo tag >> ran.log; touch tagged; echo started; sleep 30
    probe: test -f tagged
  - id: push
    title: Effect not there after a crash
    kind: run
    run: echo push >> ran.log; echo started; if [ ! -e second ]; then touch second; sleep 30; fi; touch pushed
    probe: test -f pushed
`,
    );
    const first = await runAndKill(['run', 'probed', '--non-interactive', '--json'], (e) => e.type === 'step.output' && e.stepId === 'tag');
    expect(first.killed).toBe(true);
    const id = sessionId();
    const r1 = await runAndKill(['resume', id, '--non-interactive', '--json'], (e) => e.type === 'step.output' && e.stepId === 'push');
    expect(r1.killed).toBe(true);
    // (the probe's own process and output are recorded too)
    const tagEvents = r1.printed.filter((e) => e.stepId === 'tag' && e.type !== 'step.spawned' && e.type !== 'step.output');
    expect(tagEvents.map((e) => [e.type, e.data.result ?? e.data.via ?? null])).toEqual([
      ['step.interrupted', null],
      ['step.probed', 'done'],
      ['step.passed', 'probe'],
    ]);
    const r2 = resume(id);
    expect(r2.find((e) => e.type === 'step.probed')).toMatchObject({ stepId: 'push', data: { result: 'not-done' } });
    expect(r2.find((e) => e.type === 'step.started')).toMatchObject({ stepId: 'push', data: { attempt: 2 } });
    expectCompleteAndVerified(id);
    expect(ranLog()).toEqual(['tag', 'push', 'push']);
  });
});

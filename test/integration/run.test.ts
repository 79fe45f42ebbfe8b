import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { liveGroupMembers } from '../../src/adapters/shell.js';
import { cockpit, cockpitAsync, jsonLines, tempRepo } from '../helpers/cli.js';

let repo: ReturnType<typeof tempRepo>;
beforeEach(() => {
  repo = tempRepo();
});
afterEach(() => repo.cleanup());

const run = (file: string, ...args: string[]) => cockpit(['--repo', repo.dir, 'run', file, ...args], { cwd: repo.dir });

function outputText(events: Array<Record<string, any>>, step: string): string {
  return events
    .filter((e) => e.type === 'step.output' && e.stepId === step)
    .map((e) => e.data.text)
    .join('');
}

describe('run steps execute real shell commands', () => {
  it('runs a passing command, records its output and exit code, and the log verifies', () => {
    const f = repo.write(
      'checklists/ok.yaml',
      `id: ok
title: OK
params:
  version: {type: semver, required: true}
steps:
  - id: hello
    title: Say hello
    kind: run
    run: echo "hello from $COCKPIT_PARAM_VERSION in $(basename "$PWD")"; echo warn >&2
    cwd: sub
  - id: argv
    title: Argv with a parameter
    kind: run
    run: ["printf", "%s|", "\${version}", "two words"]
`,
    );
    repo.write('sub/.keep', '');
    const r = run(f, '-p', 'version=v2.4.0', '--non-interactive', '--json');
    expect(r.code, r.stderr).toBe(0);
    const events = jsonLines(r.stdout);
    expect(events[0].type).toBe('session.started');
    expect(events[0].data.params).toEqual({ version: '2.4.0' });
    expect(outputText(events, 'hello')).toContain('hello from 2.4.0 in sub');
    expect(events.some((e) => e.type === 'step.output' && e.data.stream === 'stderr' && e.data.text === 'warn\n')).toBe(true);
    expect(outputText(events, 'argv')).toBe('2.4.0|two words|');
    const passed = events.filter((e) => e.type === 'step.passed');
    expect(passed.map((e) => [e.stepId, e.data.exitCode])).toEqual([
      ['hello', 0],
      ['argv', 0],
    ]);
    expect(events.at(-1)).toMatchObject({ type: 'session.finished', data: { outcome: 'succeeded' } });
    // seq is gapless and every line was durable when printed
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const v = cockpit(['--repo', repo.dir, 'audit', 'verify']);
    expect(v.code, v.stdout).toBe(0);
    expect(v.stdout).toContain(`${events.length} event(s) verified`);
  });

  it("a failing command's reason carries its last line on stderr (secrets redacted), not only its exit code", () => {
    repo.write('cockpit.config.yaml', 'secrets:\n  env: [DEPLOY_TOKEN]\n');
    const f = repo.write(
      'checklists/why.yaml',
      `id: why
title: Why
steps:
  - id: push
    title: Push the image
    kind: run
    run: |
      echo "pushing" >&2
      echo "registry refused token $DEPLOY_TOKEN: unauthorized" >&2
      echo done
      exit 2
`,
    );
    const r = cockpit(['--repo', repo.dir, 'run', f, '--non-interactive', '--json'], {
      cwd: repo.dir,
      env: { DEPLOY_TOKEN: 'tok-9f8e7d6c5b4a' },
    });
    expect(r.code).toBe(1);
    const failed = jsonLines(r.stdout).find((e) => e.type === 'step.failed');
    expect(failed?.data.reason).toMatch(/^exited with code 2: registry refused token \S+: unauthorized$/);
    expect(r.stdout + r.stderr).not.toContain('tok-9f8e7d6c5b4a');
    const shown = cockpit(['--repo', repo.dir, 'audit', 'show', String(failed?.sessionId ?? jsonLines(r.stdout)[0].sessionId)]);
    expect(shown.stdout).toContain('exited with code 2: registry refused token');
    expect(shown.stdout).not.toContain('tok-9f8e7d6c5b4a');
  });

  it('a failing command stops the session with exit 1, the exit code, the tail of its output and how to continue', () => {
    const f = repo.write(
      'checklists/fail.yaml',
      `id: fail
title: Fail
steps:
  - id: before
    title: Before
    kind: run
    run: echo before
  - id: broken
    title: Broken step
    kind: run
    run: echo "about to fail"; exit 7
  - id: after
    title: After
    kind: run
    run: touch after-ran
`,
    );
    const r = run(f, '--non-interactive');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('about to fail');
    expect(r.stdout).toMatch(/✖ failed: exited with code 7/);
    expect(r.stderr).toMatch(/step 'broken' \(Broken step\) failed: exited with code 7/);
    expect(r.stdout).toMatch(/cockpit resume \S+/);
    expect(existsSync(path.join(repo.dir, 'after-ran'))).toBe(false);
    const list = JSON.parse(cockpit(['--repo', repo.dir, 'audit', 'list', '--json']).stdout);
    expect(list[0].status).toBe('failed (resumable)');
    const show = cockpit(['--repo', repo.dir, 'audit', 'show', list[0].id]);
    expect(show.stdout).toMatch(/step 'broken' FAILED: exited with code 7 \(exit 7\)/);
    expect(show.stdout).toMatch(/Output of 'broken': \d+ lines?\n {2}│ about to fail/);

    // Fixed by hand: resume retries the failed step (attempt 2), then runs the rest.
    writeFileSync(f, readFileSync(f, 'utf8').replace('exit 7', 'exit 0'));
    const refused = cockpit(['--repo', repo.dir, 'resume', list[0].id, '--non-interactive'], { cwd: repo.dir });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/changed since session .* began.*--force/s);
    const forced = cockpit(['--repo', repo.dir, 'resume', list[0].id, '--non-interactive', '--force', '--json'], { cwd: repo.dir });
    expect(forced.code, forced.stderr).toBe(0);
    const ev = jsonLines(forced.stdout);
    expect(ev[0]).toMatchObject({ type: 'session.resumed', data: { forced: {} } });
    expect(ev.find((e) => e.type === 'step.started')).toMatchObject({ stepId: 'broken', data: { attempt: 2 } });
    expect(ev.filter((e) => e.type === 'step.started').map((e) => e.stepId)).toEqual(['broken', 'after']);
    expect(existsSync(path.join(repo.dir, 'after-ran'))).toBe(true);
    const md = cockpit(['--repo', repo.dir, 'audit', 'show', list[0].id, '--format', 'md']).stdout;
    expect(md).toMatch(/FORCED although the checklist changed/);
  });

  it('a command that outlives its timeout is killed (with its children) and fails as timed out', () => {
    const f = repo.write(
      'checklists/slow.yaml',
      `id: slow
title: Slow
steps:
  - id: sleepy
    title: Sleeps too long
    kind: run
    run: (sleep 30; touch child-survived) & echo started; sleep 30
    timeout: 1s
`,
    );
    const t0 = Date.now();
    const r = run(f, '--non-interactive', '--json');
    expect(r.code).toBe(1);
    expect(Date.now() - t0).toBeLessThan(10_000);
    const failed = jsonLines(r.stdout).find((e) => e.type === 'step.failed');
    expect(failed).toMatchObject({ stepId: 'sleepy', data: { timedOut: true, reason: 'timed out after 1.0s' } });
    expect(outputText(jsonLines(r.stdout), 'sleepy')).toBe('started\n');
    const spawned = jsonLines(r.stdout).find((e) => e.type === 'step.spawned');
    // the whole process group is gone, background child included
    expect(liveGroupMembers(spawned!.data.pid)).toEqual([]);
  });

  it('streams a few MB of output into the log in chunks, as it arrives, and keeps every byte', () => {
    const f = repo.write(
      'checklists/big.yaml',
      `id: big
title: Big output
steps:
  - id: flood
    title: Prints 4 MB
    kind: run
    run: seq 1 500000 | sed 's/$/ lorem ipsum/'
`,
    );
    const r = run(f, '--non-interactive', '--json');
    expect(r.code, r.stderr).toBe(0);
    const events = jsonLines(r.stdout);
    const chunks = events.filter((e) => e.type === 'step.output');
    const text = chunks.map((e) => e.data.text).join('');
    const lines = text.split('\n');
    expect(lines.length - 1).toBe(500000);
    expect(lines[0]).toBe('1 lorem ipsum');
    expect(lines[499999]).toBe('500000 lorem ipsum');
    expect(text.length).toBeGreaterThan(4_000_000);
    // chunked (not one event at the end), and each chunk ends on a line boundary
    expect(chunks.length).toBeGreaterThan(20);
    expect(chunks.every((c) => c.data.text.endsWith('\n'))).toBe(true);
    const v = cockpit(['--repo', repo.dir, 'audit', 'verify']);
    expect(v.code).toBe(0);
  });

  it('a command that reads stdin gets end-of-file at once instead of hanging, and git never prompts', () => {
    const f = repo.write(
      'checklists/stdin.yaml',
      `id: stdin
title: Stdin
steps:
  - id: reader
    title: Reads stdin
    kind: run
    run: |
      if read -r line; then echo "got: $line"; else echo "stdin closed"; fi; echo "prompt=$GIT_TERMINAL_PROMPT"
    timeout: 10s
`,
    );
    const r = run(f, '--non-interactive', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(outputText(jsonLines(r.stdout), 'reader')).toBe('stdin closed\nprompt=0\n');
  });

  it('a command that does not exist fails with a clear reason', () => {
    const f = repo.write(
      'checklists/missing.yaml',
      `id: missing
title: Missing
steps:
  - id: nope
    title: No such program
    kind: run
    run: ["./does-not-exist", "x"]
  `,
    );
    const r = run(f, '--non-interactive');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/exited with code 127 \(command not found\)/);
    expect(r.stdout).toMatch(/does-not-exist: not found/);
  });

  for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
    it(`${signal} (a lost SSH session, a stopped service) stops the running step cleanly: exit 3, resumable, nothing left running`, async () => {
      const f = repo.write(
        'checklists/long.yaml',
        'id: long\ntitle: Long\nsteps:\n  - id: wait\n    title: Wait\n    kind: run\n    run: echo waiting; sleep 30\n',
      );
      const child = cockpitAsync(['--repo', repo.dir, 'run', f, '--non-interactive', '--json'], { cwd: repo.dir });
      let stdout = '';
      await new Promise<void>((resolve) =>
        child.stdout!.on('data', (d: Buffer) => {
          stdout += d.toString();
          if (stdout.includes('waiting')) resolve();
        }),
      );
      child.kill(signal);
      const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
      expect(code).toBe(3);
      const events = jsonLines(stdout);
      const pid = events.find((e) => e.type === 'step.spawned')!.data.pid;
      expect(liveGroupMembers(pid)).toEqual([]);
      expect(events.slice(-2).map((e) => e.type)).toEqual(['step.interrupted', 'session.paused']);
      expect(JSON.parse(cockpit(['--repo', repo.dir, 'audit', 'list', '--json']).stdout)[0].status).toBe('stopped (resumable)');
    });
  }
});

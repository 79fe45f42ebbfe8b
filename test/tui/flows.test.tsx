import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { render } from 'ink-testing-library';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeStores } from '../../src/cli/open-stores.js';
import { Workspace } from '../../src/cli/setup.js';
import { workspaceServices } from '../../src/cli/tui.js';
import type { AuditEvent } from '../../src/core/events.js';
import type { LiveSession } from '../../src/engine/live.js';
import { App, type Route } from '../../src/tui/App.js';
import { noColorTheme } from '../../src/tui/theme.js';
import { cockpit, cockpitAsync, jsonLines, tempRepo } from '../helpers/cli.js';
import { frame, KEY, press, settle, type, until, waitFor, type Rendered } from '../helpers/ink.js';

// The screens over the real engine: a real git repository, real SQLite audit log, real child processes.
// Only the terminal is ink-testing-library's (100 columns; the cockpit takes 30 rows when a terminal has none).

const WALK = `id: walk
title: Walk through
steps:
  - id: build
    title: Build
    kind: run
    run: echo building; echo built
  - id: approval
    title: Approval from a senior developer
    kind: confirm
    prompt: Has a senior developer approved?
    policy: A senior developer must approve every production release.
  - id: announce
    title: Announce
    kind: confirm
  - id: flaky
    title: Needs the flag file
    kind: run
    run: test -f flag.txt || { echo "missing flag.txt"; exit 3; }
`;

const FORM = `id: form
title: With parameters
params:
  version: {type: semver, required: true, description: Version to release}
  environment: {type: enum, choices: [staging, production], default: staging}
steps:
  - id: show
    title: Show
    kind: run
    run: ["echo", "releasing \${version} to \${environment}"]
`;

const SECRET = `id: secret
title: Uses a token
params:
  token: {type: string, required: true, secret: true, description: API token}
steps:
  - id: use
    title: Use the token
    kind: run
    run: test "$COCKPIT_PARAM_TOKEN" = "tok-3141-5926" && echo "token ok"
  - id: check
    title: Check by hand
    kind: confirm
  - id: again
    title: Use it again once the flag is there
    kind: run
    run: test "$COCKPIT_PARAM_TOKEN" = "tok-3141-5926" && test -f flag.txt && echo "again ok"
`;

let repo: ReturnType<typeof tempRepo>;
let app: Rendered | null = null;
let sessions: LiveSession[] = [];
let exitCode: number | null = null;

function open(initial: Route = { name: 'home' }): Rendered {
  const ws = new Workspace({ repo: repo.dir });
  const services = workspaceServices(ws, (s) => sessions.push(s));
  app = render(<App services={services} initial={initial} theme={noColorTheme} onExit={(c) => (exitCode = c)} />);
  return app;
}

async function events(): Promise<AuditEvent[]> {
  const ws = new Workspace({ repo: repo.dir });
  const store = await ws.openStore();
  const [s] = await store.listSessions(1);
  return s ? store.readEvents(s.id) : [];
}

/** From the home screen, start a checklist that takes no parameters. */
async function start(a: Rendered, id: string): Promise<void> {
  // The list itself, not the frame that says it is being read (the first read loads the checklist loader).
  await waitFor(a, 'Checklists (');
  // The home screen opens on the checklists when there are no sessions; walk to the one wanted.
  for (let i = 0; i < 20 && !new RegExp(`› ${id}\\b`).test(frame(a)); i++) await press(a, 'j');
  await press(a, KEY.enter);
  await waitFor(a, 'FORM');
  await press(a, KEY.enter);
}

beforeEach(() => {
  process.env.COCKPIT_OPERATOR = 'alice';
  repo = tempRepo({ walk: WALK, form: FORM, secret: SECRET });
  sessions = [];
  exitCode = null;
});

afterEach(async () => {
  for (const s of sessions) await s.stop();
  app?.unmount();
  app = null;
  await closeStores();
  repo.cleanup();
});

describe('the checklist screen, live', () => {
  it('walks a checklist: a command runs and shows its output, each confirmation is asked and answered with enter', async () => {
    const a = open();
    await start(a, 'walk');
    let f = await waitFor(a, 'WAITING FOR YOU');
    expect(f).toMatch(/✔ Build/);
    expect(f).toContain('? Has a senior developer approved?');
    // The policy's words, whole (wrapped in the detail pane when it is narrower than they are).
    expect(f).toMatch(/A senior developer must approve every production(\s+│)?\s+release\./);
    expect(f).toMatch(/› 2 \? Approval from a senior/);
    expect(f).toContain('↵ confirm');
    // Keys faster than renders all count: two downs, then three ups reach the first step and its output.
    for (const k of ['j', 'j']) a.stdin.write(k);
    await waitFor(a, /› 4 · Needs the flag file/);
    for (const k of ['k', 'k', 'k']) a.stdin.write(k);
    expect(await waitFor(a, 'built')).toMatch(/Output: 2 lines/);
    await press(a, KEY.enter);
    f = await waitFor(a, /› 3 \? Announce/);
    expect(f).toMatch(/✔ Approval from a senior/);
    await press(a, KEY.enter);
    f = await waitFor(a, '[FAILED]');
    const ev = await events();
    const confirmed = ev.filter((e) => e.type === 'step.confirmed');
    expect(confirmed.map((e) => [e.stepId, (e.data as { by: string; via: string }).by, (e.data as { via: string }).via])).toEqual([
      ['approval', 'alice', 'prompt'],
      ['announce', 'alice', 'prompt'],
    ]);
  });

  it('a failing command shows its exit code, its last lines and what to do; r retries it once the cause is fixed', async () => {
    const a = open();
    await start(a, 'walk');
    await waitFor(a, 'WAITING FOR YOU');
    await press(a, KEY.enter);
    await waitFor(a, /› 3 \? Announce/);
    await press(a, KEY.enter);
    const f = await waitFor(a, '[FAILED]');
    expect(f).toMatch(/✖ Needs the flag file/);
    expect(f).toMatch(/FAILED · exit 3/);
    expect(f).toContain('missing flag.txt');
    expect(f).toContain('r retry');
    expect(f).toMatch(/What next: fix the cause, then r retry/);
    // Enter does not retry a failed step (nor is it offered): the failure stays as it was.
    expect(f.split('\n').at(-1)).not.toContain('↵');
    writeFileSync(path.join(repo.dir, 'flag.txt'), 'ok\n');
    await press(a, KEY.enter);
    await new Promise((r) => setTimeout(r, 300));
    expect(frame(a)).toContain('[FAILED]');
    expect((await events()).filter((e) => e.type === 'step.started' && e.stepId === 'flaky')).toHaveLength(1);
    await press(a, 'r');
    const done = await waitFor(a, '[DONE]');
    expect(done).toMatch(/✔ Needs the flag file/);
    expect(done).toMatch(/4\/4 done/);
    const ev = await events();
    expect(ev.filter((e) => e.type === 'step.started' && e.stepId === 'flaky').map((e) => (e.data as { attempt: number }).attempt)).toEqual(
      [1, 2],
    );
    expect(ev.at(-1)?.type).toBe('session.finished');
  });

  it('skip asks why: an empty reason is refused, the reason given is recorded and shown', async () => {
    const a = open();
    await start(a, 'walk');
    await waitFor(a, 'WAITING FOR YOU');
    await press(a, 's');
    expect(await waitFor(a, "Skip 'approval': why?")).toContain('TYPE');
    await press(a, KEY.enter);
    expect(await waitFor(a, '✖ a skip needs a reason')).toContain("Skip 'approval': why?");
    // Typed faster than the screen renders: every key counts.
    for (const ch of 'approved on the phone') a.stdin.write(ch);
    await waitFor(a, 'why? (required, recorded): approved on the phone█');
    await press(a, KEY.enter);
    const f = await waitFor(a, /› 3 \? Announce/);
    expect(f).toMatch(/↷ Approval from a senior/);
    await press(a, 'k');
    expect(await waitFor(a, 'skipped by the operator: approved on the phone')).toBeTruthy();
    const skipped = (await events()).find((e) => e.type === 'step.skipped');
    expect(skipped?.stepId).toBe('approval');
    expect(skipped?.data).toEqual({ reason: 'approved on the phone', by: 'operator' });
  });

  it('abort asks first (no is the default), then for a reason, and closes the session for good', async () => {
    const a = open();
    await start(a, 'walk');
    await waitFor(a, 'WAITING FOR YOU');
    await press(a, 'a');
    expect(await waitFor(a, 'for good? It cannot be resumed afterwards. [y/N]')).toContain('ASK');
    await press(a, 'n');
    await waitFor(a, (f) => !f.includes('[y/N]'));
    expect(frame(a)).toContain('WAITING FOR YOU');
    await press(a, 'a');
    await waitFor(a, '[y/N]');
    await press(a, 'y');
    await waitFor(a, 'Why abort?');
    await type(a, 'release cancelled');
    await press(a, KEY.enter);
    const f = await waitFor(a, '[ABORTED]');
    expect(f).not.toContain('r retry');
    const ev = await events();
    expect(ev.at(-1)).toMatchObject({ type: 'session.finished', data: { outcome: 'aborted', reason: 'release cancelled' } });
    // Nothing to resume: the audit log lists it as aborted.
    const list = cockpit(['--repo', repo.dir, 'audit', 'list', '--json']);
    expect(list.stderr).toBe('');
    expect(JSON.parse(list.stdout)[0].status).toBe('aborted');
  });

  it('a note is recorded on the selected step, with who wrote it, and shown in its detail', async () => {
    const a = open();
    await start(a, 'walk');
    await waitFor(a, 'WAITING FOR YOU');
    await press(a, 'n');
    await waitFor(a, "Note on 'approval'");
    await type(a, 'Sam is on it');
    await press(a, KEY.enter);
    const f = await waitFor(a, 'Notes (1)');
    expect(f).toMatch(/alice: Sam is on it/);
    const note = (await events()).find((e) => e.type === 'note.added');
    expect(note).toMatchObject({ stepId: 'approval', actor: 'alice', data: { text: 'Sam is on it' } });
  });

  it('q while a question is open asks, then leaves the session resumable', async () => {
    const a = open();
    await start(a, 'walk');
    await waitFor(a, 'WAITING FOR YOU');
    await press(a, 'q');
    await waitFor(a, "Quit with 'approval' unanswered?");
    await press(a, 'y');
    await until(() => exitCode !== null);
    expect(sessions[0].exitCode()).toBe(3);
    expect(JSON.parse(cockpit(['--repo', repo.dir, 'audit', 'list', '--json']).stdout)[0].status).toBe('stopped (resumable)');
    // Recorded as the operator's stop, not as a run that waits for a --yes.
    expect((await events()).slice(-2).map((e) => [e.type, e.stepId, (e.data as { reason: string }).reason])).toEqual([
      ['step.interrupted', 'approval', 'stopped by the operator'],
      ['session.paused', 'approval', 'operator'],
    ]);
  });
});

describe('secret parameters', () => {
  it('are typed as dots, reach the commands, are asked again to resume from home, and are known to a retry; never on screen or in the log', async () => {
    let a = open();
    await waitFor(a, 'Checklists (');
    for (let i = 0; i < 20 && !/› secret\b/.test(frame(a)); i++) await press(a, 'j');
    await press(a, KEY.enter);
    await waitFor(a, 'Start Uses a token');
    await type(a, 'tok-3141-5926');
    expect(frame(a)).toMatch(/token\s+•{13}/);
    await press(a, KEY.enter);
    await waitFor(a, 'WAITING FOR YOU');
    await press(a, 'k');
    expect(await waitFor(a, 'token ok')).not.toContain('tok-3141');
    await press(a, 'q');
    await waitFor(a, '[y/N]');
    await press(a, 'y');
    await until(() => exitCode !== null);
    a.unmount();

    exitCode = null;
    a = open();
    let f = await waitFor(a, /stopped \(resumable\)/);
    await press(a, KEY.enter);
    f = await waitFor(a, "needs its secret parameter 'token' again (never stored)");
    await type(a, 'tok-3141-5926');
    expect(frame(a)).toMatch(/again \(never stored\): •{13}█/);
    await press(a, KEY.enter);
    await waitFor(a, 'WAITING FOR YOU');
    await press(a, KEY.enter);
    f = await waitFor(a, '[FAILED]');
    writeFileSync(path.join(repo.dir, 'flag.txt'), 'ok\n');
    await press(a, 'r');
    f = await waitFor(a, '[DONE]');
    expect(f).toContain('all steps done in');
    expect(await waitFor(a, 'again ok')).not.toContain('tok-3141');
    const log = JSON.stringify(await events());
    expect(log).not.toContain('tok-3141');
    expect(log).toContain('[REDACTED]');
  });
});

describe('after a crash', () => {
  it('the home screen lists the killed session first as crashed; enter resumes it: the step it was in is interrupted, and run again once the operator says so', async () => {
    repo.write(
      'checklists/slow.yaml',
      'id: slow\ntitle: Slow one\nsteps:\n  - id: first\n    title: First\n    kind: run\n    run: echo one\n  - id: long\n    title: Long step\n    kind: run\n    run: test -f done.txt || { echo waiting; sleep 30; }\n',
    );
    const child = cockpitAsync(['--repo', repo.dir, 'run', 'slow', '--non-interactive', '--json'], {
      cwd: repo.dir,
      env: { COCKPIT_OPERATOR: 'alice' },
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    // Killed once the long step's command runs (its output is there), as an SSH session that drops mid-step.
    await until(() => jsonLines(out).some((e) => e.type === 'step.output' && e.stepId === 'long'), 'the long step to print', 15_000);
    child.kill('SIGKILL');
    await new Promise((r) => child.on('close', r));
    writeFileSync(path.join(repo.dir, 'done.txt'), 'ok\n');

    const a = open();
    let f = await waitFor(a, /›⚠ \S+\s+slow\s+crashed \(resumable\)/);
    await press(a, KEY.enter);
    // It may have had its effect before the crash (it has no probe): asked before it runs again.
    f = await waitFor(a, 'Run it again?');
    expect(f).toContain("'Long step' was interrupted while it ran");
    await press(a, KEY.enter);
    f = await waitFor(a, '[DONE]');
    expect(f).toContain('resumed 1×');
    expect(f).toMatch(/✔ Long step/);
    const ev = await events();
    const kinds = ev.filter((e) => e.stepId === 'long').map((e) => e.type);
    expect(kinds).toEqual([
      'step.started',
      'step.spawned',
      'step.output',
      'step.interrupted',
      'step.started',
      'step.confirmed',
      'step.spawned',
      'step.passed',
    ]);
    expect(ev.find((e) => e.type === 'step.interrupted')?.data).toMatchObject({
      reason: expect.stringContaining('was still running and was stopped'),
    });
    a.unmount();

    // Replayed at the moment the question was open (after the second start, before the answer): drawn waiting for
    // the answer with the question, as it was live, not running; after the answer, running.
    const asked = ev.findIndex((e) => e.type === 'step.started' && e.stepId === 'long' && e.data.attempt === 2) + 1;
    const r = open({ name: 'replay', sessionId: ev[0].sessionId, events: ev, speed: 1 });
    await waitFor(r, 'REPLAY ▶');
    await press(r, ' ');
    await waitFor(r, 'REPLAY ❚❚');
    for (let i = 1; i < asked; i++) await press(r, KEY.right);
    f = await waitFor(r, `(event ${asked}/${ev.length})`);
    expect(f).toMatch(/› 2 \? Long step/);
    expect(f).toContain('[WAITING]');
    expect(f).toContain("'Long step' was interrupted while it ran");
    await press(r, KEY.right);
    f = await waitFor(r, `(event ${asked + 1}/${ev.length})`);
    expect(f).toMatch(/› 2 ▶ Long step/);
    expect(f).not.toMatch(/› 2 \? Long step/);
    expect(f).not.toContain('[WAITING]');
  });
});

describe('the home screen', () => {
  it('shows the release calendar from the config: the next release, when its freeze starts, the messages due before it', async () => {
    // The next release in 12 h: its 24 h freeze began 12 h ago; the announcement was due 36 h ago and the maintenance
    // window 12 h ago, neither sent (test/tui/home-due.test.tsx: sent).
    const anchor = new Date(Date.now() + 12 * 3_600_000 - 14 * 24 * 3_600_000).toISOString();
    repo.write('cockpit.config.yaml', `release:\n  schedule: {every: 14d, anchor: "${anchor}"}\n`);
    const a = open();
    const f = await waitFor(a, 'Release ');
    expect(f).toMatch(/^Release \w{3} \d{1,2} \w{3} \d{2}:\d{2} UTC \(in 12h\) · freeze \w{3} \d{2}:\d{2} \(12h ago\)$/m);
    expect(f).toMatch(
      /^announcement due \w{3} \d{2}:\d{2} UTC, 36 h ago, not sent \(overdue\) · maintenance window due \w{3} \d{2}:\d{2}$/m,
    );
  });

  it('/ filters both lists, esc shows all again; a checklist that does not load is marked and cannot be started', async () => {
    repo.write('checklists/broken.yaml', 'id: broken\ntitle: Broken one\nsteps:\n  - id: a\n    title: A\n    kind: teleport\n');
    const a = open();
    let f = await waitFor(a, /broken\s+✖ does not load Broken one/);
    expect(f).toMatch(/Checklists \(14\)/);
    await press(a, '/');
    await waitFor(a, 'Filter as you type');
    // The lists follow each key typed, before enter.
    await type(a, 'WA');
    f = await waitFor(a, "matching 'WA'");
    expect(f).toContain('Filter as you type (↵ keeps it, esc puts back the one before): WA█');
    await type(a, 'LK');
    f = await waitFor(a, "Checklists (1 of 14 matching 'WALK')");
    await press(a, KEY.enter);
    f = await waitFor(a, (x) => x.includes("Checklists (1 of 14 matching 'WALK')") && !x.includes('Filter as you type'));
    expect(f).toMatch(/› walk\s+Walk through/);
    expect(f).not.toContain('Broken one');
    expect(f).toContain('HOME /WALK');
    await press(a, KEY.esc);
    await settle();
    f = await waitFor(a, 'Checklists (14)');
    await press(a, 'g');
    f = await waitFor(a, /› broken/);
    await press(a, KEY.enter);
    expect(await waitFor(a, 'broken does not load: broken.yaml:6:')).toMatch(/teleport/);
  });
});

describe('the help overlay', () => {
  it('? opens every key of the screen (from the keymap), esc closes it and the screen is as it was', async () => {
    const a = open();
    await waitFor(a, 'Checklists (');
    await press(a, 'j', 'j');
    const before = frame(a);
    await press(a, '?');
    const f = await waitFor(a, 'Keys');
    expect(f).toContain('start the selected checklist (asks its parameters), or resume the selected session');
    expect(f).toMatch(/q\/ctrl-c\s+quit/);
    expect(f).toContain('HELP');
    await press(a, KEY.esc);
    await settle();
    await waitFor(a, (x) => !x.includes('HELP'));
    expect(frame(a)).toBe(before);
  });
});

describe('the parameter form', () => {
  it('refuses a bad value with the reason and starts nothing until it is fixed', async () => {
    const a = open();
    await waitFor(a, 'Checklists (');
    for (let i = 0; i < 20 && !/› form\b/.test(frame(a)); i++) await press(a, 'j');
    await press(a, KEY.enter);
    let f = await waitFor(a, 'Start With parameters');
    expect(f).toMatch(/› version\s+█\s+required · a version like 2.4.0/);
    expect(f).toMatch(/environment\s+staging\s+one of staging \| production/);
    // Required and empty.
    await press(a, KEY.enter);
    f = await waitFor(a, '✖ version is required');
    expect(f).toContain('1 value(s) to fix before form can start');
    for (const ch of 'two') a.stdin.write(ch);
    await waitFor(a, /› version\s+two█/);
    await press(a, KEY.enter);
    f = await waitFor(a, "✖ parameter 'version' expects a semantic version like 2.3.1");
    expect((await events()).length).toBe(0);
    await press(a, KEY.backspace, KEY.backspace, KEY.backspace);
    await type(a, '2.4.0');
    await press(a, KEY.down, KEY.right);
    expect(frame(a)).toMatch(/environment\s+production/);
    await press(a, KEY.enter);
    f = await waitFor(a, '[DONE]');
    expect(f).toContain('version=2.4.0 environment=production');
    await press(a, 'k');
    expect(await waitFor(a, 'releasing 2.4.0 to production')).toBeTruthy();
  });
});

describe('the replay screen', () => {
  it('plays the stored events through the same screen: space pauses, ←/→ step one event, g/G seek, markers on the timeline', async () => {
    expect(
      cockpit(['--repo', repo.dir, 'run', 'walk', '--non-interactive', '--yes', 'approval,announce'], {
        env: { COCKPIT_OPERATOR: 'alice' },
      }).code,
    ).toBe(1);
    const ws = new Workspace({ repo: repo.dir });
    const store = await ws.openStore();
    const [s] = await store.listSessions(1);
    expect(cockpit(['--repo', repo.dir, 'note', s.id, 'flag.txt belongs to the ops team'], { env: { COCKPIT_OPERATOR: 'bob' } }).code).toBe(
      0,
    );
    const ev = await store.readEvents(s.id);
    const n = ev.length;
    const a = open({ name: 'replay', sessionId: s.id, events: ev, speed: 1 });
    let f = await waitFor(a, 'REPLAY');
    expect(f).toMatch(/REPLAY ▶ 1×/);
    await press(a, ' ');
    f = await waitFor(a, 'REPLAY ❚❚');
    await press(a, 'g');
    f = await waitFor(a, `(event 1/${n})`);
    expect(f).toMatch(/· Build/);
    await press(a, KEY.right, KEY.right);
    f = await waitFor(a, `(event 3/${n})`);
    expect(f).toMatch(/▶ Build/);
    await press(a, KEY.left);
    await waitFor(a, `(event 2/${n})`);
    await press(a, 'G');
    f = await waitFor(a, `(event ${n}/${n})`);
    expect(f).toMatch(/✖ Needs the flag file/);
    expect(f).toMatch(/✔ Approval from a senior/);
    expect(f).toMatch(/Session notes \(1\)\s*│?\s*\n.*bob: flag.txt belongs to the ops team/);
    // Timeline markers: the approval by flag, then the failure (adjacent cells when the run was quick).
    expect(f).toMatch(/✓[^\n]*✖/);
    // The note is the last event; [ goes back marker by marker: the failure, then the approval before it.
    expect(f).toMatch(/last marker: ✎ .*flag.txt belongs to the ops team/);
    await press(a, '[');
    f = await waitFor(a, /last marker: ✗ flaky failed/);
    expect(f).toContain(`(event ${n - 2}/${n})`);
    await press(a, '[');
    f = await waitFor(a, /last marker: ✓ announce confirmed by alice/);
    await press(a, '+', '+');
    expect(await waitFor(a, /REPLAY ❚❚ 5×/)).toBeTruthy();
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, cockpit, tempRepo } from '../helpers/cli.js';
import { Tmux } from '../helpers/tmux.js';

const tmuxOk = Tmux.available();
if (!tmuxOk.ok && process.env.CI === 'true') throw new Error(`CI needs a real terminal for these tests: ${tmuxOk.why}`);

const CHECKLIST = `id: walk
title: Walk through
steps:
  - id: build
    title: Build
    kind: run
    run: echo building; sleep 0.2; echo built
  - id: approval
    title: Approval from a senior developer
    kind: confirm
    prompt: Has a senior developer approved?
    help: Ask a senior developer to review the release notes.
  - id: announce
    title: Announce
    kind: confirm
  - id: wait
    title: Long wait
    kind: run
    run: echo waiting; sleep 30
`;

describe.skipIf(!tmuxOk.ok)(`in a real terminal (tmux)${tmuxOk.ok ? '' : ` (skipped: ${tmuxOk.why})`}`, () => {
  let repo: ReturnType<typeof tempRepo>;
  let term: Tmux | undefined;
  beforeEach(() => {
    repo = tempRepo({ walk: CHECKLIST });
  });
  afterEach(() => {
    term?.kill();
    repo.cleanup();
  });

  it('--plain asks on the line at each confirmation: yes with a note, skip with a required reason; Ctrl-C stops the running step, exit 3, resumable', async () => {
    term = new Tmux(`${process.execPath} ${BIN} --repo ${repo.dir} run walk --plain`, {
      cwd: repo.dir,
      env: { NO_COLOR: '1', COCKPIT_OPERATOR: 'alice' },
    });
    await term.waitForText('Has a senior developer approved? [y]es / [s]kip / [a]bort / [q]uit for now:');
    expect(term.screen()).toContain('Ask a senior developer to review the release notes.');
    expect(term.screen()).toContain('│ built');
    term.type('y');
    term.send('Enter');
    await term.waitForText('note (optional');
    term.type('Sam approved in #releases');
    term.send('Enter');
    await term.waitForText('Done: Announce?');
    term.type('s');
    term.send('Enter');
    await term.waitForText('why skip it? (required):');
    term.send('Enter');
    await term.waitForText('a skip needs a reason.');
    await term.waitFor((s) => (s.match(/Done: Announce\?/g) ?? []).length === 2, 'the question again');
    term.type('s');
    term.send('Enter');
    await term.waitFor((s) => (s.match(/why skip it\?/g) ?? []).length === 2, 'the reason prompt again');
    term.type('announced by marketing');
    term.send('Enter');
    await term.waitForText('│ waiting');
    term.send('C-c');
    const code = await term.waitForExit();
    expect(code).toBe(3);
    expect(term.screen()).toMatch(/stopped by the operator; the session can be resumed/);

    const list = JSON.parse(cockpit(['--repo', repo.dir, 'audit', 'list', '--json']).stdout);
    expect(list[0].status).toBe('stopped (resumable)');
    const show = cockpit(['--repo', repo.dir, 'audit', 'show', list[0].id]).stdout;
    expect(show).toMatch(/step 'approval' confirmed by alice \(at the prompt\): Sam approved in #releases/);
    expect(show).toMatch(/step 'announce' skipped by the operator: announced by marketing/);
    expect(show).toMatch(/step 'wait' interrupted: stopped by the operator/);
  });

  it('--plain, in colour: the live progress shows its colours as colours, not as escaped sequences', async () => {
    term = new Tmux(`env -u NO_COLOR ${process.execPath} ${BIN} --repo ${repo.dir} run walk --plain --yes approval,announce`, {
      cwd: repo.dir,
      env: { TERM: 'xterm-256color', COCKPIT_OPERATOR: 'alice' },
    });
    await term.waitForText('│ waiting');
    const screen = term.screen();
    expect(screen).toContain('✔ passed');
    expect(screen).not.toContain('␛');
    term.send('C-c');
    expect(await term.waitForExit()).toBe(3);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, cockpit, tempRepo } from '../helpers/cli.js';
import { columns, frameProblem, rows, Tmux } from '../helpers/tmux.js';

// The full-screen cockpit (Ink) in a real terminal: `cockpit demo` in a tmux pane, driven by keys, read by capture-pane.

const tmuxOk = Tmux.available();
if (!tmuxOk.ok && process.env.CI === 'true') throw new Error(`CI needs a real terminal for these tests: ${tmuxOk.why}`);

const TITLE = 'Demo release of the Property app';

const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The column of the step list's divider on the row of step `n`. */
function dividerColumn(screen: string, n: number): number {
  const row = rows(screen).find((l) => new RegExp(`^[ ›▸]\\s*${n} `).test(l));
  return row === undefined ? -1 : [...row].indexOf('│');
}

describe.skipIf(!tmuxOk.ok)(`the full-screen cockpit in a real terminal (tmux)${tmuxOk.ok ? '' : ` (skipped: ${tmuxOk.why})`}`, () => {
  let tmp: string;
  let dir: string;
  let term: Tmux | undefined;
  /** Every screen seen while the frame is up, with what was wrong with it. */
  let problems: string[];

  beforeEach(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'cockpit-screens-'));
    dir = path.join(tmp, 'demo');
    problems = [];
  });
  afterEach(() => {
    term?.kill();
    term = undefined;
    rmSync(tmp, { recursive: true, force: true });
  });

  function startDemo(): Tmux {
    term = new Tmux(`${process.execPath} ${BIN} demo --no-services --dir ${dir}`, {
      cwd: tmp,
      env: { NO_COLOR: '1', COCKPIT_OPERATOR: 'alice', HOME: tmp },
      width: 100,
      height: 30,
    });
    return term;
  }

  /**
   * Wait for a screen of the 100x30 pane. Every screen polled on the way must fit (never a row past the 29th, never a
   * row too wide); the one waited for must also end with the status bar.
   */
  async function until(pred: (s: string) => boolean, what: string): Promise<string> {
    let s = await term!.waitFor((x) => {
      const p = frameProblem(x, 100, 30, { statusBar: false });
      if (p && !problems.some((y) => y.startsWith(p))) problems.push(`${p} — while waiting for ${what}:\n${x}`);
      return pred(x);
    }, what);
    // The status bar is checked on the settled screen, still showing what was waited for.
    s = await term!.settled(s);
    expect(pred(s), `${what}, once the screen settled:\n${s}`).toBe(true);
    expect(frameProblem(s, 100, 30), s).toBeNull();
    return s;
  }

  /** Home (nothing recorded yet) → Enter on the demo checklist → the form → Enter: the session waits at `freeze`. */
  async function startAtFreeze(): Promise<string> {
    let s = await until(
      (x) => x.includes(' Checklists (') && /^› demo\s+Demo release/m.test(x),
      'the home screen with the demo checklist selected',
    );
    // No sessions yet: the home focuses the checklist list, the first row (the repo's own `demo`) selected.
    expect(s).toContain('no sessions yet');
    expect(s).toMatch(new RegExp(`^› demo\\s+${TITLE}\\s+\\(version, environment\\) · this repo$`, 'm'));
    expect(s).toMatch(/HOME\s+↵ start\/resume\s+tab switch list\s+\/ filter\s+\? help\s+q quit/);
    expect(s).not.toMatch(/r replay/); // no session to replay
    term!.send('Enter');

    s = await until((x) => x.includes(`Start ${TITLE} [demo]`), 'the parameter form');
    expect(s).toMatch(/^› version\s+1\.4\.0█/m);
    expect(s).toMatch(/^\s+environment\s+staging\s+one of staging \| production/m);
    expect(s).toMatch(/FORM\s+↵ start/);
    term!.send('Enter');

    s = await until((x) => x.includes('[WAITING FOR YOU]') && x.includes('? Is develop frozen?'), 'the session to wait at freeze');
    return s;
  }

  it(
    'demo: home → form → the session runs clean-tree, asks at freeze (↵ confirms), runs tests; q + y quits: exit 3, resumable, all in the audit log',
    { timeout: 60_000 },
    async () => {
      startDemo();
      let s = await startAtFreeze();
      expect(s).toContain(`[WAITING FOR YOU] ${TITLE} [demo] version=1.4.0 environment=staging`);
      expect(s).toMatch(/operator alice · env staging/);
      // The step list: clean-tree passed (its title is cut to make room for its duration), freeze asks.
      expect(s).toMatch(/^\s+1 ✔ Check the work tr/m);
      expect(s).toMatch(/^› 2 \? Code freeze on develop/m);
      // The detail pane: the question and what the keys do.
      expect(s).toContain('Code freeze on develop  [freeze] (confirm)');
      expect(s).toContain('waiting for your answer');
      expect(s).toMatch(/CONFIRM\s+↵ confirm\s+s skip\s+n note\s+a abort\s+\? help\s+q quit/);

      // ↑ selects step 1: its detail (the whole title, passed) and its output; ↓ back to the question.
      term!.send('Up');
      s = await until((x) => x.includes('Check the work tree is clean  [clean-tree] (run)'), 'the detail of clean-tree');
      expect(s).toMatch(/^› 1 ✔ Check the work tr/m);
      expect(s).toMatch(/│ passed · exit 0$/m);
      expect(s).toMatch(/│ run: git status --short --untracked-files=no && test/);
      expect(s).toContain('[WAITING FOR YOU]'); // selecting another step answers nothing
      term!.send('Down');
      s = await until((x) => /^› 2 \? Code freeze on develop/m.test(x) && x.includes('? Is develop frozen?'), 'freeze selected again');
      term!.send('Enter');

      // Tests run: caught while its output arrives (it takes ~1 s), or just after it passed.
      s = await until(
        (x) => (/▶ Run the test suite/.test(x) && /│ ok - listings/.test(x)) || /✔ Run the test suite/.test(x),
        'the tests step to run (its output) or to have passed',
      );
      expect(s).toMatch(/^\s+2 ✔ Code freeze on develop/m);
      term!.send('q');

      // q asks in the message line: "A step is running. Stop it and quit? …" while tests (or a later step) runs, or
      // "Quit with 'announce' unanswered? …" if the session already reached the last confirmation.
      s = await until((x) => /Stop it and quit\?|unanswered\?/.test(x), 'the quit question');
      expect(s).toMatch(
        /^(A step is running\. Stop it and quit\?|Quit with 'announce' unanswered\?) The session stays resumable.*\[y\/N\]$/m,
      );
      expect(s).toMatch(/ASK\s+y yes\s+n no/);
      term!.send('y');

      expect(await term!.waitForExit()).toBe(3);
      // Off the alternate screen: the shell shows what happened, in words (rows the pane wrapped are joined).
      const after = term!.screen({ joined: true });
      const m = new RegExp(
        `^session (\\S+) \\(${TITLE}\\) stopped \\((\\w+)\\); continue it with: npx cockpit --repo ${reEscape(dir)} resume (\\S+)$`,
        'm',
      ).exec(after);
      expect(m, after).not.toBeNull();
      const [, id, status, resumeId] = m!;
      expect(resumeId).toBe(id);
      expect(['interrupted', 'waiting']).toContain(status);
      expect(after).toContain(`what happened: npx cockpit --repo ${dir} audit show ${id}`);
      expect(after).toContain(`Made the demo sandbox in ${dir}`);
      expect(after).not.toContain('[WAITING FOR YOU]'); // the frame went with the alternate screen
      expect(problems).toEqual([]);

      // The audit log, through the CLI.
      const list = cockpit(['--repo', dir, 'audit', 'list', '--json']);
      expect(list.code).toBe(0);
      const sessions = JSON.parse(list.stdout) as Array<Record<string, string>>;
      expect(sessions).toHaveLength(1);
      expect(sessions[0]).toMatchObject({ id, checklist: 'demo', operator: 'alice', params: 'version=1.4.0 environment=staging' });
      expect(sessions[0].status).toContain('resumable');

      const show = cockpit(['--repo', dir, 'audit', 'show', id]);
      expect(show.code).toBe(0);
      expect(show.stdout).toMatch(/step 'clean-tree' passed, exit 0/);
      expect(show.stdout).toMatch(/step 'freeze' confirmed by alice \(at the prompt\)/);
      expect(show.stdout).toMatch(/step 'tests' (interrupted: stopped by the operator|passed, exit 0)/);
      expect(show.stdout).toMatch(/^Outcome:\s+.*resumable/m);
      if (status === 'interrupted') expect(show.stdout).toMatch(/session paused \(operator\): stopped by the operator/);

      const verify = cockpit(['--repo', dir, 'audit', 'verify']);
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
      expect(verify.stdout).toContain('audit log intact');
    },
  );

  it(
    'the frame fits the terminal and follows it when resized; below 60x16 it says the terminal is too small',
    { timeout: 60_000 },
    async () => {
      startDemo();
      let s = await startAtFreeze();
      expect(frameProblem(s, 100, 30)).toBeNull();
      expect(rows(s).length).toBeLessThanOrEqual(30);
      // The step list is as wide as its longest title with a duration needs (6 Approval from a senior developer).
      expect(dividerColumn(s, 1)).toBe(46);

      term!.resize(70, 20);
      // Re-laid out, not cropped: the status bar is the last row drawn again, and the step list is narrower (the
      // detail pane keeps 45% of the width, and at least 34 columns).
      s = await term!.waitFor((x) => frameProblem(x, 70, 20) === null && dividerColumn(x, 1) === 34, 'the frame re-laid out for 70x20');
      expect(rows(s).length).toBeLessThanOrEqual(20);
      expect(rows(s).every((l) => columns(l) <= 70)).toBe(true);
      expect(rows(s)[0]).toMatch(/^\[WAITING FOR YOU\] Demo release of the Property app .*…$/); // cut to the width
      expect(s).toContain('? Is develop frozen?');
      expect(s).toMatch(/CONFIRM\s+↵ confirm/);

      term!.resize(50, 12);
      s = await term!.waitForText('terminal too small: 50x12');
      expect(s).toContain('needs at least 60x16');
      expect(s).toContain('q quits');
      expect(rows(s).every((l) => columns(l) <= 50)).toBe(true);
      // Keys still work while the frame is hidden, and a question asked there is seen.
      term!.send('q');
      s = await term!.waitForText("Quit with 'freeze' unanswered?");
      term!.send('n');
      await term!.waitFor((x) => !x.includes('unanswered?'), 'the question to close');

      term!.resize(100, 30);
      s = await term!.waitFor((x) => frameProblem(x, 100, 30) === null && dividerColumn(x, 1) === 46, 'the frame back at 100x30');
      expect(s).toContain('? Is develop frozen?');

      term!.send('q');
      await term!.waitForText("Quit with 'freeze' unanswered?");
      term!.send('y');
      expect(await term!.waitForExit()).toBe(3);
    },
  );
});

describe('without a terminal', () => {
  let repo: ReturnType<typeof tempRepo>;
  beforeEach(() => {
    repo = tempRepo();
  });
  afterEach(() => repo.cleanup());

  it('`cockpit` (the home screen) exits 2, saying it needs a terminal and how to work without one', () => {
    const r = cockpit(['--repo', repo.dir]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^cockpit: the cockpit needs a terminal \(stdin and stdout must be a TTY; here stdin is not\)/);
    expect(r.stderr).toContain('--non-interactive');
    expect(r.stderr).toContain(`cockpit --repo ${repo.dir} audit show <session>`);
  });

  it('`cockpit replay x` exits 2, pointing at audit show', () => {
    const r = cockpit(['--repo', repo.dir, 'replay', 'x']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^cockpit: cockpit replay needs a terminal \(stdin and stdout must be a TTY; here stdin is not\)/);
    // Runnable where it is printed: the cockpit runs outside that repository, so the command names it.
    expect(r.stderr).toContain(`cockpit --repo ${repo.dir} audit show x`);
  });
});

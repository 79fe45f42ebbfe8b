import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import semver from 'semver';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { lastRelease } from '../../src/adapters/git.js';
import { planRelease } from '../../src/app/suggest.js';
import { ensureSandbox } from '../../src/demo/sandbox.js';
import { BIN, cockpit } from '../helpers/cli.js';
import { frameProblem, Tmux } from '../helpers/tmux.js';

// Forms wherever parameters are missing: `hotfix`, `run <checklist>` and `release` picked on the home screen open
// the parameter form in a real terminal (tmux), with the versions suggested from the demo sandbox's git history.
// Without a terminal, or with --non-interactive, a missing parameter is still bad usage (exit 2) said in a sentence.

const tmuxOk = Tmux.available();
if (!tmuxOk.ok && process.env.CI === 'true') throw new Error(`CI needs a real terminal for these tests: ${tmuxOk.why}`);

let tmp: string;
let dir: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'cockpit-forms-'));
  dir = path.join(tmp, 'demo');
  ensureSandbox(dir, false);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe.skipIf(!tmuxOk.ok)(`the parameter form in a real terminal (tmux)${tmuxOk.ok ? '' : ` (skipped: ${tmuxOk.why})`}`, () => {
  let term: Tmux | undefined;
  afterEach(() => {
    term?.kill();
    term = undefined;
  });

  const open = (args: string) => {
    term = new Tmux(`${process.execPath} ${BIN} --repo ${dir} ${args}`, {
      cwd: tmp,
      env: { NO_COLOR: '1', COCKPIT_OPERATOR: 'alice', HOME: tmp },
      width: 100,
      height: 30,
    });
    return term;
  };
  const until = async (pred: (s: string) => boolean, what: string) => {
    const s = await term!.settled(await term!.waitFor(pred, what));
    expect(frameProblem(s, 100, 30), s).toBeNull();
    return s;
  };

  it('`cockpit hotfix` without the issue opens the form: the next patch of the release on main filled in, the issue asked; enter starts the hotfix', async () => {
    const main = (await lastRelease(dir, 'main'))!;
    const next = semver.inc(main.version, 'patch')!;
    open('hotfix');
    let s = await until((x) => x.includes('[hotfix]') && x.includes('suggested:'), 'the hotfix form with its suggestion');
    // The version is suggested, so the cursor waits on the issue, the one field left to type.
    expect(s).toMatch(new RegExp(`^\\s+version\\s+${reEscape(next)}\\s+required`, 'm'));
    expect(s).toContain(`suggested: the next patch of ${main.tag}, the release on main`);
    expect(s).toMatch(/^› issue\s+█\s+required/m);
    term!.send('Enter');
    s = await until((x) => x.includes('issue is required'), 'the form refusing to start without the issue');
    term!.type('PROP-42');
    await until((x) => /^› issue\s+PROP-42█/m.test(x), 'the issue typed');
    term!.send('Enter');
    s = await until((x) => x.includes('Is this a critical production issue'), 'the hotfix session asking its first question');
    expect(s).toContain(`version=${next}`);
    expect(s).toContain('issue=PROP-42');
    term!.send('q');
    await until((x) => x.includes('The session stays resumable. [y/N]'), 'the question whether to quit');
    term!.send('y');
    expect(await term!.waitForExit()).toBe(3);
  });

  it('`cockpit run deploy-production` without -p opens the form with the release on main filled in, not exit 2', async () => {
    const main = (await lastRelease(dir, 'main'))!;
    open('run deploy-production');
    const s = await until((x) => x.includes('[deploy-production]') && x.includes('suggested:'), 'the deploy form with its suggestion');
    expect(s).toMatch(new RegExp(`^› version\\s+${reEscape(main.version)}█`, 'm'));
    expect(s).toContain(`suggested: ${main.tag}, the newest release tag on main`);
    term!.send('Escape'); // cancel: the home screen
    await until((x) => x.includes(' Checklists ('), 'the home screen');
    term!.send('q');
    expect(await term!.waitForExit()).toBe(0);
  });

  it('`cockpit deploy staging` without the version opens the deploy-staging form with its suggestion, as run does', async () => {
    const main = (await lastRelease(dir, 'main'))!;
    open('deploy staging');
    const s = await until((x) => x.includes('[deploy-staging]') && x.includes('suggested:'), 'the staging deploy form');
    expect(s).toMatch(new RegExp(`^› version\\s+${reEscape(main.version)}█`, 'm'));
    term!.send('Escape');
    await until((x) => x.includes(' Checklists ('), 'the home screen');
    term!.send('q');
    expect(await term!.waitForExit()).toBe(0);
  });

  it('`release` picked on the home screen offers the version the commits suggest, with its reason', async () => {
    const plan = await planRelease(dir);
    expect(plan.suggestion.version).not.toBeNull();
    open('');
    // Tab moves to the checklists when the sessions list has the focus (the other tests left sessions); then down.
    let s = await until((x) => x.includes(' Checklists ('), 'the home screen');
    if (/^›.*\d{8}-\d{6}-/m.test(s)) {
      term!.send('Tab');
      s = await until((x) => /^› demo\s/m.test(x), 'the checklists list focused');
    }
    for (let i = 0; i < 20 && !/^› release\s/m.test(s); i++) {
      const before = s;
      term!.send('Down');
      s = await until((x) => x !== before, 'the selection to move');
    }
    expect(s).toMatch(/^› release\s/m);
    term!.send('Enter');
    s = await until((x) => x.includes('[release]') && x.includes('suggested:'), 'the release form with its suggestion');
    expect(s).toMatch(new RegExp(`^› version\\s+${reEscape(plan.suggestion.version!)}█`, 'm'));
    expect(s).toContain(`suggested: from ${plan.commits} commit(s) since ${plan.last!.tag}:`);
  });

  it('the form keeps what the command line gave: the other -p values filled in, --yes confirming its steps', async () => {
    writeFileSync(
      path.join(dir, 'checklists', 'ask.yaml'),
      'id: ask\ntitle: Ask twice\nparams:\n  version: {type: semver, required: true}\n  note: {type: string}\nsteps:\n' +
        '  - {id: approve, title: Approve, kind: confirm, prompt: "Approve v${version}?"}\n' +
        '  - {id: check, title: Check, kind: confirm, prompt: "Checked v${version}?"}\n',
    );
    open('run ask -p note=from-the-flag --yes approve');
    let s = await until((x) => x.includes('[ask]'), 'the form of ask');
    expect(s).toMatch(/^\s+note\s+from-the-flag/m);
    term!.type('2.0.1');
    await until((x) => /^› version\s+2\.0\.1█/m.test(x), 'the version typed');
    term!.send('Enter');
    // approve is confirmed by the flag; check asks.
    s = await until((x) => x.includes('Checked v2.0.1?'), 'the second question, the first confirmed by --yes');
    expect(s).toMatch(/1 ✔ Approve/);
    expect(s).toContain('note=from-the-flag');
  });

  it('`cockpit run deploy-production --non-interactive` in a terminal still exits 2, naming the missing parameter', async () => {
    open('run deploy-production --non-interactive');
    expect(await term!.waitForExit()).toBe(2);
    expect(term!.screen({ joined: true })).toContain("missing required parameter 'version'");
  });
});

describe('without a terminal', () => {
  it('`cockpit run deploy-production` without -p exits 2 with a sentence naming the parameter and how to give it', () => {
    const r = cockpit(['--repo', dir, 'run', 'deploy-production']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "deploy-production: missing required parameter 'version' (Version being deployed, e.g. 2.3.1): pass -p version=…",
    );
  });

  it('`cockpit hotfix` without the issue exits 2 saying how to give it', () => {
    const r = cockpit(['--repo', dir, 'hotfix']);
    expect(r.code).toBe(2);
    // (Printed from elsewhere: the commands carry --repo.)
    expect(r.stderr).toContain(`a hotfix needs the issue id of the production problem: cockpit --repo ${dir} hotfix <issue> [X.Y.Z]`);
  });
});

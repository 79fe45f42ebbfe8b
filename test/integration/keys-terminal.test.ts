import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { frameProblem, rows, Tmux } from '../helpers/tmux.js';

// Keys as a real terminal delivers them: tmux writes `send-keys -l jjjj` to the program in one write, so the
// cockpit reads the four keys as one chunk (Ink hands such a chunk to useInput as one string).

const tmuxOk = Tmux.available();
if (!tmuxOk.ok && process.env.CI === 'true') throw new Error(`CI needs a real terminal for these tests: ${tmuxOk.why}`);

/** The row of the checklist list that is selected, counted from the list's first row. */
function selectedChecklist(screen: string): number {
  const lines = rows(screen);
  const head = lines.findIndex((l) => l.startsWith(' Checklists ('));
  return lines.slice(head + 1).findIndex((l) => l.startsWith('›'));
}

/** The number of the step selected in the step list. */
function selectedStep(screen: string): number {
  const m = /^› (\d+) /m.exec(screen);
  return m ? Number(m[1]) : -1;
}

describe.skipIf(!tmuxOk.ok)(`keys in a real terminal (tmux)${tmuxOk.ok ? '' : ` (skipped: ${tmuxOk.why})`}`, () => {
  let tmp: string;
  let term: Tmux | undefined;

  beforeEach(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'cockpit-keys-'));
  });
  afterEach(() => {
    term?.kill();
    term = undefined;
    rmSync(tmp, { recursive: true, force: true });
  });

  function demo(width = 100, height = 30): Tmux {
    term = new Tmux(`${process.execPath} ${BIN} demo --no-services --dir ${path.join(tmp, 'demo')}`, {
      cwd: tmp,
      env: { NO_COLOR: '1', COCKPIT_OPERATOR: 'alice', HOME: tmp },
      width,
      height,
    });
    return term;
  }

  it(
    'jjjj in one write moves the selection four rows on home and in the step list; a burst of erases and a paste reach a form field whole, q and ? typed there are text',
    { timeout: 60_000 },
    async () => {
      const t = demo();
      let s = await t.waitFor((x) => /^› demo\s+Demo release/m.test(x), 'the home screen, demo selected');
      expect(selectedChecklist(s)).toBe(0);
      // The keys are drawn one after another: wait for the fourth row, then see it stays there.
      t.type('jjjj');
      s = await t.waitFor((x) => selectedChecklist(x) === 4, 'the selection to move four rows');
      await new Promise((r) => setTimeout(r, 300));
      expect(selectedChecklist(t.screen())).toBe(4);
      t.type('kkkk');
      await t.waitFor((x) => selectedChecklist(x) === 0, 'the selection to move back four rows');

      // The form: the version field has 1.4.0; five erases in one write empty it, a paste fills it whole.
      t.send('Enter');
      await t.waitFor((x) => /^› version\s+1\.4\.0█/m.test(x), 'the parameter form');
      t.send('BSpace', 'BSpace', 'BSpace', 'BSpace', 'BSpace');
      await t.waitFor((x) => /^› version\s+█/m.test(x), 'the version field to be empty');
      t.type('2.0.0-rc.1');
      s = await t.settled(await t.waitFor((x) => /^› version\s+2\.0\.0-rc\.1█/m.test(x), 'the pasted version'));
      // In a text field q and ? are typed, not quit and help: the bar says ctrl-c quits and F1 opens the help.
      t.type('q?');
      s = await t.settled(await t.waitFor((x) => /^› version\s+2\.0\.0-rc\.1q\?█/m.test(x), 'q? typed into the field'));
      expect(s).toMatch(/FORM\s+↵ start\s+↓ next field\s+esc cancel\s+F1 help\s+ctrl-c quit/);
      expect(t.exitStatus()).toBeNull();
      t.send('F1');
      s = await t.settled(await t.waitForText('Everywhere'));
      expect(s).toMatch(/F1\s+show every key of this screen/);
      t.send('Escape');
      await t.waitFor(
        (x) => !x.includes('Everywhere') && /^› version\s+2\.0\.0-rc\.1q\?█/m.test(x),
        'the help closed, the field as it was',
      );
      t.send('BSpace', 'BSpace');
      await t.waitFor((x) => /^› version\s+2\.0\.0-rc\.1█/m.test(x), 'q? erased');
      t.send('Enter');

      // The step list: the session waits at step 2 (freeze); jjjj in one write selects step 6.
      s = await t.waitFor((x) => x.includes('? Is develop frozen?'), 'the session to wait at freeze');
      s = await t.settled(s);
      expect(selectedStep(s)).toBe(2);
      t.type('jjjj');
      s = await t.waitFor((x) => selectedStep(x) === 6, 'the step selection to move four rows');
      await new Promise((r) => setTimeout(r, 300));
      s = await t.settled(t.screen());
      expect(selectedStep(s)).toBe(6);
      expect(s).toContain('2.0.0-rc.1'); // the pasted version is the session's parameter
      expect(frameProblem(s, 100, 30)).toBeNull();

      t.send('q');
      await t.waitForText("Quit with 'freeze' unanswered?");
      t.send('y');
      expect(await t.waitForExit()).toBe(3);
    },
  );

  it(
    'the help overlay fits a 160x50 terminal whole; quitting the demo from home, nothing running, exits 0',
    { timeout: 60_000 },
    async () => {
      const t = demo(160, 50);
      await t.waitFor((x) => /^› demo\s+Demo release/m.test(x), 'the home screen');
      t.send('Enter');
      await t.waitFor((x) => x.includes('FORM'), 'the form');
      t.send('Enter');
      await t.waitFor((x) => x.includes('? Is develop frozen?'), 'the session to wait at freeze');
      t.type('?');
      const s = await t.settled(await t.waitForText('Everywhere'));
      expect(s).not.toMatch(/lines \d+-\d+ of/);
      expect(s).toMatch(/q\/ctrl-c\s+quit \(asks while a step runs; the next step waits for the answer\)/);
      expect(s).toMatch(/HELP\s+esc close\s+ctrl-c quit/);
      t.send('Escape');
      await t.waitFor((x) => !x.includes('Everywhere'), 'the help to close');
      // In the smallest terminal the keys do not fit: the help says which lines it shows and scrolls with ↓/↑.
      t.resize(60, 16);
      await t.waitFor((x) => x.includes('? Is develop frozen?'), 'the frame at 60x16');
      t.type('?');
      let small = await t.settled(await t.waitFor((x) => /Keys \(lines 1-\d+ of \d+; ↓\/↑ scroll\)/.test(x), 'the help, scrollable'));
      expect(small).toMatch(/HELP\s+esc close\s+↓\/↑ scroll\s+ctrl-c quit/);
      const [, shown, total] = /lines 1-(\d+) of (\d+)/.exec(small)!;
      t.type('jjj');
      small = await t.waitFor((x) => x.includes(`lines 4-${Number(shown) + 3} of ${total}`), 'the help to scroll three lines');
      t.send('Escape');
      t.resize(160, 50);
      await t.waitFor((x) => !x.includes('Keys') && x.includes('? Is develop frozen?'), 'the help to close');
      // The quit question does not offer quit again (it would only ask again).
      t.type('q');
      small = await t.settled(await t.waitForText("Quit with 'freeze' unanswered?"));
      expect(small).toMatch(/ASK\s+y yes\s+n no\s+\? help$/m);
      t.type('n');
      await t.waitFor((x) => !x.includes('unanswered?'), 'the question to close');
      // Abort the session (nothing runs then), go home, quit: 0.
      t.type('a');
      await t.waitForText('Abort session');
      t.type('y');
      await t.waitForText('Why abort?');
      t.type('demo over');
      t.send('Enter');
      await t.waitForText('[ABORTED]');
      t.send('Escape');
      await t.waitFor((x) => x.includes(' Checklists ('), 'the home screen again');
      t.type('q');
      expect(await t.waitForExit()).toBe(0);
    },
  );
});
